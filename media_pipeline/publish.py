"""The orchestrator: episodes from source files to stored media and a rebuilt feed, stage by stage.

validate -> per episode: guid, process, tag copies, sidecars, upload -> commit (manifest, then
feed) -> OPML. Media is stored and verified before the feed that points at it; the feed goes last.
Each stage takes the show's run (`run.ShowRun`) and returns what it did; `publish` gathers the
results into the report.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

from . import artwork, chapters, feed, gate, layout, manifest, opml, process, render, reuse, tagging, transcripts
from .config import Catalog, record_guid
from .errors import PipelineError, Problem
from .fsutil import atomic_copy, atomic_write
from .lock import lock_path, locked
from .manifest import FileRecord
from .model import Episode, Workspace
from .render import commit
from .run import EpisodeOutcome, Progress, ShowResult, ShowRun
from .storage import Storage, open_storage
from .uploads import Stored, Upload, delete_quietly, obsolete_keys, store_artwork, store_episode

log = logging.getLogger(__name__)


@dataclass
class PublishReport:
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)  # feed URLs written or confirmed
    written: list[str] = field(default_factory=list)  # every key written, media and feeds alike
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, reason) for each failure
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, what: str, exc: Exception) -> None:
        log.debug("%s: %s", what, exc)
        self.failures.append((what, str(exc)))
        self.outcomes.append(EpisodeOutcome(what, "failed", error=str(exc)))


def publish(ws: Workspace, catalog: Catalog, episodes: Sequence[Episode], *, now: datetime, dry_run: bool = False,
            progress: Progress | None = None, storage: Storage | None = None,
            loaded: Iterable[Problem] = ()) -> PublishReport:
    """Publish `episodes`: those due at `now` go live, those with a later publish time are staged.

    Nothing happens unless the catalog passes the gate (`gate.require`; `loaded` are the loader's
    findings, when the caller has them). Each show touched gets its manifest and feed rebuilt
    once, after all its media is stored; a failed episode is reported and the others carry on.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    gate.require(ws, catalog, loaded, publishing=True)
    storage = storage or open_storage(ws.storage_url, ws.root)
    report = PublishReport(dry_run=dry_run)
    shows: dict[str, list[Episode]] = {}
    for episode in episodes:
        shows.setdefault(episode.show, []).append(episode)
    done = 0
    for slug, show_episodes in shows.items():
        def show_progress(fraction: float, _done=done, _n=len(show_episodes)) -> None:
            if progress:
                progress((_done + fraction * _n) / max(1, len(episodes)))

        try:
            snap = manifest.read(storage, slug)
            run = ShowRun(ws, storage, catalog, catalog.shows[slug], snap, now, ws.build_dir / "publish" / slug,
                          show_progress)
            result = publish_show(run, show_episodes, dry_run=dry_run)
        except PipelineError as exc:
            report.fail(slug, exc)
        else:
            for what, exc in result.failures:
                report.fail(what, exc)
            report.outcomes.extend(result.outcomes)
            report.written.extend(result.written)
            report.feeds.extend([result.feed] if result.feed else [])
        done += len(show_episodes)
    if not dry_run and report.feeds:
        try:
            report.written.extend(opml.store(ws, storage, catalog, report.feeds))
        except PipelineError as exc:
            report.fail(layout.OPML_KEY, exc)
        if report.written:  # a run that changed nothing costs no more requests than before
            try:
                report.written.extend(render.store_site(ws, storage, catalog))
            except PipelineError as exc:
                report.fail(layout.INDEX_KEY, exc)
    return report


def publish_show(run: ShowRun, episodes: list[Episode], *, dry_run: bool = False) -> ShowResult:
    """One show: validate against its manifest, each episode up to storage, then the commit."""
    result = ShowResult()
    ready = []
    for episode in episodes:
        if problem := gate.against_manifest(run.ws, run.show, run.catalog, episode, run.current, run.now):
            result.failures.append((episode.key, problem))
        else:
            ready.append(episode)
    if dry_run:
        result.outcomes.extend(plan(run, episode) for episode in ready)
        return result
    try:
        show_art, written = store_artwork(run, prepared_show_art(run))
        result.written.extend(written)
        stored: list[Stored] = []
        for i, episode in enumerate(ready):
            progress = (lambda f, i=i: run.progress((i + f) / max(1, len(ready)))) if run.progress else None
            try:
                stored.append(publish_episode(run, episode, show_art, progress))
            except PipelineError as exc:
                result.failures.append((episode.key, exc))
            else:
                result.written.extend(stored[-1].uploaded)
        if stored or run.snapshot.manifest_etag is not None:
            # (nothing of this show ever published and nothing now: no empty feed for apps to find)
            result.add(commit_show(run, stored, show_art))
    except PipelineError as exc:  # the show's artwork or its commit: its episodes' results stand
        result.failures.append((run.show.slug, exc))
    return result


def publish_episode(run: ShowRun, episode: Episode, show_art: FileRecord | None,
                    progress: Progress | None = None) -> Stored:
    """One episode's stages up to storage: guid, process, copy and tag, sidecars, upload; none
    after process when nothing the episode is made from changed since it was stored (`reuse`)."""
    episode = replace(episode, guid=assign_guid(run, episode))
    processed = process.process_episode(run.ws, run.show, episode, progress=progress)
    if (same := reuse.unchanged(run, episode, processed)) is not None:
        return same
    files = tag_copies(run, episode, processed)
    duration = processed.renditions[0].duration  # as published: trimming and intro/outro change it
    files += sidecars(run, episode, duration)
    stored = store_episode(run, episode, files, duration)
    reuse.remember(run, episode, processed, stored)
    return stored


