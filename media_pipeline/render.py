"""The public view of a show, rendered from its manifest: the one place feed entries are made.

`show_view` turns the manifest's live records and the episode files into the entries listeners
see; `render_feed` turns that view into the feed's bytes. `commit` is the one write of a show's
public state (manifest, then feed) that publish, release and unpublish all go through; another
output rendered from the same view (a web page per episode, say) joins it there, so it is always
written in the same transaction as the feed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from . import feed, layout, manifest
from .config import Catalog
from .errors import ConfigError, StorageError
from .fsutil import display_path
from .manifest import EpisodeRecord, FileRecord, Manifest
from .model import Episode, FeedEntry, Show, StoredFile, Workspace
from .storage import Storage


@dataclass(frozen=True)
class ShowView:
    """What listeners see of one show: its live episodes newest first, and the show's own URLs."""

    show: Show
    feed_url: str
    artwork_url: str
    podcast_guid: str
    entries: tuple[FeedEntry, ...]
    display: Callable[[Path], str]  # a file's name in messages

    @property
    def last_build(self) -> datetime | None:
        return self.entries[0].episode.publish_at if self.entries else None


def show_view(ws: Workspace, show: Show, catalog: Catalog, m: Manifest, *,
              overlay: dict[str, str] | None = None) -> ShowView:
    """The view as the manifest says it is: every live episode, built from the episode files'
    metadata (`overlay` maps slugs to guids assigned by a run not yet in the catalog). An episode
    that is live but whose file is gone is an error, never a silent removal: dropping it from the
    feed would delete it from every subscriber's app."""
    overlay = overlay or {}
    episodes = [replace(e, guid=overlay.get(e.slug, e.guid)) for e in catalog.episodes.get(show.slug, ())]
    by_guid = {e.guid: e for e in episodes if e.guid}
    by_slug = {e.slug: e for e in episodes}
    entries, missing = [], []
    for record in m.episodes.values():
        if record.state != "live":
            continue
        episode = by_guid.get(record.guid)
        if episode is None:
            candidate = by_slug.get(record.slug)
            if candidate is not None and candidate.guid in (None, record.guid):
                episode = replace(candidate, guid=record.guid)
        if episode is None:
            missing.append(record)
            continue
        # The date is the one this episode went public with (or was last published with): a time
        # edited in the file since then shows only once `publish` has accepted it.
        entries.append(feed_entry(ws, show, replace(episode, publish_at=record.publish_at), record))
    if missing:
        names = ", ".join(f"{display_path(ws, layout.episode_file(ws, show.slug, r.slug))} (guid {r.guid})"
                          for r in missing)
        raise ConfigError(f"live in the feed but the episode file is gone: {names}; restore it, or take the episode "
                          f"down with `media-pipeline unpublish {layout.episode_key(show.slug, missing[0].slug)}`",
                          path=layout.feed_key(show.slug))
    entries.sort(key=lambda e: (e.episode.publish_at, e.guid), reverse=True)
    art = m.artwork.key if m.artwork else layout.artwork_key(show.slug)
    url = layout.feed_url(ws, show)
    return ShowView(show, url, layout.public_url(ws, show, art), feed.show_podcast_guid(show, url, m.podcast_guid),
                    tuple(entries), lambda path: display_path(ws, path))


def render_feed(view: ShowView) -> bytes:
    return feed.build_feed(view.show, view.entries, feed_url=view.feed_url, artwork_url=view.artwork_url,
                           podcast_guid=view.podcast_guid, last_build=view.last_build, display=view.display)


def feed_entry(ws: Workspace, show: Show, episode: Episode, record: EpisodeRecord) -> FeedEntry:
    def stored(f: FileRecord) -> StoredFile:
        # the feed names media types; the stored Content-Type may carry parameters (charset)
        media_type = f.content_type.split(";", 1)[0].strip()
        return StoredFile(f.key, layout.public_url(ws, show, f.key), f.size, media_type, f.sha256)

    media = [stored(f) for f in record.media]
    if not media:
        raise StorageError("the manifest records no media for this episode",
                           path=layout.episode_key(show.slug, record.slug))
    chapters_file = next((stored(f) for f in record.files if f.kind == "chapters"), None)
    image = next((f for f in record.files if f.kind == "image"), None)
    return FeedEntry(episode=episode, guid=record.guid, enclosure=media[0], duration=record.duration,
                     alternates=tuple(media), chapters=chapters_file,
                     transcripts=tuple(stored(f) for f in record.files if f.kind == "transcript"),
                     image_url=layout.public_url(ws, show, image.key) if image else None)


def commit(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, change: Callable[[Manifest], Any], *,
           overlay: dict[str, str] | None = None, snapshot: manifest.Snapshot | None = None) -> manifest.Updated:
    """The one write of a show's public state: `change` applied to the manifest, and the feed
    rendered from the result (see `manifest.update` for the order, retries and conditions).
    The caller holds the show's lock."""
    return manifest.update(storage, show.slug, change,
                           lambda m: render_feed(show_view(ws, show, catalog, m, overlay=overlay)),
                           feed_cache_control=layout.feed_cache_control(show), snapshot=snapshot)
