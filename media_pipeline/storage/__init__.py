"""Object storage behind one small protocol, with a local-folder and an S3 backend."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from ..errors import ConfigError
from .base import (CHAPTERS_TYPE, PRIVATE_PREFIX, ObjectInfo, PreconditionFailed, Storage, content_type_for,
                   sha256_bytes, sha256_file)


def open_storage(url: str, root: Path) -> Storage:
    """The backend for `file://DIR` (relative to the workspace `root`) or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        folder = Path(parsed.netloc + parsed.path) if parsed.netloc not in ("", "localhost") else Path(parsed.path)
        if not folder.is_absolute():
            folder = root / folder
        from .local import LocalStorage

        return LocalStorage(folder.resolve(), url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigError("needs a bucket name, like s3://bucket/prefix", field="storage", path=url)
        from .s3 import S3Storage

        return S3Storage(parsed.netloc, parsed.path, url=url)
    raise ConfigError("storage must be file://FOLDER or s3://BUCKET/PREFIX", field="storage", path=url)


__all__ = ["CHAPTERS_TYPE", "PRIVATE_PREFIX", "ObjectInfo", "PreconditionFailed", "Storage", "content_type_for",
           "open_storage", "sha256_bytes", "sha256_file"]
