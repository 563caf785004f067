"""A local folder as storage (`file://./public`): for previews, the demo and tests.

Objects are written to a temp file beside the target and renamed into place, so a reader sees
the old or the new file, never a part. Metadata (content type, cache policy, checksum) is kept in
a JSON sidecar under `_private/meta/`, where `serve` never looks.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from ..errors import StorageError
from .base import PRIVATE_PREFIX, ObjectInfo, PreconditionFailed, UploadProgress, sha256_bytes, sha256_file

_META = PRIVATE_PREFIX + "meta/"
_write_lock = threading.Lock()


class LocalStorage:
    def __init__(self, root: Path, url: str | None = None):
        self.root = root
        self.url = url or root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError("key leaves the storage folder", path=key)
        return path

    def _meta_path(self, key: str) -> Path:
        return self._path(_META + key + ".json")

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (OSError, ValueError):
            meta = {}
        sha = meta.get("sha256") if meta.get("size") == path.stat().st_size else None
        return ObjectInfo(key=key, size=path.stat().st_size, etag=sha or sha256_file(path),
                          content_type=meta.get("content_type"), cache_control=meta.get("cache_control"),
                          sha256=sha)

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo] | None:
        info = self.head(key)
        if info is None:
            return None
        data = self._path(key).read_bytes()
        return data, ObjectInfo(key, len(data), sha256_bytes(data), info.content_type, info.cache_control,
                                sha256_bytes(data))

    def put_file(self, key: str, path: Path, *, content_type: str, cache_control: str, sha256: str,
                 progress: UploadProgress | None = None) -> ObjectInfo:
        target = self._path(key)
        size = path.stat().st_size
        self._atomic_write(target, lambda fh: _copy(path, fh, size, progress))
        if sha256_file(target) != sha256:
            target.unlink(missing_ok=True)
            raise StorageError("stored copy does not match the local file's checksum", path=key)
        return self._finish(key, size, content_type, cache_control, sha256)

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str,
                  if_match: str | None = None, if_absent: bool = False) -> ObjectInfo:
        target = self._path(key)
        with _write_lock:  # conditional writes compare and swap under one lock per process
            if if_match is not None or if_absent:
                current = sha256_file(target) if target.is_file() else None
                if if_absent and current is not None:
                    raise PreconditionFailed("exists already", path=key)
                if if_match is not None and current != if_match:
                    raise PreconditionFailed("changed since it was read", path=key)
            self._atomic_write(target, lambda fh: fh.write(data))
        return self._finish(key, len(data), content_type, cache_control, sha256_bytes(data))

    def copy(self, source: str, dest: str, *, content_type: str, cache_control: str) -> ObjectInfo:
        info = self.head(source)
        if info is None:
            raise StorageError("cannot copy: no such object", path=source)
        src = self._path(source)
        self._atomic_write(self._path(dest), lambda fh: _copy(src, fh, info.size, None))
        return self._finish(dest, info.size, content_type, cache_control, info.sha256 or sha256_file(src))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self._meta_path(key).unlink(missing_ok=True)

    def _finish(self, key: str, size: int, content_type: str, cache_control: str, sha256: str) -> ObjectInfo:
        meta = {"size": size, "content_type": content_type, "cache_control": cache_control, "sha256": sha256}
        self._atomic_write(self._meta_path(key), lambda fh: fh.write(json.dumps(meta).encode()))
        return ObjectInfo(key, size, sha256, content_type, cache_control, sha256)

    @staticmethod
    def _atomic_write(target: Path, write) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _copy(source: Path, fh, size: int, progress: UploadProgress | None) -> None:
    sent = 0
    with source.open("rb") as src:
        while block := src.read(1 << 20):
            fh.write(block)
            sent += len(block)
            if progress:
                progress(sent, size)
