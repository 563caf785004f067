"""The orchestrator: episodes from source files to stored media and a rebuilt feed, stage by stage.

validate -> process -> copy and tag -> store media, chapters, transcript, artwork -> manifest ->
feed -> OPML. Media is stored and verified before the feed that points at it; the feed goes last.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Sequence

from . import artwork, chapters, feed, lint, manifest, opml, process, storage as storage_pkg, tagging, transcripts
from .config import Catalog, record_guid
from .errors import ConfigError, PipelineError, StorageError
from .lock import lock_path, locked
from .manifest import EpisodeRecord, FileRecord, Manifest
from .model import Episode, FeedEntry, Show, StoredFile, Workspace
from .storage import Storage, content_type_for, open_storage, sha256_file

log = logging.getLogger(__name__)

OPML_KEY = "shows.opml"

Progress = Callable[[float], None]


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeOutcome:
    """What happened to one episode: `state` is live, staged, or failed; `uploaded` the keys written."""

    key: str
    state: str
    guid: str | None = None
    uploaded: tuple[str, ...] = ()
    error: str | None = None
    publish_at: datetime | None = None


@dataclass
class PublishReport:
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)  # feed URLs written or confirmed
    written: list[str] = field(default_factory=list)  # every key written, media and feeds alike
    uploads: dict[str, tuple[str, ...]] = field(default_factory=dict)  # guid -> keys uploaded for it
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, reason) for each failure
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, what: str, exc: Exception) -> None:
        log.debug("%s: %s", what, exc)
        self.failures.append((what, str(exc)))
        self.outcomes.append(EpisodeOutcome(what, "failed", error=str(exc)))


# -- where things go ---------------------------------------------------------------------------


def base_url(ws: Workspace, show: Show) -> str:
    return (show.public_url or ws.public_url).rstrip("/")


def public_url(ws: Workspace, show: Show, key: str) -> str:
    return f"{base_url(ws, show)}/{key}"


def feed_url(ws: Workspace, show: Show) -> str:
    return public_url(ws, show, manifest.feed_key(show.slug))


def cache_control(key: str, feed_seconds: int) -> str:
    """The storage's cache policy (storage.cache_control_for), with the show's feed lifetime."""
    return storage_pkg.cache_control_for(key, feed_seconds=feed_seconds)


# -- the orchestrator --------------------------------------------------------------------------


def publish(ws: Workspace, catalog: Catalog, episodes: Sequence[Episode], *, now: datetime, dry_run: bool = False,
            progress: Progress | None = None, storage: Storage | None = None) -> PublishReport:
    """Publish `episodes`: those due at `now` go live, those with a later publish time are staged.

    Each show touched gets its manifest and feed rebuilt once, after all its media is stored;
    a failed episode is reported and the others carry on.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    storage = storage or open_storage(ws.storage_url, ws.root)
    report = PublishReport(dry_run=dry_run)
    shows = _by_show(episodes)
    done = 0
    for slug, show_episodes in shows.items():
        def show_progress(fraction: float, _done=done, _n=len(show_episodes)) -> None:
            if progress:
                progress((_done + fraction * _n) / max(1, len(episodes)))

        try:
            _publish_show(ws, storage, catalog, catalog.shows[slug], show_episodes, now, dry_run, report,
                          show_progress)
        except PipelineError as exc:
            report.fail(slug, exc)
        done += len(show_episodes)
    if not dry_run and report.feeds:
        try:
            _store_opml(ws, storage, catalog, report)
        except PipelineError as exc:
            report.fail(OPML_KEY, exc)
    return report


def _publish_show(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, episodes: list[Episode],
                  now: datetime, dry_run: bool, report: PublishReport, progress: Progress) -> None:
    snap = manifest.read(storage, show.slug)
    ready = validate(show, episodes, snap.manifest, catalog, report, now, ws=ws)
    if dry_run:
        report.outcomes.extend(_plan(show, ready, snap.manifest, now))
        return
    work = ws.build_dir / "publish" / show.slug
    show_art = store_artwork(ws, storage, show, snap.manifest, work, report)
    records: list[EpisodeRecord] = []
    for i, episode in enumerate(ready):
        try:
            records.append(publish_episode(ws, storage, show, snap.manifest, episode, show_art, work, now, report,
                                           lambda f, i=i: progress((i + f) / max(1, len(ready)))))
        except PipelineError as exc:
            report.fail(episode.key, exc)
    if not records and snap.manifest_etag is None:
        return  # nothing of this show was ever published: no empty feed for apps to find
    commit_show(ws, storage, catalog, show, snap, records, show_art, report)


