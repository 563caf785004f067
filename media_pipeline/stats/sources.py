"""Where logs come from and where a media file's first bytes are read: local files and folders, or
an S3 prefix through the same client settings as the storage (the standard AWS chain)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from media_pipeline.errors import ConfigError, StorageError
from media_pipeline.storage import Storage, open_storage
from media_pipeline.storage.local import LocalStorage

# A log's identity is its name and the digest of its first bytes: a log that only grew since it was
# read (serve's own, appended to) is read from where the last run stopped; one rotated or rewritten
# under the same name is read again from the start.
_HEAD = 4096


@dataclass(frozen=True)
class LogFile:
    name: str  # how the summary and messages name it: a path or s3://bucket/key
    size: int
    _read: object

    def read(self) -> bytes:
        return self._read()  # type: ignore[operator]

    @staticmethod
    def head_digest(data: bytes) -> str:
        return hashlib.sha256(data[:_HEAD]).hexdigest()[:16]


def log_files(spec: str, root: Path) -> Iterator[LogFile]:
    """Every log file a command-line argument names: a file, a folder (every file below it, in
    name order), or `s3://bucket/prefix` (every object below it)."""
    if spec.startswith("s3://"):
        yield from _s3_logs(spec, root)
        return
    path = Path(spec)
    if not path.is_absolute():
        path = (Path.cwd() / path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError("no such log file or folder", path=spec)
    for p in files:
        yield LogFile(str(p), p.stat().st_size, p.read_bytes)


def _s3_logs(spec: str, root: Path) -> Iterator[LogFile]:
    store = open_storage(spec, root)
    client, bucket, prefix = store.client, store.bucket, store.prefix  # type: ignore[attr-defined]
    token = None
    try:
        while True:
            page = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/" if prefix else "",
                                          **({"ContinuationToken": token} if token else {}))
            for item in page.get("Contents", []):
                key = item["Key"]
                yield LogFile(f"s3://{bucket}/{key}", item["Size"],
                              lambda key=key: client.get_object(Bucket=bucket, Key=key)["Body"].read())
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]
    except StorageError:
        raise
    except Exception as exc:  # botocore's errors: one line naming the prefix
        raise StorageError(f"cannot list the logs: {exc}", path=spec) from None


def read_range(storage: Storage, key: str, first: int, length: int) -> bytes | None:
    """`length` bytes of a stored object from `first`, or None where the backend cannot read a
    part (the caller then counts complete downloads only)."""
    if isinstance(storage, LocalStorage):
        try:
            with (storage.root / key).open("rb") as fh:
                fh.seek(first)
                return fh.read(length)
        except OSError:
            return None
    client = getattr(storage, "client", None)
    if client is None:
        return None
    try:
        prefix = getattr(storage, "prefix", "")
        answer = client.get_object(Bucket=storage.bucket, Key=f"{prefix}/{key}" if prefix else key,  # type: ignore[attr-defined]
                                   Range=f"bytes={first}-{first + length - 1}")
        return answer["Body"].read()[:length]
    except Exception:  # noqa: BLE001 - any failure means "unknown header": complete downloads only
        return None


def header_size(storage: Storage, key: str) -> int | None:
    """Bytes before the first audio of a stored rendition: the ID3v2 tag of an MP3, the boxes
    before `mdat` of an MP4. None when it cannot be read."""
    head = read_range(storage, key, 0, 10)
    if not head or len(head) < 10:
        return None
    if head[:3] == b"ID3":
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        footer = 10 if head[5] & 0x10 else 0
        return 10 + size + footer
    if head[4:8] == b"ftyp":
        offset = 0
        for _ in range(64):  # top-level boxes: ftyp, moov (first with +faststart), ..., mdat
            box = read_range(storage, key, offset, 16)
            if not box or len(box) < 8:
                return None
            size = int.from_bytes(box[:4], "big")
            if size == 1 and len(box) >= 16:
                size = int.from_bytes(box[8:16], "big")
            if box[4:8] == b"mdat":
                return offset + 8
            if size < 8:
                return None
            offset += size
        return None
    return 0  # no header: audio from the first byte
