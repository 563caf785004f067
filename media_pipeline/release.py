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

from . import manifest
from .config import Catalog
from .errors import PipelineError, StorageError
from .lock import lock_path, locked
from .manifest import EpisodeRecord, Manifest
from .model import Show, Workspace
from .publish import cache_control, render_feed, render_pages, store_site
from .storage import Storage, open_storage

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
                storage: Storage | None = None) -> ReleaseReport:
    """Release every staged episode of every show whose publish time is at or before `now`.

    A failure on one episode (its staged media missing, a copy refused) is reported and the
    others are still released; a failure of one show's feed does not stop the other shows.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    storage = storage or open_storage(ws.storage_url, ws.root)
    report = ReleaseReport(dry_run=dry_run)
    for show in catalog.shows.values():
        try:
            with locked(lock_path(ws, show.slug)):
                _release_show(ws, storage, catalog, show, now, dry_run, report)
        except PipelineError as exc:
            log.debug("%s: %s", show.slug, exc)
            report.failures.append((show.slug, str(exc)))
    if report.released:  # the index and sitemap list what the feeds now list
        try:
            store_site(ws, storage, catalog)
        except PipelineError as exc:
            report.failures.append(("index.html", str(exc)))
    return report


def _release_show(ws: Workspace, storage: Storage, catalog: Catalog, show: Show, now: datetime, dry_run: bool,
                  report: ReleaseReport) -> None:
    current, _, _ = manifest.read_manifest(storage, show.slug)
    due = [r for r in current.episodes.values() if r.state == "staged" and _due_time(catalog, show, r) <= now]
    if not due:
        return
    due.sort(key=lambda r: (_due_time(catalog, show, r), r.slug))
    if dry_run:
        report.due.extend(Release(f"{show.slug}/{r.slug}", r.guid, _due_time(catalog, show, r)) for r in due)
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
        for key in retired[record.guid]:
            try:
                storage.delete(key)
            except StorageError as exc:  # still listed in the manifest: the next write deletes it
                log.warning("could not delete staged copy %s: %s", key, exc)
        release = Release(f"{show.slug}/{record.slug}", record.guid, record.publish_at)
        log.info("released %s", release.key)
        report.released.append(release)
    for guid, exc in failed.items():
        if guid not in resolved:
            # Still staged: a file copied before the failure must not stay reachable early.
            for key in partial[guid]:
                storage.delete(key)
            record = current.episodes[guid]
            report.failures.append((f"{show.slug}/{record.slug}", str(exc)))


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

    return manifest.update(storage, show.slug, change, lambda m: render_feed(ws, show, catalog, m),
                           feed_cache_control=cache_control("feed.xml", show.feed_cache_seconds),
                           pages=lambda m: render_pages(ws, show, catalog, m),
                           page_cache_control=cache_control("index.html", show.feed_cache_seconds))


def make_public(storage: Storage, show: Show, record: EpisodeRecord, done: list[str]) -> None:
    """Server-side copy of each staged file to its public key, verified against the manifest;
    `done` collects the keys written, so a failure half-way can be undone."""
    for f in record.files:
        source = record.staged_key(show.slug, f)
        done.append(f.key)
        info = storage.copy(source, f.key, content_type=f.content_type,
                            cache_control=cache_control(f.key, show.feed_cache_seconds))
        if info.size != f.size or (info.sha256 and info.sha256 != f.sha256):
            raise StorageError(f"released copy does not match what was staged ({info.size} bytes, expected {f.size})",
                               path=f.key)


def _due_time(catalog: Catalog, show: Show, record: EpisodeRecord) -> datetime:
    """The publish time in the episode file when it is there (a producer may move it without
    publishing again), else the one recorded when the episode was staged."""
    for episode in catalog.episodes.get(show.slug, ()):
        if episode.guid == record.guid or (episode.guid is None and episode.slug == record.slug):
            return episode.publish_at
    return record.publish_at
