"""The storage contract: a few verbs over keys below one prefix, implemented by each backend.

Keys are relative to the storage URL's prefix and use `/`. Keys under `_private/` are never
public: staged (embargoed) media and the publishing manifest live there.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import StorageError

PRIVATE_PREFIX = "_private/"

# Content types listeners' apps and CDNs rely on (Apple checks enclosure types against them).
CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".xml": "application/rss+xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
SITEMAP_NAME = "sitemap.xml"  # sitemaps.org: plain XML, not a feed
CHAPTERS_SUFFIX = ".chapters.json"
CHAPTERS_TYPE = "application/json+chapters"  # Podcasting 2.0 JSON chapters


def content_type_for(key: str) -> str:
    if key.endswith(CHAPTERS_SUFFIX):
        return CHAPTERS_TYPE
    if key.rsplit("/", 1)[-1] == SITEMAP_NAME:
        return "application/xml; charset=utf-8"
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


# Objects whose URL stays the same while their bytes may change (a re-tag, a corrected chapter
# list): they get a long but bounded lifetime, never `immutable`. See docs/storage.md.
MEDIA_SUFFIXES = (".mp3", ".mp4", ".m4a", ".jpg", ".jpeg", ".png", ".vtt", ".srt", CHAPTERS_SUFFIX)
FEED_SECONDS = 300
MEDIA_SECONDS = 86400


def cache_control_for(key: str, *, feed_seconds: int = FEED_SECONDS, media_seconds: int = MEDIA_SECONDS) -> str:
    """The Cache-Control header an object is stored with, chosen by its key.

    Media keys are stable (`<show>/<episode>.mp3`) and a re-tag changes their bytes, so
    `immutable` would let a CDN or an app keep the old file forever: media get a day, after which
    caches revalidate with the ETag (a cheap 304 when nothing changed). The feed is short-lived
    so a new episode reaches listeners within minutes. Private keys (staged media, the manifest)
    are never cached anywhere.
    """
    if key.startswith(PRIVATE_PREFIX):
        return "no-store"
    if key.lower().endswith(MEDIA_SUFFIXES):
        return f"public, max-age={media_seconds}"
    return f"public, max-age={feed_seconds}"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
