"""The public view of a show, rendered from its manifest: the one place feed entries are made.

`show_view` turns the manifest's live records and the episode files into the entries listeners
see; `render_feed` turns that view into the feed's bytes and `render_pages` into the show's
listener-site pages. `commit` is the one write of a show's public state (pages, manifest, then
feed) that publish, release and unpublish all go through; `store_site` writes the pages across
shows (index, accessibility statement, sitemap) after the feeds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from media_pipeline import layout, site
from media_pipeline.audio import stamps
from media_pipeline.errors import ConfigError, PipelineError, StorageError
from media_pipeline.feeds import feed
from media_pipeline.model import Catalog, Episode, FeedEntry, Show, StoredFile, Workspace
from media_pipeline.publishing import manifest
from media_pipeline.publishing.manifest import EpisodeRecord, FileRecord, Manifest
from media_pipeline.storage import Storage
from media_pipeline.tags import chapters
from media_pipeline.text.notes import render_notes
from media_pipeline.transcripts import descriptions
from media_pipeline.transcripts.cues import Cue
from media_pipeline.transcripts.read import load_transcript
from media_pipeline.util.fsutil import atomic_write, display_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShowView:
    """What listeners see of one show: its live episodes newest first, and the show's own URLs."""

    show: Show
    feed_url: str
    artwork_url: str
    podcast_guid: str
    entries: tuple[FeedEntry, ...]
    display: Callable[[Path], str]  # a file's name in messages
    page_url: str  # the show's page on the listener site
    base_url: str  # where the site's index lives
    artwork_stored: bool = True  # whether the manifest records stored show artwork

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
        if episode is None and record.meta is not None and layout.episode_file(ws, show.slug, record.slug).is_file():
            # Its file is there but does not load (an edit half done): the entry stays as it was
            # published, for dropping it would delete it from every subscriber's app; `check`,
            # `publish` and `release-due` name the file and what is wrong with it.
            log.info("%s: its file does not load; the feed keeps it as it was published",
                     layout.episode_key(show.slug, record.slug))
            episode = Episode(show.slug, record.slug, layout.episode_file(ws, show.slug, record.slug),
                              "", record.publish_at, Path(), guid=record.guid)
        if episode is None:
            missing.append(record)
            continue
        # The date is the one this episode went public with (or was last published with): a time
        # edited in the file since then shows only once `publish` has accepted it.
        # Its title, notes and the rest are those it was published with (the record's snapshot):
        # an edit of the file shows only once `publish` accepts it, whatever else a run does.
        episode = manifest.with_meta(episode, record.meta)
        entries.append(feed_entry(ws, show, replace(episode, publish_at=record.publish_at), record))
    if missing:
        names = ", ".join(f"{display_path(ws, layout.episode_file(ws, show.slug, r.slug))} (guid {r.guid})"
                          for r in missing)
        raise ConfigError(f"live in the feed but the episode file is gone: {names}; restore it, or take the episode "
                          f"down with `media-pipeline unpublish {layout.episode_key(show.slug, missing[0].slug)}`",
                          path=layout.feed_key(show.slug))
    entries.sort(key=lambda e: (*e.episode.listed_at, e.guid), reverse=True)
    art = m.artwork.key if m.artwork else layout.artwork_key(show.slug)
    url = layout.feed_url(ws, show)
    return ShowView(show, url, layout.public_url(ws, show, art), feed.show_podcast_guid(show, url, m.podcast_guid),
                    tuple(entries), lambda path: display_path(ws, path), layout.show_page_url(ws, show),
                    ws.public_url, m.artwork is not None)


def preview(ws: Workspace, show: Show, catalog: Catalog, m: Manifest, *,
            overlay: dict[str, str] | None = None, snapshot: manifest.Snapshot | None = None) -> None:
    """Render the feed and pages `m` gives, storing nothing: raises what `commit` would raise, so a
    run can find out before it uploads anything public. Nothing is rendered when `m` is the
    `snapshot` read and that is known to be rendered from the same inputs (`Rendered`)."""
    if snapshot is not None and not snapshot.manifest.leftovers and m == snapshot.manifest \
            and Rendered(ws, show, catalog, overlay).matches(snapshot):
        return
    view = show_view(ws, show, catalog, m, overlay=overlay)
    render_feed(view)
    render_pages(ws, view)


