"""A local folder as storage (`file://./public`): for previews, the demo and tests.

Objects are written to a temp file beside the target and renamed into place, so a reader sees
the old or the new file, never a part. Metadata (content type, cache policy, checksum) is kept in
a JSON sidecar under `_private/meta/`, where `serve` never looks.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Callable, Iterator

from media_pipeline.errors import StorageError, os_reason
from media_pipeline.layout import PRIVATE_PREFIX
from media_pipeline.storage.base import ObjectInfo, PreconditionFailed, UploadProgress, sha256_bytes, sha256_file
from media_pipeline.util.fsutil import replacing

try:
    import fcntl
except ImportError:  # not POSIX: conditional writes are then safe within one process only
    fcntl = None

_META = PRIVATE_PREFIX + "meta/"
_LOCK_FILE = PRIVATE_PREFIX + ".lock"
_write_lock = threading.Lock()


class LocalStorage:
    def __init__(self, root: Path, url: str | None = None):
        self.root = Path(root)
        self.url = url or self.root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError("key leaves the storage folder", path=key)
        return path

    def _meta_path(self, key: str) -> Path:
        return self._path(_META + key + ".json")

    def metadata(self, key: str, stat: os.stat_result | None = None) -> dict | None:
        """The sidecar of `key` (content_type, cache_control, sha256, size) if it still describes
        the file on disk, else None. Cheap: never reads the object itself."""
        try:
            stat = stat or self._path(key).stat()
            meta = json.loads(self._meta_path(key).read_text())
        except (OSError, ValueError, StorageError):
            return None
        # The sidecar is written after the object; a crash in between, or someone copying a file
        # into the folder by hand, leaves a sidecar that describes another version of the file.
        if not isinstance(meta, dict) or meta.get("size") != stat.st_size or meta.get("mtime_ns") != stat.st_mtime_ns:
            return None
        return meta

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_file():
            return None
        meta = self.metadata(key, stat) or {}
        sha = meta.get("sha256")
        return ObjectInfo(key=key, size=stat.st_size, etag=sha or sha256_file(path),
                          content_type=meta.get("content_type"), cache_control=meta.get("cache_control"),
                          sha256=sha)

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo] | None:
        path = self._path(key)
        try:
            with path.open("rb") as fh:  # one open file: content and metadata of the same version
                stat = os.fstat(fh.fileno())
                data = fh.read()
        except (FileNotFoundError, IsADirectoryError):
            return None
        meta = self.metadata(key, stat) or {}
        sha = sha256_bytes(data)
        return data, ObjectInfo(key, len(data), sha, meta.get("content_type"), meta.get("cache_control"), sha)

    def put_file(self, key: str, path: Path, *, content_type: str, cache_control: str, sha256: str,
                 progress: UploadProgress | None = None) -> ObjectInfo:
        target = self._path(key)
        size = path.stat().st_size
        # Verify the copy before it takes the key's place: a reader never sees a bad file.
        stat = self._atomic_write(target, lambda fh: _copy(path, fh, size, progress), expect_sha256=sha256)
        return self._finish(key, stat, content_type, cache_control, sha256)

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str,
                  if_match: str | None = None, if_absent: bool = False) -> ObjectInfo:
        target = self._path(key)
        sha256 = sha256_bytes(data)
        with self._conditional_lock(if_match is not None or if_absent):
            if if_match is not None or if_absent:
                current = sha256_file(target) if target.is_file() else None
                if if_absent and current is not None:
                    raise PreconditionFailed("exists already", path=key)
                if if_match is not None and current != if_match:
                    raise PreconditionFailed("changed since it was read", path=key)
            stat = self._atomic_write(target, lambda fh: fh.write(data))
            return self._finish(key, stat, content_type, cache_control, sha256)

    def copy(self, source: str, dest: str, *, content_type: str, cache_control: str) -> ObjectInfo:
        info = self.head(source)
        if info is None:
            raise StorageError("cannot copy: no such object", path=source)
        src = self._path(source)
        sha256 = info.sha256 or sha256_file(src)
        target = self._path(dest)
        stat = self._atomic_write(target, lambda fh: _copy(src, fh, info.size, None), expect_sha256=sha256)
        return self._finish(dest, stat, content_type, cache_control, sha256)

    def check_writable(self) -> None:
        """A local folder takes conditional writes under its lock file: always writable."""

    def delete(self, key: str) -> None:
        try:
            for path in (self._path(key), self._meta_path(key)):
                path.unlink(missing_ok=True)
                self._prune_empty(path.parent)
        except OSError as exc:
            raise StorageError(f"cannot delete: {os_reason(exc)}", path=key) from exc

    def _prune_empty(self, folder: Path) -> None:
        """Remove folders a delete left empty (a released episode's staging token folder, say),
        up to the storage root, as an object store has no folders to leave behind."""
        root = self.root.resolve()
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): nothing more to prune
                return
            folder = folder.parent

    def _finish(self, key: str, stat: os.stat_result, content_type: str, cache_control: str,
                sha256: str) -> ObjectInfo:
        # `stat` is of the file this call wrote, taken before it took the key's place: should another
        # writer's file replace it before this sidecar lands, the sidecar describes a file that is
        # not there, and `metadata` ignores it rather than pairing our checksum with their bytes.
        meta = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "content_type": content_type,
                "cache_control": cache_control, "sha256": sha256}
        self._atomic_write(self._meta_path(key), lambda fh: fh.write(json.dumps(meta).encode()))
        return ObjectInfo(key, stat.st_size, sha256, content_type, cache_control, sha256)

    @contextlib.contextmanager
    def _conditional_lock(self, needed: bool) -> Iterator[None]:
        """Compare-and-swap under a lock: a thread lock within the process and, on POSIX, an
        advisory file lock so two runs (cron and a producer) cannot both win a conditional write."""
        if not needed:
            yield
            return
        with _write_lock:
            if fcntl is None:
                yield
                return
            lock_path = self._path(_LOCK_FILE)
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            with lock_path.open("a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def _atomic_write(self, target: Path, write: Callable, expect_sha256: str | None = None) -> os.stat_result:
        """Write `target` whole or not at all; a full disk, a name too long or a permission refused
        is one StorageError naming the local path and the key being stored."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with replacing(target, fsync=True) as tmp:
                with tmp.open("wb") as fh:
                    write(fh)
                if expect_sha256 is not None and sha256_file(tmp) != expect_sha256:
                    raise StorageError("stored copy does not match the local file's checksum", path=target)
                stat = tmp.stat()
        except StorageError:
            raise
        except OSError as exc:
            key = os.path.relpath(target, self.root.resolve())
            raise StorageError(f"{os_reason(exc)} (storing {key})", path=target) from None
        _fsync_dir(target.parent)
        return stat


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a crash then leaves the old or the new file."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy(source: Path, fh, size: int, progress: UploadProgress | None) -> None:
    sent = 0
    with source.open("rb") as src:
        while block := src.read(1 << 20):
            fh.write(block)
            sent += len(block)
            if progress:
                progress(sent, size)
