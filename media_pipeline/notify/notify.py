"""Telling the world a show changed: WebSub hubs, podping and chat webhooks, each change once.

What is owed is read from the published state itself (a live episode a chat channel has not had; a
feed whose bytes a hub or podping has not been told of), so a run killed after its feed write owes
it to the next run. What was claimed and sent is recorded at `_private/<show>/notifications.json`,
changed only by conditional writes, so two runs (or two machines) never both send. See
docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from media_pipeline import __version__, layout
from media_pipeline.errors import PipelineError, StorageError
from media_pipeline.layout import feed_url
from media_pipeline.layout import notifications_key as state_key
from media_pipeline.model import Catalog, Show, Workspace
from media_pipeline.publishing import manifest
from media_pipeline.publishing.lock import LockTimeout, lock_path, locked
from media_pipeline.publishing.manifest import EpisodeRecord, Manifest
from media_pipeline.storage import PreconditionFailed, Storage, open_storage

log = logging.getLogger(__name__)

FORMAT = 1
STATE_TYPE = "application/json"
USER_AGENT = f"media-pipeline/{__version__} (+https://github.com/media-pipeline)"

ENV_RETRY_DELAY = "MEDIA_PIPELINE_NOTIFY_RETRY_DELAY"  # seconds before the first retry in a run
ENV_LEASE = "MEDIA_PIPELINE_NOTIFY_LEASE"  # seconds a claim holds before another run may take over
ENV_TIMEOUT = "MEDIA_PIPELINE_NOTIFY_TIMEOUT"  # seconds per HTTP request
TRIES = 3  # requests per notification in one run: the first and two retries with backoff
RETRY_DELAY = 2.0
LEASE = 900.0
TIMEOUT = 10.0
LOCK_TIMEOUT = 120.0
# A channel configured for the first time announces only what went live in the last day; older
# episodes count as announced, so adding Slack to a show of forty episodes posts no flood.
BACKLOG = timedelta(days=1)

PING_KINDS = ("hub", "podping")
CHAT_KINDS = ("slack", "teams", "mattermost", "webhook")
FEED_ITEM = "feed"


def episode_url(ws: Workspace, show: Show, record: EpisodeRecord) -> str:
    """Where a message sends a listener: the episode's page on the listener site."""
    return layout.episode_page_url(ws, show, record.slug)


