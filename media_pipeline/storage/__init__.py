"""Object storage behind one small protocol, with a local-folder and an S3 backend."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from ..errors import ConfigError
from .base import PRIVATE_PREFIX, ObjectInfo, PreconditionFailed, Storage, sha256_bytes, sha256_file


def open_storage(url: str, root: Path) -> Storage:
    """The backend for `file://DIR` (relative to the workspace `root`) or `s3://bucket/prefix`.

    An S3 URL may carry options in its query, e.g. `s3://bucket/podcasts?region=eu-north-1&addressing=path`
    (see docs/storage.md); credentials always come from the standard AWS chain.
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        folder = Path(parsed.netloc + parsed.path) if parsed.netloc not in ("", "localhost") else Path(parsed.path)
        if not folder.is_absolute():
            folder = root / folder
        from .local import LocalStorage

        return LocalStorage(folder.resolve(), url)
    if parsed.scheme == "s3":
        from .s3 import S3Storage

        return S3Storage.from_url(url)
    raise ConfigError("storage must be file://FOLDER or s3://BUCKET/PREFIX", field="storage", path=url)


__all__ = ["PRIVATE_PREFIX", "ObjectInfo", "PreconditionFailed", "Storage", "open_storage", "sha256_bytes",
           "sha256_file"]
