"""A notification run: claim what a show's published state owes its channels, send it channel by
channel, record each outcome, and report every channel's trouble on its own line.

Each channel stands alone: a broken URL, a receiver that speaks no HTTP or a failing service costs
only that channel this run (one attempt of each of its notices), and never another channel's.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from media_pipeline.errors import PipelineError
from media_pipeline.layout import feed_url
from media_pipeline.layout import notifications_key as record_key
from media_pipeline.model import Catalog, Show, Workspace
from media_pipeline.notify import delivery
from media_pipeline.notify.channels import FEED_ITEM, Channel, Notice, channels
from media_pipeline.notify.payloads import build_request
from media_pipeline.notify.record import Item, Record, claimed, owed, retry_given_up, run_id
from media_pipeline.publishing import manifest
from media_pipeline.publishing.lock import LockTimeout, lock_path, locked
from media_pipeline.publishing.manifest import Manifest
from media_pipeline.storage import Storage, open_storage
from media_pipeline.storage.conditional import read_change_write

log = logging.getLogger(__name__)

RECORD_TYPE = "application/json"
ENV_RETRY_DELAY = "MEDIA_PIPELINE_NOTIFY_RETRY_DELAY"  # seconds before the first retry in a run
ENV_LEASE = "MEDIA_PIPELINE_NOTIFY_LEASE"  # seconds a claim holds before another run may take over
ENV_TIMEOUT = "MEDIA_PIPELINE_NOTIFY_TIMEOUT"  # seconds per HTTP request
LEASE = 900.0
LOCK_TIMEOUT = 120.0
RETRY_COMMAND = "media-pipeline notify --retry"


@dataclass
class NotifyReport:
    sent: list[str] = field(default_factory=list)  # "channel label: subject"
    planned: list[str] = field(default_factory=list)  # with dry_run: what would be sent
    warnings: list[str] = field(default_factory=list)  # one line per show and channel with trouble
    given_up: list[str] = field(default_factory=list)  # "show: channel label: subject", given up by this run
    retried: int = 0  # given-up notifications made owed again (`retry`)


def after_run(ws: Workspace, catalog: Catalog, shows: Iterable[str] | None = None, *, now: datetime,
              dry_run: bool = False, storage: Storage | None = None, environ: dict[str, str] | None = None,
              upcoming: Iterable[str] = (), retry: bool = False) -> NotifyReport:
    """Send what the shows' published state owes their hubs, podping and chat channels.

    Call it after publish, release-due or unpublish (for the shows they touched, or every show).
    It never raises for a failed notification: each channel with failures gets one warning line
    (logged and in the report), and what failed stays owed for the next run, up to the show's
    `notify.attempts` runs; then it is given up, until `retry` makes it owed again. With
    `dry_run`, it lists what would be sent and changes nothing; `upcoming` names the episodes
    (`show/slug`) the dry run would have made live, so those not yet announced are listed too.
    """
    environ = os.environ if environ is None else environ
    report = NotifyReport()
    selected = [catalog.shows[s] for s in (shows if shows is not None else catalog.shows) if s in catalog.shows]
    selected = [show for show in selected if channels(show)]
    if not selected:
        return report
    try:
        storage = storage or open_storage(ws.storage_url, ws.root)
    except PipelineError as exc:
        _warn(report, f"notifications not sent: {exc}")
        return report
    upcoming = list(upcoming)
    for show in selected:
        try:
            with locked(lock_path(ws, f"{show.slug}.notify"), timeout=LOCK_TIMEOUT):
                mine = [key for key in upcoming if key.startswith(f"{show.slug}/")]
                if dry_run:
                    _plan(ws, storage, show, now, mine, report)
                else:
                    _notify_show(ws, catalog, storage, show, now, environ, report, retry)
        except (PipelineError, LockTimeout) as exc:
            _warn(report, f"{show.slug}: notifications not sent ({exc}); they stay owed for the next run")
        except Exception as exc:  # noqa: BLE001 - a notification must never fail the run that published
            # Only the class: the message of an unexpected error could carry a secret.
            _warn(report, f"{show.slug}: notifications not sent ({type(exc).__name__}); they stay owed for the "
                          f"next run")
    return report


def _plan(ws: Workspace, storage: Storage, show: Show, now: datetime, upcoming: list[str],
          report: NotifyReport) -> None:
    """What a run would send: what is owed now, and what the upcoming episodes would add that no
    channel has had (an episode already live and announced is not announced again)."""
    got = storage.get_bytes(record_key(show.slug))
    record = Record.from_bytes(show.slug, got[0] if got else None)
    m, feed = _published(storage, show.slug)
    notices, _ = owed(show, record, m, feed, now, wall=time.time(), ws=ws)
    planned = [(n.channel, n.subject) for n in notices]
    live = {f"{show.slug}/{r.slug}" for r in m.episodes.values() if r.state == "live"}
    new = [key for key in upcoming if key not in live]
    if new:  # the feed would change, and these would go live
        planned += [(c, feed_url(ws, show)) for c in channels(show) if not c.chat]
        planned += [(c, key) for c in channels(show) if c.chat for key in new]
    for channel, subject in dict.fromkeys(planned):
        report.planned.append(f"{channel.label}: {subject}")


def _notify_show(ws: Workspace, catalog: Catalog, storage: Storage, show: Show, now: datetime,
                 environ: dict[str, str], report: NotifyReport, retry: bool) -> None:
    limit = show.notify.attempts
    missing = [c for c in channels(show) if c.env and not environ.get(c.env)]
    for channel in missing:
        _warn(report, f"{show.slug}: {channel.label}: not sent, ${channel.env} is not set; what it is owed waits "
                      f"for a run that has it")
    if retry:
        report.retried += _transact(storage, show.slug, retry_given_up)
    run = run_id()
    lease = _seconds(environ, ENV_LEASE, LEASE)

    def claim(record: Record) -> tuple[list[Notice], list[tuple[Notice, Item]], list[Notice], float]:
        # Read after the record: any feed or manifest a recorded notice speaks of is at most as new
        # as these, so a feed differing from the recorded one is newer, never older.
        m, feed = _published(storage, show.slug)
        wall = time.time()
        mine, stopped = [], []
        notices, held = owed(show, record, m, feed, now, wall=wall, ws=ws)
        for notice in notices:
            if notice.channel.env and not environ.get(notice.channel.env):
                continue  # left owed: a machine that has the secret sends it
            before = record.item(notice)
            if before is not None and before.state == "claimed" and before.sha256 == notice.sha256 \
                    and before.attempts >= limit:
                # its last allowed attempt was a run that stopped while sending it
                record.put(notice, Item("given_up", before.attempts, notice.sha256,
                                        error="the run of its last attempt stopped while sending"))
                stopped.append(notice)
                continue
            record.put(notice, claimed(before, notice, run, wall, lease))
            mine.append(notice)
        return mine, held, stopped, round(wall + lease, 3)

    notices, held, stopped, until = _transact(storage, show.slug, claim)
    _report_held(show, held, report)
    m, _ = _published(storage, show.slug)
    delay = _seconds(environ, ENV_RETRY_DELAY, delivery.RETRY_DELAY)
    timeout = _seconds(environ, ENV_TIMEOUT, delivery.TIMEOUT)
    trouble: dict[Channel, _Trouble] = {}
    for notice in stopped:
        trouble.setdefault(notice.channel, _Trouble()).given_up.append(notice)
        _given_up(report, show, notice)
    for channel, group in _by_channel(notices).items():
        broken: str | None = None  # the channel failed this run: its other notices share the outcome
        for notice in group:
            if notice.item != FEED_ITEM and getattr(m.episodes.get(notice.item), "state", None) != "live":
                # taken down since the claim: it is never announced
                _transact(storage, show.slug, lambda r, n=notice: _withdraw(r, n, run))
                continue
            if broken is None and time.time() + timeout > until:
                # the claim could run out while sending: left for the next run, uncounted, so a
                # slow channel never makes another run send what this one is still sending
                _transact(storage, show.slug, lambda r, n=notice: _release(r, n, run))
                continue
            error = broken
            if error is None:
                try:
                    request = build_request(ws, catalog, show, m, notice, environ)
                    error = delivery.send(request, channel.label, delay=delay, timeout=timeout)
                except Exception as exc:  # noqa: BLE001 - one channel's trouble never stops another's
                    error = type(exc).__name__
                broken = error
            outcome = _transact(storage, show.slug, lambda r, n=notice: _settle(r, n, run, error, limit))
            if error is None:
                log.info("%s: notified %s of %s", show.slug, channel.label, notice.subject)
                report.sent.append(f"{channel.label}: {notice.subject}")
            elif outcome == "given_up":
                trouble.setdefault(channel, _Trouble()).given_up.append(notice)
                trouble[channel].error = error
                _given_up(report, show, notice)
            elif isinstance(outcome, int):
                trouble.setdefault(channel, _Trouble()).failed.append((notice, outcome))
                trouble[channel].error = error
    for channel, t in trouble.items():
        _warn_channel(report, show, channel, t, limit)


@dataclass
class _Trouble:
    failed: list[tuple[Notice, int]] = field(default_factory=list)  # with the attempt it was
    given_up: list[Notice] = field(default_factory=list)
    error: str = ""


def _warn_channel(report: NotifyReport, show: Show, channel: Channel, t: _Trouble, limit: int) -> None:
    """One line per channel and kind of trouble, however many notices it concerns."""
    what = "the feed change" if not channel.chat else None
    if t.failed:
        n = len(t.failed)
        attempt = max(a for _, a in t.failed)
        subject = what or (t.failed[0][0].subject if n == 1 else f"{n} messages")
        _warn(report, f"{show.slug}: {channel.label}: {subject} not sent ({t.error}), attempt {attempt} of {limit}; "
                      f"the next run tries again")
    if t.given_up:
        n = len(t.given_up)
        subject = what or (t.given_up[0].subject if n == 1 else f"{n} messages")
        _warn(report, f"{show.slug}: {channel.label}: gave up on {subject} after {limit} attempts "
                      f"({t.error or 'the run of its last attempt stopped'}); `{RETRY_COMMAND} {show.slug}` "
                      f"sends it again")


def _report_held(show: Show, held: list[tuple[Notice, Item]], report: NotifyReport) -> None:
    """Claims of other runs: a run still sending is only logged; a claim of a run this machine
    cannot see (another machine, or one that may have stopped) says when it will be sent."""
    by_claim: dict[tuple[Channel, str | None], tuple[Item, list[Notice]]] = {}
    for notice, item in held:
        by_claim.setdefault((notice.channel, item.claim), (item, []))[1].append(notice)
    for (channel, _), (item, notices) in by_claim.items():
        when = datetime.fromtimestamp(item.lease_until or 0, timezone.utc).isoformat(timespec="seconds")
        what = notices[0].subject if len(notices) == 1 else f"{len(notices)} notifications"
        if item.running_here():
            log.info("%s: %s: %s is being sent by another run on this machine", show.slug, channel.label, what)
            continue
        host = (item.claim or "?").rsplit(":", 2)[0]
        _warn(report, f"{show.slug}: {channel.label}: {what} claimed by a run on {host} until {when}; "
                      f"if that run stopped, the first run after then sends it")


def _by_channel(notices: list[Notice]) -> dict[Channel, list[Notice]]:
    grouped: dict[Channel, list[Notice]] = {}
    for notice in notices:
        grouped.setdefault(notice.channel, []).append(notice)
    return grouped


def _given_up(report: NotifyReport, show: Show, notice: Notice) -> None:
    report.given_up.append(f"{show.slug}: {notice.channel.label}: {notice.subject}")


def _settle(record: Record, notice: Notice, run: str, error: str | None, limit: int) -> str | int:
    """Record the outcome of our claim: sent, owed again, or given up after the show's limit."""
    item = record.item(notice)
    if item is None or item.sha256 != notice.sha256:
        return "superseded"  # a newer feed is owed now; its ping is another notice
    if error is None:
        record.put(notice, Item("sent", item.attempts or 1, notice.sha256,
                                sent_at=datetime.now(timezone.utc).isoformat(timespec="seconds")))
        return "sent"
    if item.claim != run:
        return "taken over"  # another run took it over after our lease ran out; it decides
    state = "given_up" if item.attempts >= limit else "owed"
    record.put(notice, Item(state, item.attempts, notice.sha256, error=error))
    return "given_up" if state == "given_up" else item.attempts