# -- channels and what they are owed -----------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """One receiver of a show's notifications. `id` is its key in the state: the hub URL, or the
    environment variable naming the secret, so a new hub or a new variable starts afresh."""

    kind: str
    url: str | None = None  # public: the hub, or the podping endpoint
    env: str | None = None  # the environment variable holding the secret (webhook URL or token)

    @property
    def id(self) -> str:
        return f"hub:{self.url}" if self.kind == "hub" else f"{self.kind}:{self.env}"

    @property
    def label(self) -> str:
        """How messages name the channel: never the secret, only where it comes from."""
        return f"hub {self.url}" if self.kind == "hub" else f"{self.kind} (${self.env})"


def channels(show: Show) -> list[Channel]:
    n = show.notify
    found = [Channel("hub", url=hub) for hub in n.hubs]
    if n.podping:
        found.append(Channel("podping", url=n.podping_url, env=n.podping))
    found += [Channel(kind, env=getattr(n, kind)) for kind in CHAT_KINDS if getattr(n, kind)]
    return found


@dataclass(frozen=True)
class Notice:
    """One notification owed: a feed change to a ping channel, or a new episode to a chat channel."""

    channel: Channel
    item: str  # FEED_ITEM or an episode guid
    subject: str  # what it is about, for logs: the feed URL or show/episode
    sha256: str | None = None  # of the feed, for pings


# -- the recorded state ------------------------------------------------------------------------


@dataclass
class State:
    """`{"channels": {id: {"since": time, "items": {item: record}}}}`; an item record has `state`
    (baseline, claimed, owed, sent, given_up, withdrawn), `attempts`, and while claimed `claim` and
    `lease_until`."""

    show: str
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = {"format": FORMAT, "show": self.show, "channels": self.channels}
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_bytes(cls, show: str, data: bytes | None) -> "State":
        if not data:
            return cls(show)
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT or not isinstance(raw.get("channels"), dict):
                raise ValueError(f"unknown format {raw.get('format')!r}")
            return cls(show, raw["channels"])
        except (ValueError, AttributeError) as exc:
            raise StorageError(f"the notification record cannot be read ({exc}); it must not be edited by hand",
                               path=state_key(show)) from exc

    def item(self, notice: Notice) -> dict[str, Any] | None:
        return self.channels.get(notice.channel.id, {}).get("items", {}).get(notice.item)


def _transact(storage: Storage, show: str, change: Callable[[State], Any], attempts: int = 12) -> Any:
    """Read the state, apply `change`, write it back only if the object is still the one read
    (If-Match, or If-None-Match for the first write); on a conflict read again and re-apply, so
    `change` must decide from what it is given. Returns what `change` returned in the landed attempt."""
    for attempt in range(1, attempts + 1):
        got = storage.get_bytes(state_key(show))
        data, etag = (got[0], got[1].etag) if got else (None, None)
        state = State.from_bytes(show, data)
        result = change(state)
        new = state.to_bytes()
        if new == (data or State(show).to_bytes()):
            return result
        try:
            storage.put_bytes(state_key(show), new, content_type=STATE_TYPE, cache_control="no-store",
                              if_match=etag, if_absent=etag is None)
        except PreconditionFailed:
            log.info("%s: another run changed the notification record; reading again (attempt %d)", show, attempt)
            time.sleep(random.uniform(0.02, 0.1) * attempt)
            continue
        return result
    raise StorageError(f"gave up after {attempts} attempts: other runs kept changing it", path=state_key(show))


def owed(show: Show, state: State, m: Manifest, feed: bytes | None, now: datetime, *, wall: float,
         ws: Workspace) -> list[Notice]:
    """What the published state owes each channel that no run has sent or holds a live claim on.

    Baselines a chat channel seen for the first time (in `state`, which the caller may write)."""
    notices = []
    sha = hashlib.sha256(feed).hexdigest() if feed is not None else None
    live = sorted((r for r in m.episodes.values() if r.state == "live"), key=lambda r: (r.publish_at, r.slug))
    for channel in channels(show):
        fresh = channel.id not in state.channels
        entry = state.channels.setdefault(channel.id, {"since": now.isoformat(), "items": {}})
        items = entry["items"]
        if channel.kind in PING_KINDS:
            if sha is None:
                continue
            record = items.get(FEED_ITEM)
            if record is None or record.get("sha256") != sha:
                # a newer feed supersedes an older one still owed: one ping tells of both
                candidates = [Notice(channel, FEED_ITEM, feed_url(ws, show), sha)]
            else:
                candidates = [Notice(channel, FEED_ITEM, feed_url(ws, show), sha)] if _open(record, wall) else []
        else:
            if fresh:
                for r in live:
                    if r.publish_at <= now - BACKLOG:
                        items[r.guid] = {"state": "baseline"}
            candidates = [Notice(channel, r.guid, layout.episode_key(show.slug, r.slug)) for r in live
                          if r.guid not in items or _open(items[r.guid], wall)]
        notices += candidates
    return notices


def _open(record: dict[str, Any], wall: float) -> bool:
    """Still to be sent: owed, or claimed by a run whose lease has run out (it died, most likely)."""
    if record.get("state") == "owed":
        return True
    return record.get("state") == "claimed" and float(record.get("lease_until", 0)) < wall


# -- the entry point ---------------------------------------------------------------------------


@dataclass
class NotifyReport:
    sent: list[str] = field(default_factory=list)  # "channel label: subject"
    planned: list[str] = field(default_factory=list)  # with dry_run: what would be sent
    warnings: list[str] = field(default_factory=list)  # one line per show with failures


def after_run(ws: Workspace, catalog: Catalog, shows: Iterable[str] | None = None, *, now: datetime,
              dry_run: bool = False, storage: Storage | None = None, environ: dict[str, str] | None = None,
              upcoming: Iterable[str] = ()) -> NotifyReport:
    """Send what the shows' published state owes their hubs, podping and chat channels.

    Call it after publish, release-due or unpublish (for the shows they touched, or every show).
    It never raises for a failed notification: each show with failures gets one warning line
    (logged and in the report), and what failed stays owed for the next run, up to the show's
    `notify.attempts` runs. With `dry_run`, it lists what would be sent and changes nothing;
    `upcoming` names the episodes (`show/slug`) the dry run would have made live, so they are listed too.
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
    for show in selected:
        try:
            with locked(lock_path(ws, f"{show.slug}.notify"), timeout=LOCK_TIMEOUT):
                _notify_show(ws, catalog, storage, show, now, dry_run, environ, report,
                             [key for key in upcoming if key.startswith(f"{show.slug}/")])
        except (PipelineError, LockTimeout) as exc:
            _warn(report, f"{show.slug}: notifications not sent ({exc}); they stay owed for the next run")
        except Exception as exc:  # noqa: BLE001 - a notification must never fail the run that published
            # Only the class: the message of an unexpected error could carry a secret.
            _warn(report, f"{show.slug}: notifications not sent ({type(exc).__name__}); they stay owed for the "
                          f"next run")
    return report


