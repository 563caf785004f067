"""Getting files into storage: what changed, where it goes (public or staging), put and verify.

A file whose sha256 the manifest already records at the same place is not sent again; changed
bytes of a file already public go to a new key derived from them (`public_key`), never over the
old ones. An episode not yet due goes to a staging folder under `_private/`, named by a random
token kept while the episode stays staged. Every upload and every release copy is verified (size and checksum) before
a feed may point at it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from media_pipeline import layout
from media_pipeline.errors import StorageError
from media_pipeline.model import Episode, Show
from media_pipeline.publishing.manifest import EpisodeRecord, FileRecord, Manifest, episode_meta
from media_pipeline.publishing.run import ShowRun
from media_pipeline.storage import Storage, sha256_file

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


# Files whose enclosure length, type or checksum a feed states, and which nothing else links to by
# URL: changed bytes of these go to a new key (`layout.versioned_key`) instead of replacing the old
# ones under a live feed. Images keep their key (chapter JSON names them by URL; a feed states no
# length for them).
VERSIONED_KINDS = ("media", "chapters", "transcript", "described", "description")


def public_key(current: Manifest, guid: str, slug: str, upload: Upload, record: FileRecord) -> str:
    """The key `upload`'s bytes are published at, decided from the manifest alone so that
    concurrent runs agree: the key this episode already has for the same bytes; else, on the
    episode's first public appearance under its name, its plain key while no record (even one
    taken down) or leftover names it; else a key derived from the bytes, so changed bytes never replace live
    ones and a URL, once public, always serves the same bytes."""
    if upload.kind not in VERSIONED_KINDS:
        return upload.key
    versioned = layout.versioned_key(upload.key, record.sha256)
    old = current.episodes.get(guid)
    for f in old.files if old else ():
        if f.sha256 == record.sha256 and f.key in (upload.key, versioned):
            return f.key
    named = {f.key for r in current.episodes.values() for f in r.files} | set(current.leftovers)
    was_public_here = old is not None and old.state != "staged" and old.slug == slug
    if upload.key not in named and not was_public_here:
        return upload.key
    return versioned


def prepare_files(run: ShowRun, episode: Episode, files: list[Upload], duration: float) -> "Prepared":
    """The record an episode would get, with each file's key decided and nothing uploaded yet."""
    guid = episode.guid or ""
    live = run.goes_live(episode)
    old = run.current.episodes.get(guid)
    token = None if live else staging_token(old)
    records, sources = [], {}
    for upload in files:
        local = upload.record()
        record = replace(local, key=public_key(run.current, guid, episode.slug, upload, local))
        records.append(record)
        sources[record.key] = upload.path
    return Prepared(EpisodeRecord(guid=guid, slug=episode.slug, state="live" if live else "staged",
                                  publish_at=episode.publish_at, duration=duration, files=records,
                                  staging=token, meta=episode_meta(episode)), sources)


@dataclass(frozen=True)
class Prepared:
    """An episode ready to upload: its would-be record, and the local file behind each key."""

    record: EpisodeRecord
    sources: dict[str, Path]


def store_episode(run: ShowRun, prepared: Prepared, uploaded: list[str]) -> Stored:
    """Upload what changed: to the public keys when the episode goes live, else to its staging folder.
    A file the manifest already records with the same bytes at the same place is not sent again."""
    record = prepared.record
    old = run.current.episodes.get(record.guid)
    live = record.state == "live"
    known = {f.key: f for f in old.files} if old else {}
    same_place = old is not None and ((old.state == "live") == live) and (live or old.staging == record.staging)
    mine = []
    for f in record.files:
        if not (same_place and known.get(f.key) == f):
            target = f.key if live else record.staged_key(run.show.slug, f)
            uploaded.append(target)  # before the put: a put that fails half-way may leave it
            put(run.storage, run.show, target, prepared.sources[f.key], f)
            mine.append(target)
    return Stored(record, tuple(mine))


def artwork_record(run: ShowRun, prepared: Path | None) -> FileRecord | None:
    """The show's artwork as it will be recorded (`<show>/artwork.jpg`), nothing uploaded yet."""
    if prepared is None:
        return run.current.artwork
    return Upload("artwork", prepared, layout.artwork_key(run.show.slug, prepared.suffix)).record()


def store_artwork(run: ShowRun, prepared: Path | None, record: FileRecord | None) -> tuple[str, ...]:
    """Upload the show's artwork when it changed; returns the key written, if any."""
    if prepared is None or record is None or record == run.current.artwork:
        return ()
    put(run.storage, run.show, record.key, prepared, record)
    return (record.key,)


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


def delete_quietly(storage: Storage, keys: Iterable[str], what: str = "") -> None:
    """Delete keys the feed no longer points at: a failure leaves a leftover, not a broken feed."""
    for key in keys:
        try:
            storage.delete(key)
        except StorageError as exc:
            log.warning("could not delete %s%s: %s", what, key, exc)
