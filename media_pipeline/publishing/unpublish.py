"""Taking an episode down: the feed without it first, then its public media and staged copies.

The manifest keeps the guid as unpublished, so it is never given to another episode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from media_pipeline import layout
from media_pipeline.errors import ConfigError, PipelineError
from media_pipeline.model import Catalog, Episode, Workspace
from media_pipeline.publishing import manifest, render
from media_pipeline.publishing.lock import lock_path, locked
from media_pipeline.publishing.manifest import Manifest
from media_pipeline.publishing.uploads import delete_quietly
from media_pipeline.storage import Storage, open_storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnpublishReport:
    key: str
    guid: str | None
    deleted: tuple[str, ...]
    feed_written: bool
    was: str | None  # the state before: live, staged, unpublished, or None when never published


def unpublish(ws: Workspace, catalog: Catalog, episode: Episode, *, storage: Storage | None = None) -> UnpublishReport:
    """Take `episode` down; nothing to do (`was` None) when it was never published."""
    storage = storage or open_storage(ws.storage_url, ws.root)
    show = catalog.shows[episode.show]
    with locked(lock_path(ws, show.slug)):
        snap = manifest.read(storage, show.slug)
        record = snap.manifest.episodes.get(episode.guid) if episode.guid else snap.manifest.by_slug(episode.slug)
        if record is None:
            return UnpublishReport(episode.key, episode.guid, (), False, None)
        guid, was = record.guid, record.state

        def change(m: Manifest) -> list[str]:
            if guid not in m.episodes:
                return []
            m.episodes[guid].state = "unpublished"
            return m.retire_staging(m.episodes[guid])  # listed until deleted (Manifest.leftovers)

        updated = render.commit(ws, storage, catalog, show, change, snapshot=snap)
        keys = [f.key for f in updated.manifest.episodes[guid].files] + list(updated.result or ())
        delete_quietly(storage, keys)
    try:
        render.store_site(ws, storage, catalog)
    except PipelineError as exc:  # the feeds are right; the index catches up on the next write
        log.warning("could not update the site index: %s", exc)
    return UnpublishReport(episode.key, guid, tuple(keys), updated.feed_written, was)


def find_target(ws: Workspace, catalog: Catalog, ref: str, *, storage: Storage | None = None) -> Episode:
    """The episode `ref` names (see `Catalog.find_episode`), or one named `SHOW/SLUG` that the
    manifest knows but whose file is gone, so that it can still be taken down."""
    try:
        return catalog.find_episode(ref)
    except ConfigError:
        orphan = orphan_episode(ws, catalog, ref, storage=storage)
        if orphan is None:
            raise
        return orphan


def orphan_episode(ws: Workspace, catalog: Catalog, ref: str, *, storage: Storage | None = None) -> Episode | None:
    """An episode named `SHOW/SLUG` that the manifest knows but whose file is gone: enough of it
    to find its record, nothing to publish."""
    named = layout.episode_ref(ws, ref)
    if named is None or named[0] not in catalog.shows:
        return None
    show, slug = named
    storage = storage or open_storage(ws.storage_url, ws.root)
    record = manifest.read_manifest(storage, show)[0].by_slug(slug)
    if record is None:
        return None
    return Episode(show=show, slug=record.slug, path=layout.episode_file(ws, show, record.slug), title=record.slug,
                   publish_at=record.publish_at, source=Path(), guid=record.guid)