def _notify_show(ws: Workspace, catalog: Catalog, storage: Storage, show: Show, now: datetime, dry_run: bool,
                 environ: dict[str, str], report: NotifyReport, upcoming: list[str]) -> None:
    missing = sorted({c.env for c in channels(show) if c.env and not environ.get(c.env)})
    if dry_run:
        got = storage.get_bytes(state_key(show.slug))
        state = State.from_bytes(show.slug, got[0] if got else None)
        m, feed = _published(storage, show.slug)
        planned = [(n.channel, n.subject) for n in owed(show, state, m, feed, now, wall=time.time(), ws=ws)]
        if upcoming:  # the feed would change, and these would go live
            planned += [(c, feed_url(ws, show)) for c in channels(show) if c.kind in PING_KINDS]
            planned += [(c, key) for c in channels(show) if c.kind in CHAT_KINDS for key in upcoming]
        for channel, subject in dict.fromkeys(planned):
            report.planned.append(f"{channel.label}: {subject}")
        return
    run = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease = _seconds(environ, ENV_LEASE, LEASE)

    def claim(state: State) -> list[Notice]:
        # Read after the state: any feed or manifest a recorded notice speaks of is at most as new
        # as these, so a feed differing from the recorded one is newer, never older.
        m, feed = _published(storage, show.slug)
        wall = time.time()
        mine = []
        for notice in owed(show, state, m, feed, now, wall=wall, ws=ws):
            if notice.channel.env and not environ.get(notice.channel.env):
                continue  # left owed: a machine that has the secret sends it
            items = state.channels[notice.channel.id]["items"]
            before = items.get(notice.item) or {}
            attempts = before.get("attempts", 0) if before.get("sha256") == notice.sha256 else 0
            items[notice.item] = {"state": "claimed", "claim": run, "lease_until": round(wall + lease, 3),
                                  "attempts": attempts + 1, **({"sha256": notice.sha256} if notice.sha256 else {})}
            mine.append(notice)
        return mine

    notices = _transact(storage, show.slug, claim)
    m, _ = _published(storage, show.slug)
    failures: list[str] = []
    gave_up: list[str] = []
    for c in missing:
        failures.append(f"${c} is not set")
    delay = _seconds(environ, ENV_RETRY_DELAY, RETRY_DELAY)
    timeout = _seconds(environ, ENV_TIMEOUT, TIMEOUT)
    for notice in notices:
        if notice.item != FEED_ITEM and getattr(m.episodes.get(notice.item), "state", None) != "live":
            # taken down since the claim: it is never announced
            _transact(storage, show.slug, lambda state: _withdraw(state, notice, run))
            continue
        request = build_request(ws, catalog, show, m, notice, environ)
        error = send(request, notice.channel, tries=TRIES, delay=delay, timeout=timeout)
        outcome = _transact(storage, show.slug, lambda state: _settle(state, notice, run, error, show))
        if error is None:
            log.info("%s: notified %s of %s", show.slug, notice.channel.label, notice.subject)
            report.sent.append(f"{notice.channel.label}: {notice.subject}")
        elif outcome == "given_up":
            gave_up.append(f"{notice.channel.label} ({error})")
        else:
            failures.append(f"{notice.channel.label} ({error}, attempt {outcome} of {show.notify.attempts})")
    parts = []
    if failures:
        parts.append(f"not sent, retried on the next run: {'; '.join(failures)}")
    if gave_up:
        parts.append(f"given up after {show.notify.attempts} attempts: {'; '.join(gave_up)}")
    if parts:
        _warn(report, f"{show.slug}: notifications {'; '.join(parts)}")


