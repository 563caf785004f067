"""Getting files into storage: what changed, where it goes (public or staging), put and verify.

A file whose sha256 the manifest already records at the same place is not sent again. An episode
not yet due goes to a staging folder under `_private/`, named by a random token kept while the
episode stays staged. Every upload and every release copy is verified (size and checksum) before
a feed may point at it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import layout
from .errors import StorageError
from .manifest import EpisodeRecord, FileRecord, Manifest
from .model import Episode, Show
from .run import ShowRun
from .storage import Storage, sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """A local file and the public key it is published at."""

    kind: str  # a FileRecord kind: media, chapters, transcript, image, artwork
    path: Path
    key: str

    def record(self) -> FileRecord:
        return FileRecord(self.kind, self.key, self.path.stat().st_size,  # type: ignore[arg-type]
                          sha256_file(self.path), layout.content_type_for(self.key))


@dataclass(frozen=True)
class Stored:
    """What storing one episode did: its new manifest record, and the keys actually written."""

    record: EpisodeRecord
    uploaded: tuple[str, ...]


def staging_token(old: EpisodeRecord | None) -> str:
    """The staging folder of an episode not yet due: the one it has, else a new random one."""
    return old.staging if old and old.staging else uuid.uuid4().hex


def store_episode(run: ShowRun, episode: Episode, files: list[Upload], duration: float) -> Stored:
    """Upload what changed: to the public keys when the episode goes live, else to its staging folder."""
    guid = episode.guid or ""
    old = run.current.episodes.get(guid)
    live = run.goes_live(episode)
    token = None if live else staging_token(old)
    known = {f.key: f for f in old.files} if old else {}
    same_place = old is not None and ((old.state == "live") == live) and (live or old.staging == token)
    records, uploaded = [], []
    for upload in files:
        record = upload.record()
        if not (same_place and known.get(upload.key) == record):
            target = upload.key if live else layout.staging_key(run.show.slug, token or "", upload.key)
            put(run.storage, run.show, target, upload.path, record)
            uploaded.append(target)
        records.append(record)
    return Stored(EpisodeRecord(guid=guid, slug=episode.slug, state="live" if live else "staged",
                                publish_at=episode.publish_at, duration=duration, files=records,
                                staging=None if live else token), tuple(uploaded))


def store_artwork(run: ShowRun, prepared: Path | None) -> tuple[FileRecord | None, tuple[str, ...]]:
    """The show's artwork at `<show>/artwork.jpg`, uploaded only when it changed."""
    if prepared is None:
        return run.current.artwork, ()
    upload = Upload("artwork", prepared, layout.artwork_key(run.show.slug, prepared.suffix))
    record = upload.record()
    if record == run.current.artwork:
        return record, ()
    put(run.storage, run.show, upload.key, prepared, record)
    return record, (upload.key,)


def put(storage: Storage, show: Show, key: str, path: Path, record: FileRecord) -> None:
    """Upload `path` at `key` with the layout's headers; the backend verifies the checksum."""
    storage.put_file(key, path, content_type=record.content_type, cache_control=layout.cache_control(show, key),
                     sha256=record.sha256)


def make_public(storage: Storage, show: Show, record: EpisodeRecord, done: list[str]) -> None:
    """Server-side copy of each staged file to its public key, verified against the manifest;
    `done` collects the keys written, so a failure half-way can be undone."""
    for f in record.files:
        source = record.staged_key(show.slug, f)
        done.append(f.key)
        info = storage.copy(source, f.key, content_type=f.content_type,
                            cache_control=layout.cache_control(show, f.key))
        if info.size != f.size or (info.sha256 and info.sha256 != f.sha256):
            raise StorageError(f"released copy does not match what was staged ({info.size} bytes, expected {f.size})",
                               path=f.key)


def obsolete_keys(show: str, before: dict[str, EpisodeRecord], after: Manifest) -> list[str]:
    """Keys the manifest no longer points at: staging copies of episodes now live (or released or
    taken down by a concurrent run), files of renamed episodes."""
    wanted = {f.key for r in after.episodes.values() if r.state == "live" for f in r.files}
    wanted |= {r.staged_key(show, f) for r in after.episodes.values() if r.staging for f in r.files}
    old: set[str] = set()
    for record in before.values():
        if record.state == "live":
            old |= {f.key for f in record.files}
        if record.staging:
            old |= {record.staged_key(show, f) for f in record.files}
    return sorted(old - wanted)


def delete_quietly(storage: Storage, keys: Iterable[str], what: str = "") -> None:
    """Delete keys the feed no longer points at: a failure leaves a leftover, not a broken feed."""
    for key in keys:
        try:
            storage.delete(key)
        except StorageError as exc:
            log.warning("could not delete %s%s: %s", what, key, exc)