def render_feed(view: ShowView) -> bytes:
    """The feed's bytes. Its channel <link> is the show's own website when it names one, else its
    page on the listener site."""
    show = view.show if view.show.link else replace(view.show, link=view.page_url)
    try:
        return feed.build_feed(show, view.entries, feed_url=view.feed_url, artwork_url=view.artwork_url,
                               podcast_guid=view.podcast_guid, last_build=view.last_build, display=view.display)
    except ValueError as exc:  # text the rules let through that XML cannot hold: this show's feed, not the run
        raise ConfigError(f"the feed cannot be written: {exc}", path=layout.feed_key(view.show.slug)) from None


def feed_entry(ws: Workspace, show: Show, episode: Episode, record: EpisodeRecord) -> FeedEntry:
    def stored(f: FileRecord) -> StoredFile:
        # the feed names media types; the stored Content-Type may carry parameters (charset)
        media_type = f.content_type.split(";", 1)[0].strip()
        return StoredFile(f.key, layout.public_url(ws, show, f.key), f.size, media_type, f.sha256,
                          layout.rendition_size(f.key))

    media = [stored(f) for f in record.media]
    if not media:
        raise StorageError("the manifest records no media for this episode",
                           path=layout.episode_key(show.slug, record.slug))
    chapters_file = next((stored(f) for f in record.files if f.kind == "chapters"), None)
    # a chapter's image is 16:9 or anything else: never the item's square itunes:image
    image = next((f for f in record.files if f.kind == "image" and not layout.is_chapter_image_key(f.key)), None)
    keys = {f.key for f in record.files if f.kind == "image"}
    numbers = chapters.image_numbers(episode.chapters)
    chapter_images = []
    for chapter in episode.chapters:
        key = (layout.chapter_image_key(show.slug, record.slug, numbers[chapter.image], chapter.image.suffix)
               if chapter.image is not None else None)
        chapter_images.append(layout.public_url(ws, show, key) if key in keys else None)
    poster = next((f for f in record.files if f.kind == "poster" and f.key.endswith(".jpg")), None)
    return FeedEntry(episode=episode, guid=record.guid, enclosure=media[0], duration=record.duration,
                     alternates=tuple(media), chapters=chapters_file,
                     transcripts=tuple(stored(f) for f in record.files if f.kind == "transcript"),
                     image_url=layout.public_url(ws, show, image.key) if image else None,
                     poster_url=layout.public_url(ws, show, poster.key) if poster else None,
                     page_url=layout.episode_page_url(ws, show, record.slug),
                     chapter_images=tuple(chapter_images),
                     described=tuple(stored(f) for f in record.files if f.kind == "described"),
                     descriptions=tuple(stored(f) for f in record.files if f.kind == "description"))


def commit(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, change: Callable[[Manifest], Any], *,
           overlay: dict[str, str] | None = None, snapshot: manifest.Snapshot | None = None) -> manifest.Updated:
    """The one write of a show's public state: `change` applied to the manifest, and the feed
    rendered from the result (see `manifest.update` for the order, retries and conditions).
    The caller holds the show's lock."""
    # (manifest, its view): rendered once per attempt, for the feed and the pages. Kept by the
    # manifest itself, not its id(): an attempt after a lost race copies the manifest again, and
    # the new copy can take the freed one's id, so a view keyed by id gave the feed of the manifest
    # before the other run's change (a feed without the episode it had just released).
    views: list[tuple[Manifest, ShowView]] = []

    def view(m: Manifest) -> ShowView:
        if not views or views[0][0] is not m:
            views[:] = [(m, show_view(ws, show, catalog, m, overlay=overlay))]
        return views[0][1]

    rendered = Rendered(ws, show, catalog, overlay)
    updated = manifest.update(storage, show.slug, change, lambda m: render_feed(view(m)),
                              feed_cache_control=layout.feed_cache_control(show), snapshot=snapshot,
                              pages=lambda m: render_pages(ws, view(m)),
                              page_cache_control=layout.cache_control(show, layout.show_page_key(show.slug)),
                              unchanged=lambda snap, m: m == snap.manifest and rendered.matches(snap))
    if updated.confirmed is not None:
        rendered.remember(*updated.confirmed)
    return updated