def _settle(state: State, notice: Notice, run: str, error: str | None, show: Show) -> str | int:
    """Record the outcome of our claim: sent, owed again, or given up after the show's limit."""
    items = state.channels.setdefault(notice.channel.id, {"since": "", "items": {}})["items"]
    record = items.get(notice.item)
    if record is None or record.get("sha256") != notice.sha256:
        return "superseded"  # a newer feed is owed now; its ping is another notice
    if error is None:
        items[notice.item] = {"state": "sent", "attempts": record.get("attempts", 1),
                              "sent_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              **({"sha256": notice.sha256} if notice.sha256 else {})}
        return "sent"
    if record.get("claim") != run:
        return "taken over"  # another run took it over after our lease ran out; it decides
    attempts = int(record.get("attempts", 1))
    state_name = "given_up" if attempts >= show.notify.attempts else "owed"
    items[notice.item] = {"state": state_name, "attempts": attempts, "error": error,
                          **({"sha256": notice.sha256} if notice.sha256 else {})}
    return "given_up" if state_name == "given_up" else attempts


def _withdraw(state: State, notice: Notice, run: str) -> None:
    items = state.channels.get(notice.channel.id, {}).get("items", {})
    if items.get(notice.item, {}).get("claim") == run:
        items[notice.item] = {"state": "withdrawn", "attempts": items[notice.item].get("attempts", 1)}


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


# -- messages ----------------------------------------------------------------------------------

_STRINGS = {
    "fi": {"new": "Uusi jakso", "listen": "Kuuntele", "h": "t", "min": "min", "s": "s"},
    "sv": {"new": "Nytt avsnitt", "listen": "Lyssna", "h": "tim", "min": "min", "s": "s"},
    "en": {"new": "New episode", "listen": "Listen", "h": "h", "min": "min", "s": "s"},
}


def strings(language: str) -> dict[str, str]:
    return _STRINGS.get(language.split("-")[0].lower(), _STRINGS["en"])


def duration_text(seconds: float, language: str) -> str:
    words = strings(language)
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} {words['s']}"
    hours, minutes = divmod(round(total / 60), 60)
    return f"{hours} {words['h']} {minutes} {words['min']}" if hours else f"{minutes} {words['min']}"


@dataclass(frozen=True)
class Message:
    """A new episode as the chat channels tell of it, in the show's language."""

    show: str
    title: str
    duration: str
    link: str
    heading: str  # "Uusi jakso" / "Nytt avsnitt" / "New episode"
    listen: str

    @property
    def text(self) -> str:
        return f"{self.heading}: {self.title}\n{self.show} · {self.duration}\n{self.link}"


def episode_message(ws: Workspace, catalog: Catalog, show: Show, record: EpisodeRecord) -> Message:
    episode = next((e for e in catalog.episodes.get(show.slug, ()) if e.guid == record.guid), None)
    episode = episode or next((e for e in catalog.episodes.get(show.slug, ()) if e.slug == record.slug), None)
    words = strings(show.language)
    return Message(show=show.title, title=episode.title if episode else record.slug,
                   duration=duration_text(record.duration, show.language), link=episode_url(ws, show, record),
                   heading=words["new"], listen=words["listen"])


def _slack_escape(text: str) -> str:
    # Slack mrkdwn: these three are control characters and must be escaped as entities.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markdown_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "\\`*_[]()#<>|~" else c for c in text)


def slack_payload(msg: Message) -> dict:
    """Slack incoming webhook: `text` is the notification and screen-reader fallback; the block
    carries the same with a link."""
    body = f"*{_slack_escape(msg.heading)}: <{msg.link}|{_slack_escape(msg.title)}>*\n" \
           f"{_slack_escape(msg.show)} · {_slack_escape(msg.duration)}"
    return {"text": msg.text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]}


def mattermost_payload(msg: Message) -> dict:
    return {"text": f"**{_markdown_escape(msg.heading)}: [{_markdown_escape(msg.title)}]({msg.link})**\n"
                    f"{_markdown_escape(msg.show)} · {msg.duration}"}