def publish_episode(ws: Workspace, storage: Storage, show: Show, current: Manifest, episode: Episode,
                    show_art: FileRecord | None, work: Path, now: datetime, report: PublishReport,
                    progress: Progress | None = None) -> EpisodeRecord:
    """One episode's stages up to storage: guid, process, copy and tag, sidecars, store."""
    episode = replace(episode, guid=assign_guid(episode, current))
    result = process.process_episode(ws, show, episode, progress=progress)
    files = tag_copies(ws, show, episode, result, show_art, work)
    duration = result.renditions[0].duration  # as published: trimming and intro/outro change it
    files += sidecars(ws, show, episode, duration, work)
    return store_files(ws, storage, show, current, episode, files, duration, now, report)


def commit_show(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, snap: manifest.Snapshot,
                records: list[EpisodeRecord], show_art: FileRecord | None, report: PublishReport) -> None:
    """Record the stored episodes in the manifest, write the feed (last), then remove what no
    longer belongs: staged copies of episodes now live, files of renamed episodes."""
    overlay = {r.slug: r.guid for r in records}
    lost: dict[str, str] = {}

    def change(m: Manifest) -> None:
        m.podcast_guid = feed.show_podcast_guid(show, feed_url(ws, show), m.podcast_guid)
        m.artwork = show_art
        lost.clear()
        for record in records:
            current = m.episodes.get(record.guid)
            if current is not None and current.state == "unpublished":
                # Taken down by a concurrent unpublish since we read: it stays down.
                lost[record.guid] = "was unpublished while this run published it; it stays unpublished"
            elif current is not None and current.state == "live" and record.state == "staged":
                # Released by a concurrent release-due since we read: it never goes back into hiding.
                lost[record.guid] = "was released while this run staged it; publish it again to update it"
            else:
                if current is not None and current.staging != record.staging:
                    m.retire_staging(current)  # staged, now live: listed until deleted (Manifest.leftovers)
                m.episodes[record.guid] = record

    with locked(lock_path(ws, show.slug)):
        updated = manifest.update(storage, show.slug, change,
                                  lambda m: render_feed(ws, show, catalog, m, overlay=overlay),
                                  feed_cache_control=cache_control("feed.xml", show.feed_cache_seconds),
                                  snapshot=snap)
    report.feeds.append(feed_url(ws, show))
    if updated.feed_written:
        report.written.append(manifest.feed_key(show.slug))
    for record in records:
        key = f"{show.slug}/{record.slug}"
        if record.guid in lost:
            report.fail(key, PipelineError(lost[record.guid], path=key))
            continue
        report.outcomes.append(EpisodeOutcome(key, record.state, record.guid, report.uploads.get(record.guid, ()),
                                              publish_at=record.publish_at))
    _delete(storage, _obsolete_keys(show.slug, snap.manifest.episodes, updated.manifest))


def validate(show: Show, episodes: list[Episode], current: Manifest, catalog: Catalog,
             report: PublishReport, now: datetime, *, ws: Workspace | None = None) -> list[Episode]:
    """Episodes fit to publish; the others are reported before any audio work starts."""
    guids: dict[str, str] = {}
    for other in catalog.episodes.get(show.slug, ()):
        if other.guid:
            guids.setdefault(other.guid, other.slug)
    ready = []
    for episode in episodes:
        problem = None
        record = current.episodes.get(episode.guid) if episode.guid else current.by_slug(episode.slug)
        if not episode.source.is_file():
            problem = ConfigError(f"source file not found: {episode.source}", path=_rel(episode), field="source")
        elif episode.guid and guids.get(episode.guid, episode.slug) != episode.slug:
            problem = ConfigError(f"{episode.guid} is already the guid of {show.slug}/{guids[episode.guid]}; "
                                  "every episode needs its own", path=_rel(episode), field="guid")
        elif record is not None and record.state == "live" and episode.publish_at > now:
            # Subscribers' apps have downloaded it already: a later time cannot hide it again, and a
            # pubDate in the future would misorder the feed. Taking it down is a deliberate act.
            problem = ConfigError(f"{episode.publish_at.isoformat()} is in the future, but the episode has been public "
                                  f"since {record.publish_at.isoformat()}; put that time back, or take the episode "
                                  f"down first with `media-pipeline unpublish {episode.key}`",
                                  path=_rel(episode), field="publish_at")
        elif record is not None and record.state == "unpublished":
            # A guid once taken down is never reused: apps that saw it would treat a new episode as old.
            problem = ConfigError(f"{episode.guid} was unpublished and is never reused; delete the guid line to "
                                  "publish this episode again as a new one", path=_rel(episode), field="guid")
        elif ws is not None:
            problem = lint.source_refusal(ws, show, episode)  # check's rules on the recording, this episode only
        if problem:
            report.fail(episode.key, problem)
        else:
            ready.append(episode)
    return ready