def commit_show(run: ShowRun, stored: list[Stored], show_art: FileRecord | None) -> ShowResult:
    """Record the stored episodes in the manifest and write the feed (last), then remove what no
    longer belongs: staged copies of episodes now live, files of renamed episodes."""
    result = ShowResult()
    records = [s.record for s in stored]
    lost: dict[str, str] = {}

    def change(m: manifest.Manifest) -> None:
        m.podcast_guid = feed.show_podcast_guid(run.show, run.feed_url, m.podcast_guid)
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

    with locked(lock_path(run.ws, run.show.slug)):
        updated = commit(run.ws, run.storage, run.catalog, run.show, change,
                         overlay={r.slug: r.guid for r in records}, snapshot=run.snapshot)
    result.feed = run.feed_url
    result.written.extend(updated.pages_written)
    if updated.feed_written:
        result.written.append(layout.feed_key(run.show.slug))
    for item in stored:
        record, key = item.record, layout.episode_key(run.show.slug, item.record.slug)
        if record.guid in lost:
            result.failures.append((key, PipelineError(lost[record.guid], path=key)))
            continue
        result.outcomes.append(EpisodeOutcome(key, record.state, record.guid, item.uploaded,
                                              publish_at=record.publish_at))
    delete_quietly(run.storage, obsolete_keys(run.show.slug, run.current.episodes, updated.manifest))
    return result


def assign_guid(run: ShowRun, episode: Episode) -> str:
    """The episode's guid: the one in its file, else the one the manifest knows for its slug (a run
    that stopped before writing it back), else a new random one; written back into the file
    before anything is uploaded, so it never changes afterwards."""
    if episode.guid:
        return episode.guid
    known = run.current.by_slug(episode.slug)
    guid = known.guid if known else str(uuid.uuid4())
    recorded = record_guid(episode.path, guid)
    if recorded == guid:
        log.info("%s: assigned guid %s", episode.path, guid)
    return recorded


def prepared_show_art(run: ShowRun) -> Path | None:
    """The show's artwork made fit for the feed, or None when the show has none."""
    if not run.show.artwork or not run.show.artwork.is_file():
        return None
    return artwork.prepare_artwork(run.show.artwork, run.work / "show-art").feed


def tag_copies(run: ShowRun, episode: Episode, processed: process.ProcessResult) -> list[Upload]:
    """Copy each rendition (the cache stays untouched) and tag the copy for this episode; a video
    copy gets the episode's captions as mov_text subtitle tracks, one per language."""
    folder = run.episode_work(episode)
    folder.mkdir(parents=True, exist_ok=True)
    cover = None
    if episode.artwork:
        cover = artwork.prepare_artwork(episode.artwork, folder / "art").embed
    elif run.show.artwork and run.show.artwork.is_file():
        cover = artwork.prepare_artwork(run.show.artwork, run.work / "show-art").embed
    files = []
    for rendition in processed.renditions:
        key = layout.media_key(run.show.slug, episode.slug, rendition.suffix)
        copy = folder / key.rsplit("/", 1)[-1]
        tracks = (transcripts.subtitle_tracks(run.show, episode, duration=rendition.duration, folder=folder)
                  if rendition.role == "video" else [])
        if tracks:  # captions as soft subtitles, so a downloaded video keeps them (EN 301 549 7.1.3)
            transcripts.mux_subtitles(rendition.path, copy, tracks)
        else:
            atomic_copy(rendition.path, copy)
        data = tagging.tag_data(run.show, episode, guid=episode.guid or "", feed_url=run.feed_url,
                                episode_url=run.url(key), duration=rendition.duration, cover=cover)
        tagging.tag_file(copy, data, id3_version=run.show.id3_version)
        files.append(Upload("media", copy, key))
    return files


def sidecars(run: ShowRun, episode: Episode, duration: float) -> list[Upload]:
    """Episode artwork, JSON chapters (Podcasting 2.0) and each transcript in four forms, when given."""
    folder, slug, show = run.episode_work(episode), episode.slug, run.show.slug
    files: list[Upload] = []
    if episode.artwork:
        prepared = artwork.prepare_artwork(episode.artwork, folder / "art").feed
        files.append(Upload("image", prepared, layout.episode_image_key(show, slug, prepared.suffix)))
    if episode.chapters:
        chapter_images: dict = {}
        for chapter in episode.chapters:
            if chapter.image and chapter.image not in chapter_images:
                key = layout.chapter_image_key(show, slug, len(chapter_images) + 1, chapter.image.suffix)
                files.append(Upload("image", chapter.image, key))
                chapter_images[chapter.image] = run.url(key)
        path = folder / layout.chapters_name(slug)
        atomic_write(path, chapters.chapters_json(episode, duration=duration, image_url=chapter_images.get))
        files.append(Upload("chapters", path, layout.sidecar_key(show, path.name)))
    # every checked transcript (and a draft only where the show allows machine ones) as WebVTT, SRT,
    # HTML and Podcasting 2.0 JSON
    files += [Upload(kind, path, key) for kind, path, key in
              transcripts.write_forms(run.show, episode, duration=duration, folder=folder)]
    return files


def plan(run: ShowRun, episode: Episode) -> EpisodeOutcome:
    """What a dry run says of an episode: it would go live, or be staged."""
    record = run.record_of(episode)
    return EpisodeOutcome(episode.key, "would go live" if run.goes_live(episode) else "would be staged",
                          record.guid if record else episode.guid, publish_at=episode.publish_at)