def teams_payload(msg: Message) -> dict:
    """An Adaptive Card in a message, which both Teams workflow webhooks and the older incoming
    webhooks accept."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "TextBlock", "text": msg.heading, "size": "Small", "isSubtle": True, "wrap": True},
                 {"type": "TextBlock", "text": msg.title, "weight": "Bolder", "size": "Medium", "wrap": True},
                 {"type": "TextBlock", "text": f"{msg.show} · {msg.duration}", "wrap": True}],
        "actions": [{"type": "Action.OpenUrl", "title": msg.listen, "url": msg.link}],
    }
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


def webhook_payload(ws: Workspace, show: Show, record: EpisodeRecord, msg: Message) -> dict:
    """The generic webhook's JSON (docs/notifications.md lists every field)."""
    return {"event": "episode.published", "text": msg.text,
            "show": {"slug": show.slug, "title": show.title, "language": show.language,
                     "feed_url": feed_url(ws, show), "link": show.link or layout.show_page_url(ws, show)},
            "episode": {"guid": record.guid, "slug": record.slug, "title": msg.title,
                        "published_at": record.publish_at.isoformat(), "duration_seconds": round(record.duration),
                        "url": msg.link}}


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # never shown: redacted from every message about this request


def build_request(ws: Workspace, catalog: Catalog, show: Show, m: Manifest, notice: Notice,
                  environ: dict[str, str]) -> Request:
    channel = notice.channel
    secret = environ.get(channel.env, "") if channel.env else ""
    headers = {"User-Agent": USER_AGENT}
    if channel.kind == "hub":
        # WebSub publish (the de-facto form PubSubHubbub hubs accept): form-encoded mode and URL.
        form = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed_url(ws, show)}).encode()
        return Request("POST", channel.url or "", form,
                       {**headers, "Content-Type": "application/x-www-form-urlencoded"})
    if channel.kind == "podping":
        # podping.cloud: GET /?url=FEED&reason=update&medium=..., the token in Authorization.
        query = urllib.parse.urlencode({"url": feed_url(ws, show), "reason": "update",
                                        "medium": show.medium or "podcast"})
        base = channel.url or ""
        return Request("GET", f"{base}{'&' if '?' in base else '?'}{query}", None,
                       {**headers, "Authorization": secret}, (secret,))
    record = m.episodes[notice.item]
    msg = episode_message(ws, catalog, show, record)
    payload = {"slack": slack_payload, "mattermost": mattermost_payload, "teams": teams_payload}.get(channel.kind)
    data = payload(msg) if payload else webhook_payload(ws, show, record, msg)
    return Request("POST", secret, json.dumps(data, ensure_ascii=False).encode(),
                   {**headers, "Content-Type": "application/json; charset=utf-8"}, (secret,))


# -- HTTP --------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (a webhook that moved must be configured anew; and a redirect
    could lead anywhere, file: or ftp: included): it is a failure like any other status."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(request: Request, channel: Channel, *, tries: int = TRIES, delay: float = RETRY_DELAY,
         timeout: float = TIMEOUT) -> str | None:
    """Send with retries and exponential backoff (with jitter); None when a 2xx came back, else the
    last failure as a short reason with every secret removed."""
    if urllib.parse.urlsplit(request.url).scheme not in ("http", "https"):
        return "not an http(s) URL"
    error = None
    for attempt in range(1, tries + 1):
        error = _once(request, timeout)
        if error is None:
            return None
        log.info("%s: attempt %d of %d failed: %s", channel.label, attempt, tries, error)
        if attempt < tries:
            time.sleep(delay * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2))
    return error


def _once(request: Request, timeout: float) -> str | None:
    req = urllib.request.Request(request.url, data=request.body, headers=request.headers, method=request.method)
    try:
        with _OPENER.open(req, timeout=timeout) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return redact(f"{type(exc).__name__}: {reason}", request.secrets)
    if 200 <= status < 300:
        return None
    return f"HTTP {status}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret, and the host and path parts of secret URLs, replaced by ***."""
    for secret in secrets:
        if not secret:
            continue
        parts = urllib.parse.urlsplit(secret)
        for piece in (secret, parts.netloc, parts.path, parts.query):
            if piece and len(piece) > 3:
                text = text.replace(piece, "***")
    return text