def assign_guid(episode: Episode, current: Manifest) -> str:
    """The episode's guid: the one in its file, else the one the manifest knows for its slug (a run
    that stopped before writing it back), else a new random one; written back into the file
    before anything is uploaded, so it never changes afterwards."""
    if episode.guid:
        return episode.guid
    known = current.by_slug(episode.slug)
    guid = known.guid if known else str(uuid.uuid4())
    recorded = record_guid(episode.path, guid)
    if recorded == guid:
        log.info("%s: assigned guid %s", episode.path, guid)
    return recorded


def tag_copies(ws: Workspace, show: Show, episode: Episode, result: process.ProcessResult,
               show_art: FileRecord | None, work: Path) -> list[tuple[str, Path, str]]:
    """Copy each rendition (the cache stays untouched) and tag the copy for this episode."""
    folder = work / episode.slug
    folder.mkdir(parents=True, exist_ok=True)
    cover = None
    if episode.artwork:
        cover = artwork.prepare_artwork(episode.artwork, folder / "art").embed
    elif show.artwork and show.artwork.is_file():
        cover = artwork.prepare_artwork(show.artwork, work / "show-art").embed
    files = []
    for rendition in result.renditions:
        key = f"{show.slug}/{episode.slug}{rendition.suffix}"
        copy = folder / f"{episode.slug}{rendition.suffix}"
        _copy_file(rendition.path, copy)
        data = tagging.tag_data(show, episode, guid=episode.guid or "", feed_url=feed_url(ws, show),
                                episode_url=public_url(ws, show, key), duration=rendition.duration, cover=cover)
        tagging.tag_file(copy, data, id3_version=show.id3_version)
        files.append(("media", copy, key))
    return files


def sidecars(ws: Workspace, show: Show, episode: Episode, duration: float,
             work: Path) -> list[tuple[str, Path, str]]:
    """Episode artwork, JSON chapters (Podcasting 2.0) and the transcript as WebVTT, when given."""
    folder = work / episode.slug
    files: list[tuple[str, Path, str]] = []
    if episode.artwork:
        prepared = artwork.prepare_artwork(episode.artwork, folder / "art").feed
        key = f"{show.slug}/{episode.slug}{prepared.suffix.lower()}"
        files.append(("image", prepared, key))
    if episode.chapters:
        # Chapter images are published beside the episode so the JSON chapters can name their URLs.
        chapter_images: dict[Path, str] = {}
        for chapter in episode.chapters:
            if chapter.image and chapter.image not in chapter_images:
                key = f"{show.slug}/{episode.slug}.chapter{len(chapter_images) + 1}{chapter.image.suffix.lower()}"
                files.append(("image", chapter.image, key))
                chapter_images[chapter.image] = public_url(ws, show, key)
        path = folder / f"{episode.slug}.chapters.json"
        _atomic_write(path, chapters.chapters_json(episode, duration=duration, image_url=chapter_images.get))
        files.append(("chapters", path, f"{show.slug}/{path.name}"))
    if episode.transcript:
        path = folder / f"{episode.slug}.vtt"
        _atomic_write(path, transcripts.to_vtt(transcripts.load_transcript(episode.transcript, duration=duration)))
        files.append(("transcript", path, f"{show.slug}/{path.name}"))
    return files