class Rendered:
    """Whether a show's stored feed and pages are what rendering would give, without rendering.

    After a run renders them and finds them stored byte for byte, it keeps the digest of what they
    were rendered from with the versions (etags) of the stored manifest and feed, in the build
    cache. A later run that reads the same versions and finds the same digest knows the result: a
    cron run with nothing to do renders nothing. The digest covers the code and the libraries
    that render, the workspace and show settings, every episode file of the show as loaded (with
    the guids a run assigned) and the content of the transcripts the pages show; the manifest is
    covered by its etag. Any difference, or an unreadable memo, means rendering as before.
    """

    FOLDER = "_rendered"  # in the build cache; "_": no show's folder can have that name (lint.SAFE_NAME)

    def __init__(self, ws: Workspace, show: Show, catalog: Catalog, overlay: dict[str, str] | None) -> None:
        self.path = ws.build_dir / self.FOLDER / f"{show.slug}.json"
        self._args = (ws, show, catalog, overlay or {})
        self._digest: str | None = None

    @property
    def digest(self) -> str:
        if self._digest is None:
            ws, show, catalog, overlay = self._args
            known = stamps.stamps_for(ws.build_dir)
            episodes = [replace(e, guid=overlay.get(e.slug, e.guid)) for e in catalog.episodes.get(show.slug, ())]
            material = {
                "code": stamps.code_digest("feedgen", "lxml", "Jinja2", "MarkupSafe", "markdown-it-py", "nh3"),
                "workspace": repr(ws), "show": repr(show), "episodes": [repr(e) for e in episodes],
                "transcripts": {str(e.transcript): known.digest(e.transcript) if e.transcript.is_file() else None
                                for e in episodes if e.transcript},
                "descriptions": {str(d.path): known.digest(d.path) if d.path.is_file() else None
                                 for e in episodes for d in e.descriptions},
            }
            self._digest = stamps.material_digest(material)
        return self._digest

    def matches(self, snap: manifest.Snapshot) -> bool:
        if snap.manifest_etag is None or snap.feed_etag is None:
            return False
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return kept == {"format": 1, "digest": self.digest, "manifest_etag": snap.manifest_etag,
                        "feed_etag": snap.feed_etag}

    def remember(self, manifest_etag: str, feed_etag: str) -> None:
        kept = {"format": 1, "digest": self.digest, "manifest_etag": manifest_etag, "feed_etag": feed_etag}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(kept, sort_keys=True).encode())
        except OSError as exc:  # a saving, never a failure
            log.debug("could not keep %s: %s", self.path, exc)


# -- the listener site ------------------------------------------------------------------------


def render_pages(ws: Workspace, view: ShowView) -> dict[str, bytes]:
    """The show's page and its live episodes' pages, from the view the feed is built from."""
    items = []
    for entry in view.entries:
        episode = entry.episode
        cues: tuple[Cue, ...] = ()
        if episode.transcript:
            try:
                cues = load_transcript(episode.transcript, duration=None).cues
            except PipelineError as exc:
                # Published with it, edited or lost since: the page waits for the next publish of the
                # episode rather than holding up a release or a take-down of another episode.
                log.warning("%s: the page shows no transcript: %s", episode.key, exc)
        told: tuple[Cue, ...] = ()
        first = episode.transcripts[0] if episode.transcripts else None
        shown = descriptions.in_language(episode, view.show, (first.language if first else None) or view.show.language)
        if shown is not None and entry.descriptions:  # published with the episode: the descriptive transcript
            try:
                told = load_transcript(shown.path, duration=None).cues
            except PipelineError as exc:
                log.warning("%s: the page shows no descriptions: %s", episode.key, exc)
        items.append(site.PageEpisode(entry, entry.page_url or "", cues, render_notes(episode.notes).html, told))
    return site.render_show(_show_site(view, items), ws.site)


def store_site(ws: Workspace, storage: Storage, catalog: Catalog) -> list[str]:
    """The index of shows, the accessibility statement and the sitemap, from every show's manifest;
    written after the feeds, and only where the bytes changed. Returns the keys written."""
    shows = []
    for show in catalog.shows.values():
        m = manifest.read_manifest(storage, show.slug)[0]
        if not m.pages:  # no listener page of this show is stored (yet)
            continue
        view = show_view(ws, show, catalog, m)
        shows.append(_show_site(view, [site.PageEpisode(e, e.page_url or "") for e in view.entries]))
    written = []
    seconds = min((s.feed_cache_seconds for s in catalog.shows.values()), default=layout.FEED_SECONDS)
    for key, data in site.render_site(ws.site, ws.public_url, shows).items():
        got = storage.get_bytes(key)
        if got is None or got[0] != data:
            storage.put_bytes(key, data, content_type=layout.content_type_for(key),
                              cache_control=layout.cache_control_for(key, feed_seconds=seconds))
            written.append(key)
    return written


def _show_site(view: ShowView, items: list[site.PageEpisode]) -> site.ShowSite:
    art = view.artwork_url if view.artwork_stored else None
    return site.ShowSite(view.show, view.base_url, view.page_url, view.feed_url, art, tuple(items))
