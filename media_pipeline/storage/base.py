"""The storage contract: a few verbs over keys below one prefix, implemented by each backend.

Keys are relative to the storage URL's prefix and use `/`. Keys under `_private/` are never
public: staged (embargoed) media and the publishing manifest live there. Which key holds what,
and the Content-Type and Cache-Control each object is stored with, is `layout.py`'s business:
a backend only moves bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from media_pipeline.errors import StorageError
from media_pipeline.util.filememo import sha256_file  # noqa: F401  (the storage API's name for it)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PreconditionFailed(StorageError):
    """A conditional write lost a race: the object changed since it was read."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # an opaque version token, for conditional writes
    content_type: str | None = None
    cache_control: str | None = None
    sha256: str | None = None  # the checksum stored with the object, hex


UploadProgress = Callable[[int, int], None]
"""Called with (bytes sent so far, total bytes)."""


class Storage(Protocol):
    """Every method raises StorageError (one user-facing line) when the backend fails for good;
    backends retry transient failures themselves."""

    url: str

    def head(self, key: str) -> ObjectInfo | None:
        """The object's metadata, or None when it does not exist."""

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo] | None:
        """A small object's content and metadata (feeds, manifests), or None."""

    def put_file(self, key: str, path: Path, *, content_type: str, cache_control: str, sha256: str,
                 progress: UploadProgress | None = None) -> ObjectInfo:
        """Upload a file; readers see the old object or the whole new one, never a part.

        The checksum is stored with the object and verified by the backend after upload (a
        `sha256` that does not match the file is an error). `progress(sent, total)` may be called
        from several threads, and starts again from 0 when an upload is retried.
        """

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str,
                  if_match: str | None = None, if_absent: bool = False) -> ObjectInfo:
        """Write a small object. With `if_match` (an etag) or `if_absent`, raise PreconditionFailed
        when another writer got there first."""

    def copy(self, source: str, dest: str, *, content_type: str, cache_control: str) -> ObjectInfo:
        """A server-side copy (release from staging costs no second upload)."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    def check_writable(self) -> None:
        """Raise StorageError when nothing may be written here (a server that ignores conditional
        writes, without `single_publisher`), so a run can refuse before its audio work."""