def store_files(ws: Workspace, storage: Storage, show: Show, current: Manifest, episode: Episode,
                files: list[tuple[str, Path, str]], duration: float, now: datetime,
                report: PublishReport) -> EpisodeRecord:
    """Upload what changed: to the public keys when the episode is due, else to its staging folder.

    A file whose sha256 the manifest already records at the same place is not sent again; every
    upload is verified (size and checksum) by the backend before the feed may point at it.
    """
    guid = episode.guid or ""
    old = current.episodes.get(guid)
    live = episode.publish_at <= now or (old is not None and old.state == "live")
    token = None if live else (old.staging if old and old.staging else uuid.uuid4().hex)
    known = {f.key: f for f in old.files} if old else {}
    records, uploaded = [], []
    for kind, path, key in files:
        record = FileRecord(kind, key, path.stat().st_size, sha256_file(path), content_type_for(key))
        previous = known.get(key)
        same_place = old is not None and ((old.state == "live") == live) and (live or old.staging == token)
        if not (same_place and previous == record):
            target = key if live else manifest.staging_key(show.slug, token, key)
            storage.put_file(target, path, content_type=record.content_type,
                             cache_control=cache_control(target, show.feed_cache_seconds), sha256=record.sha256)
            uploaded.append(target)
        records.append(record)
    report.written.extend(uploaded)
    report.uploads[guid] = tuple(uploaded)
    return EpisodeRecord(guid=guid, slug=episode.slug, state="live" if live else "staged",
                         publish_at=episode.publish_at, duration=duration, files=records,
                         staging=None if live else token)


def store_artwork(ws: Workspace, storage: Storage, show: Show, current: Manifest, work: Path,
                  report: PublishReport) -> FileRecord | None:
    """The show's artwork at `<show>/artwork.jpg`, uploaded only when it changed."""
    if not show.artwork or not show.artwork.is_file():
        return current.artwork
    prepared = artwork.prepare_artwork(show.artwork, work / "show-art").feed
    key = f"{show.slug}/artwork{prepared.suffix.lower()}"
    record = FileRecord("artwork", key, prepared.stat().st_size, sha256_file(prepared), content_type_for(key))
    if record != current.artwork:
        storage.put_file(key, prepared, content_type=record.content_type,
                         cache_control=cache_control(key, show.feed_cache_seconds), sha256=record.sha256)
        report.written.append(key)
    return record


def render_feed(ws: Workspace, show: Show, catalog: Catalog, m: Manifest, *,
                overlay: dict[str, str] | None = None) -> bytes:
    """The feed as the manifest says it is: every live episode, newest first, built from the
    episode files' metadata. An episode that is live but whose file is gone is an error, never a
    silent removal: dropping it from the feed would delete it from every subscriber's app."""
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
        names = ", ".join(f"episodes/{show.slug}/{r.slug}.md (guid {r.guid})" for r in missing)
        raise ConfigError(f"live in the feed but the episode file is gone: {names}; restore it, or take the episode "
                          f"down with `media-pipeline unpublish {show.slug}/{missing[0].slug}`",
                          path=manifest.feed_key(show.slug))
    entries.sort(key=lambda e: (e.episode.publish_at, e.guid), reverse=True)
    art = m.artwork.key if m.artwork else f"{show.slug}/artwork.jpg"
    guid = feed.show_podcast_guid(show, feed_url(ws, show), m.podcast_guid)
    last_build = entries[0].episode.publish_at if entries else None
    return feed.build_feed(show, entries, feed_url=feed_url(ws, show), artwork_url=public_url(ws, show, art),
                           podcast_guid=guid, last_build=last_build)


def feed_entry(ws: Workspace, show: Show, episode: Episode, record: EpisodeRecord) -> FeedEntry:
    def stored(f: FileRecord) -> StoredFile:
        # the feed names media types; the stored Content-Type may carry parameters (charset)
        media_type = f.content_type.split(";", 1)[0].strip()
        return StoredFile(f.key, public_url(ws, show, f.key), f.size, media_type, f.sha256)

    media = [stored(f) for f in record.media]
    if not media:
        raise StorageError("the manifest records no media for this episode", path=f"{show.slug}/{record.slug}")
    chapters_file = next((stored(f) for f in record.files if f.kind == "chapters"), None)
    image = next((f for f in record.files if f.kind == "image"), None)
    return FeedEntry(episode=episode, guid=record.guid, enclosure=media[0], duration=record.duration,
                     alternates=tuple(media), chapters=chapters_file,
                     transcripts=tuple(stored(f) for f in record.files if f.kind == "transcript"),
                     image_url=public_url(ws, show, image.key) if image else None)


