"""The publishing manifest: what each show has in storage, and the one way to change it with its feed.

One JSON object per show at `_private/<show>/manifest.json` records every episode ever published
by guid (slug, state, publish time, stored files with size and sha256, staging token). It lets a
run skip unchanged uploads without a HEAD per object, and it is the truth the feed is built from.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal

from .errors import StorageError
from .storage import PRIVATE_PREFIX, PreconditionFailed, Storage, content_type_for

log = logging.getLogger(__name__)

FORMAT = 1
State = Literal["staged", "live", "unpublished"]
FEED_TYPE = content_type_for("feed.xml")
MANIFEST_TYPE = "application/json"


def manifest_key(show: str) -> str:
    return f"{PRIVATE_PREFIX}{show}/manifest.json"


def feed_key(show: str) -> str:
    return f"{show}/feed.xml"


def staging_key(show: str, token: str, public_key: str) -> str:
    """Where an embargoed file waits: under `_private/`, which is never public, in a folder named by
    a random token, so not even a guessed URL reaches it before release."""
    return f"{PRIVATE_PREFIX}{show}/staged/{token}/{public_key.rsplit('/', 1)[-1]}"


@dataclass
class FileRecord:
    """One stored file. `key` is its public key; a staged file waits at its staging key instead."""

    kind: Literal["media", "chapters", "transcript", "image", "artwork"]
    key: str
    size: int
    sha256: str
    content_type: str


@dataclass
class EpisodeRecord:
    guid: str
    slug: str
    state: State
    publish_at: datetime
    duration: float
    files: list[FileRecord] = field(default_factory=list)
    staging: str | None = None  # the token of the staging folder while staged copies exist

    def staged_key(self, show: str, record: FileRecord) -> str:
        if self.staging is None:
            raise ValueError(f"{show}/{self.slug} has no staging folder")
        return staging_key(show, self.staging, record.key)

    @property
    def media(self) -> list[FileRecord]:
        return [f for f in self.files if f.kind == "media"]


@dataclass
class Manifest:
    show: str
    podcast_guid: str | None = None
    artwork: FileRecord | None = None
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)

    def by_slug(self, slug: str) -> EpisodeRecord | None:
        """The current (not unpublished) record of an episode file, for files whose guid is not yet written."""
        return next((r for r in self.episodes.values() if r.slug == slug and r.state != "unpublished"), None)

    def to_bytes(self) -> bytes:
        # Deterministic bytes: a run that changes nothing writes nothing.
        data = {
            "format": FORMAT,
            "show": self.show,
            "podcast_guid": self.podcast_guid,
            "artwork": asdict(self.artwork) if self.artwork else None,
            "episodes": {guid: _episode_json(r) for guid, r in sorted(self.episodes.items())},
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_bytes(cls, show: str, data: bytes | None) -> "Manifest":
        if not data:
            return cls(show)
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise ValueError(f"unknown manifest format {raw.get('format')!r}")
            return cls(
                show=raw["show"],
                podcast_guid=raw.get("podcast_guid"),
                artwork=FileRecord(**raw["artwork"]) if raw.get("artwork") else None,
                episodes={guid: _episode_from(guid, r) for guid, r in raw.get("episodes", {}).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"the publishing manifest cannot be read ({exc}); it must not be edited by hand",
                               path=manifest_key(show)) from exc


def _episode_json(r: EpisodeRecord) -> dict:
    return {"slug": r.slug, "state": r.state, "publish_at": r.publish_at.isoformat(), "duration": round(r.duration, 3),
            "files": [asdict(f) for f in r.files], "staging": r.staging}


def _episode_from(guid: str, raw: dict) -> EpisodeRecord:
    return EpisodeRecord(guid=guid, slug=raw["slug"], state=raw["state"],
                         publish_at=datetime.fromisoformat(raw["publish_at"]), duration=float(raw["duration"]),
                         files=[FileRecord(**f) for f in raw.get("files", [])], staging=raw.get("staging"))


@dataclass(frozen=True)
class Snapshot:
    """A show's feed and manifest as read together, with the versions (etags) conditional writes need."""

    manifest: Manifest
    manifest_bytes: bytes | None
    manifest_etag: str | None
    feed: bytes | None
    feed_etag: str | None


def read_manifest(storage: Storage, show: str) -> tuple[Manifest, bytes | None, str | None]:
    got = storage.get_bytes(manifest_key(show))
    if got is None:
        return Manifest(show), None, None
    return Manifest.from_bytes(show, got[0]), got[0], got[1].etag


def read(storage: Storage, show: str) -> Snapshot:
    """Read the feed, then the manifest. The order matters: a feed written from a manifest newer than
    the one we read has already changed the feed's etag, so our conditional feed write fails and we
    rebuild instead of overwriting it with an older view."""
    got = storage.get_bytes(feed_key(show))
    feed, feed_etag = (got[0], got[1].etag) if got else (None, None)
    manifest, data, etag = read_manifest(storage, show)
    return Snapshot(manifest, data, etag, feed, feed_etag)


@dataclass(frozen=True)
class Updated:
    manifest: Manifest
    manifest_written: bool
    feed_written: bool
    attempts: int
    result: Any = None  # what `change` returned in the attempt whose manifest write landed


def update(storage: Storage, show: str, change: Callable[[Manifest], Any], render: Callable[[Manifest], bytes], *,
           feed_cache_control: str, snapshot: Snapshot | None = None, attempts: int = 12) -> Updated:
    """Apply `change` to the show's manifest and store it, then store the feed `render` builds from it.

    Both writes are conditional (If-Match on the etag read, If-None-Match for a first write). When
    another writer got there first, everything is read again and `change` re-applied to their
    version, so neither loses the other's episodes; `change` must therefore be idempotent. The feed
    is rendered before any write (a feed that cannot be built leaves storage as it was) and written
    after the manifest, so a crash in between is repaired by the next run, which finds the stored
    feed differing from the one the manifest gives. Unchanged bytes are not written at all.

    `change` may return a value (say, what it changed); `Updated.result` is the value of the
    attempt whose manifest write landed, so a run that retries only its feed still knows what it did.
    """
    landed: Any = None
    wrote_manifest = False
    for attempt in range(1, attempts + 1):
        snap = snapshot if (attempt == 1 and snapshot is not None) else read(storage, show)
        manifest = copy.deepcopy(snap.manifest)
        result = change(manifest)
        feed = render(manifest)
        data = manifest.to_bytes()
        feed_written = False
        try:
            if data != snap.manifest_bytes:
                storage.put_bytes(manifest_key(show), data, content_type=MANIFEST_TYPE, cache_control="no-store",
                                  if_match=snap.manifest_etag, if_absent=snap.manifest_etag is None)
                landed, wrote_manifest = result, True
            if feed != snap.feed:
                storage.put_bytes(feed_key(show), feed, content_type=FEED_TYPE, cache_control=feed_cache_control,
                                  if_match=snap.feed_etag, if_absent=snap.feed_etag is None)
                feed_written = True
        except PreconditionFailed as exc:
            log.info("%s: another run changed %s; reading again (attempt %d)", show, exc.path, attempt)
            time.sleep(random.uniform(0.02, 0.1) * attempt)  # jitter: two losers should not collide again
            continue
        return Updated(manifest, wrote_manifest, feed_written, attempt, landed if wrote_manifest else result)
    raise StorageError(f"gave up after {attempts} attempts: other runs kept changing the feed at the same time",
                       path=feed_key(show))
