"""Scheduled release: staged episodes whose publish time has come are made public, then listed.

No audio work happens here (publish did it all): a release is a server-side copy from the staging
folder to the public keys, verified, then the manifest and feed update (which lists the staging
copies as leftovers), then the staging copies go. Safe to run from cron every few minutes: nothing
due means one read per show and no write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from media_pipeline import layout
from media_pipeline.errors import PipelineError, Problem, StorageError
from media_pipeline.model import Catalog, Show, Workspace
from media_pipeline.publishing import gate, manifest, render
from media_pipeline.publishing.lock import lock_path, locked
from media_pipeline.publishing.manifest import EpisodeRecord, Manifest
from media_pipeline.publishing.uploads import delete_quietly, make_public
from media_pipeline.storage import Storage, open_storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    key: str  # show/slug
    guid: str
    publish_at: datetime


@dataclass
class ReleaseReport:
    released: list[Release] = field(default_factory=list)
    due: list[Release] = field(default_factory=list)  # with dry_run: what would be released
    failures: list[tuple[str, str]] = field(default_factory=list)  # (show/slug or show, reason)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures


def release_due(ws: Workspace, catalog: Catalog, *, now: datetime, dry_run: bool = False,
                storage: Storage | None = None, loaded: Iterable[Problem] = ()) -> ReleaseReport:
    """Release every staged episode of every show whose publish time is at or before `now`.

    A failure on one episode (its staged media missing, a copy refused, its file rejected by the
    gate as `check` would reject it) is reported and the others are still released; a failure of
    one show's feed does not stop the other shows. `loaded` are the loader's findings, when the
    caller has them; the gate is asked only when something is due.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    storage = storage or open_storage(ws.storage_url, ws.root)
    report = ReleaseReport(dry_run=dry_run)
    verdict: list[gate.Placed] = []

    def blocking(show: Show, record: EpisodeRecord) -> list[Problem]:
        """What stops this release: its show's file, or its own episode file and what that names."""
        if not verdict:
            verdict.append(gate.place(ws, catalog, gate.errors(gate.problems(ws, catalog, loaded, publishing=True))))
        return [*verdict[0].of_show(show.slug), *verdict[0].of_episode(layout.episode_key(show.slug, record.slug))]

    for show in catalog.shows.values():
        try:
            with locked(lock_path(ws, show.slug)):
                _release_show(ws, storage, catalog, show, now, dry_run, report, blocking)
        except PipelineError as exc:
            log.debug("%s: %s", show.slug, exc)
            report.failures.append((show.slug, str(exc)))
    if report.released:  # the index and sitemap list what the feeds now list
        try:
            render.store_site(ws, storage, catalog)
        except PipelineError as exc:
            report.failures.append((layout.INDEX_KEY, str(exc)))
    return report


def _release_show(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, now: datetime, dry_run: bool,
                  report: ReleaseReport, blocking: Callable[[Show, EpisodeRecord], list[Problem]]) -> None:
    current, _, _ = manifest.read_manifest(storage, show.slug)
    due = [r for r in current.episodes.values() if r.state == "staged" and _due_time(catalog, show, r) <= now]
    if not due:
        return
    for record in list(due):
        if problems := blocking(show, record):
            due.remove(record)  # stays staged until its file passes the gate again
            report.failures.extend((layout.episode_key(show.slug, record.slug), str(p)) for p in problems)
    due.sort(key=lambda r: (_due_time(catalog, show, r), r.slug))
    if dry_run:
        report.due.extend(Release(layout.episode_key(show.slug, r.slug), r.guid, _due_time(catalog, show, r))
                          for r in due)
        return
    copied, failed, partial = [], {}, {}
    for record in due:
        done: list[str] = []
        try:
            make_public(storage, show, record, done)
            copied.append(record.guid)
        except StorageError as exc:
            failed[record.guid], partial[record.guid] = exc, done

    if copied:
        updated = mark_live(ws, storage, catalog, show, copied)
        # Ours are the releases our own manifest write made; a concurrent run reports the others.
        retired: dict[str, list[str]] = updated.result or {}
        released = [updated.manifest.episodes[guid] for guid in retired]
        latest = updated.manifest
    else:
        retired, released, latest = {}, [], manifest.read_manifest(storage, show.slug)[0]
    # A failed copy of an episode that another run released (or took down) meanwhile lost nothing.
    resolved = {guid for guid in failed if guid not in latest.episodes or latest.episodes[guid].state != "staged"}
    for record in released:  # feed written: the staged copies have done their job
        # still listed in the manifest if a delete fails: the next write deletes it
        delete_quietly(storage, retired[record.guid], "staged copy ")
        release = Release(layout.episode_key(show.slug, record.slug), record.guid, record.publish_at)
        log.info("released %s", release.key)
        report.released.append(release)
    for guid, exc in failed.items():
        if guid not in resolved:
            # Still staged: a file copied before the failure must not stay reachable early.
            for key in partial[guid]:
                storage.delete(key)
            record = current.episodes[guid]
            report.failures.append((layout.episode_key(show.slug, record.slug), str(exc)))


def mark_live(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, guids: list[str]) -> manifest.Updated:
    """The release's one manifest and feed write: the episodes copied to their public keys become
    live. Their staging keys go into the manifest's leftovers in the same write, so a run stopped
    before it deletes them leaves them listed for the next write. `result` maps each guid this
    write released to those keys."""

    def change(m: Manifest) -> dict[str, list[str]]:
        retired = {}
        for guid in guids:
            record = m.episodes.get(guid)
            if record is not None and record.state == "staged":
                # released at the time the episode file gives, which the feed then shows
                record.state, record.publish_at = "live", _due_time(catalog, show, record)
                retired[guid] = m.retire_staging(record)
        return retired

    return render.commit(ws, storage, catalog, show, change)


def _due_time(catalog: Catalog, show: Show, record: EpisodeRecord) -> datetime:
    """The publish time in the episode file when it is there (a producer may move it without
    publishing again), else the one recorded when the episode was staged."""
    for episode in catalog.episodes.get(show.slug, ()):
        if episode.guid == record.guid or (episode.guid is None and episode.slug == record.slug):
            return episode.publish_at
    return record.publish_at