def _store_opml(ws: Workspace, storage: Storage, catalog: Catalog, report: PublishReport) -> None:
    """`shows.opml`: every show published from this workspace, for apps that import a list."""
    got = storage.get_bytes(OPML_KEY)
    existing = got[0] if got else b""
    feeds = [(show, feed_url(ws, show)) for show in catalog.shows.values()
             if feed_url(ws, show) in report.feeds or feed_url(ws, show).encode() in existing]
    data = opml.build_opml(feeds, title="Shows")
    if data != existing:
        seconds = min(s.feed_cache_seconds for s, _ in feeds)
        storage.put_bytes(OPML_KEY, data, content_type=content_type_for(OPML_KEY),
                          cache_control=cache_control(OPML_KEY, seconds))
        report.written.append(OPML_KEY)


# -- taking an episode down --------------------------------------------------------------------


@dataclass(frozen=True)
class UnpublishReport:
    key: str
    guid: str | None
    deleted: tuple[str, ...]
    feed_written: bool
    was: str | None  # the state before: live, staged, unpublished, or None when never published


def unpublish(ws: Workspace, catalog: Catalog, episode: Episode, *, storage: Storage | None = None) -> UnpublishReport:
    """Take an episode down: the feed without it first, then its public media and staged copies.

    The manifest keeps the guid as unpublished, so it is never given to another episode.
    """
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

        updated = manifest.update(storage, show.slug, change, lambda m: render_feed(ws, show, catalog, m),
                                  feed_cache_control=cache_control("feed.xml", show.feed_cache_seconds),
                                  snapshot=snap)
        keys = [f.key for f in updated.manifest.episodes[guid].files] + list(updated.result or ())
        _delete(storage, keys)
    return UnpublishReport(episode.key, guid, tuple(keys), updated.feed_written, was)


def orphan_episode(ws: Workspace, catalog: Catalog, ref: str, *, storage: Storage | None = None) -> Episode | None:
    """An episode named `SHOW/SLUG` that the manifest knows but whose file is gone, so that it can
    still be unpublished: enough of it to find its record, nothing to publish."""
    show, _, slug = ref.removesuffix(".md").partition("/")
    if show not in catalog.shows or not slug:
        return None
    storage = storage or open_storage(ws.storage_url, ws.root)
    record = manifest.read_manifest(storage, show)[0].by_slug(slug.rsplit("/", 1)[-1])
    if record is None:
        return None
    return Episode(show=show, slug=record.slug, path=ws.episodes_dir / show / f"{record.slug}.md", title=record.slug,
                   publish_at=record.publish_at, source=Path(), guid=record.guid)


# -- small pieces ------------------------------------------------------------------------------


def _plan(show: Show, episodes: list[Episode], current: Manifest, now: datetime) -> list[EpisodeOutcome]:
    plan = []
    for episode in episodes:
        record = current.episodes.get(episode.guid) if episode.guid else current.by_slug(episode.slug)
        live = episode.publish_at <= now or (record is not None and record.state == "live")
        plan.append(EpisodeOutcome(episode.key, "would go live" if live else "would be staged",
                                   record.guid if record else episode.guid, publish_at=episode.publish_at))
    return plan


def _obsolete_keys(show: str, before: dict[str, EpisodeRecord], after: Manifest) -> list[str]:
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


def _delete(storage: Storage, keys: Iterable[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except StorageError as exc:  # the feed no longer points at it: a leftover, not a failure
            log.warning("could not delete %s: %s", key, exc)


def _by_show(episodes: Sequence[Episode]) -> dict[str, list[Episode]]:
    shows: dict[str, list[Episode]] = {}
    for episode in episodes:
        shows.setdefault(episode.show, []).append(episode)
    return shows


def _rel(episode: Episode) -> str:
    return f"episodes/{episode.show}/{episode.path.name}"


def _copy_file(source: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
