"""Object storage behind one small protocol, with a local-folder and an S3 backend."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from media_pipeline.errors import ConfigError
from media_pipeline.storage.base import ObjectInfo, PreconditionFailed, Storage, sha256_bytes, sha256_file
from media_pipeline.util.redact import redact_url, url_credentials


def open_storage(url: str, root: Path) -> Storage:
    """The backend for `file://DIR` (relative to the workspace `root`) or `s3://bucket/prefix`.

    An S3 URL may carry options in its query, e.g. `s3://bucket/podcasts?region=eu-north-1&addressing=path`
    (see docs/storage.md); credentials always come from the standard AWS chain.
    """
    if found := url_credentials(url):
        raise ConfigError(f"holds a credential ({', '.join(found)}); credentials never go in the storage URL",
                          field="storage", path=redact_url(url))
    parsed = urlparse(url)
    if parsed.scheme == "file":
        folder = Path(parsed.netloc + parsed.path) if parsed.netloc not in ("", "localhost") else Path(parsed.path)
        if not folder.is_absolute():
            folder = root / folder
        from media_pipeline.storage.local import LocalStorage

        return LocalStorage(folder.resolve(), url)
    if parsed.scheme == "s3":
        from media_pipeline.storage.s3 import S3Storage

        return S3Storage.from_url(url)
    raise ConfigError("storage must be file://FOLDER or s3://BUCKET/PREFIX", field="storage", path=redact_url(url))


def storage_problem(url: str, root: Path) -> str | None:
    """Why the storage `url` cannot be opened as configured (without contacting it), or None:
    for `check`, which reports it beside the other problems."""
    try:
        open_storage(url, root)
    except ConfigError as exc:
        return str(exc)
    return None


__all__ = ["ObjectInfo", "PreconditionFailed", "Storage", "open_storage", "sha256_bytes",
           "sha256_file", "storage_problem"]