def _release(record: Record, notice: Notice, run: str) -> None:
    """Give a claim back unsent (its attempt not counted), for the next run."""
    item = record.item(notice)
    if item is not None and item.claim == run:
        record.put(notice, Item("owed", item.attempts - 1, notice.sha256, error=item.error))


def _withdraw(record: Record, notice: Notice, run: str) -> None:
    item = record.item(notice)
    if item is not None and item.claim == run:
        record.put(notice, Item("withdrawn", item.attempts or 1))


def _transact(storage: Storage, show: str, change):
    """Read the record, apply `change`, write it back only if it is still the one read."""
    empty = Record(show).to_bytes()

    def apply(data: bytes | None):
        record = Record.from_bytes(show, data)
        result = change(record)
        new = record.to_bytes()
        return (None if new == (data or empty) else new), result

    return read_change_write(storage, record_key(show), apply, content_type=RECORD_TYPE, cache_control="no-store",
                             conflict=f"{show}: another run changed the notification record")


def _published(storage: Storage, show: str) -> tuple[Manifest, bytes | None]:
    got = storage.get_bytes(manifest.feed_key(show))
    feed = got[0] if got else None
    return manifest.read_manifest(storage, show)[0], feed


def _warn(report: NotifyReport, line: str) -> None:
    log.warning("warning: %s", line)
    report.warnings.append(line)


def _seconds(environ: dict[str, str], name: str, default: float) -> float:
    with suppress(ValueError, TypeError):
        value = float(environ.get(name, ""))
        if value >= 0:
            return value
    return default


__all__ = ["NotifyReport", "after_run"]
