"""The notification record, `_private/<show>/notifications.json`: what each channel was sent, what
a run holds a claim on, what was given up; and what the published state owes each channel.

Typed records in, deterministic JSON out; changed only through `storage.conditional`, so two runs
(or two machines) never both claim one notification. See docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from media_pipeline import layout
from media_pipeline.errors import StorageError
from media_pipeline.layout import feed_url
from media_pipeline.layout import notifications_key as record_key
from media_pipeline.model import Show, Workspace
from media_pipeline.notify.channels import FEED_ITEM, Notice, channels
from media_pipeline.publishing.manifest import Manifest

FORMAT = 1
# A channel configured for the first time announces only what went live in the last day; older
# episodes count as announced, so adding Slack to a show of forty episodes posts no flood.
BACKLOG = timedelta(days=1)

ItemState = Literal["baseline", "claimed", "owed", "sent", "given_up", "withdrawn"]
_STATES = frozenset(get_args(ItemState))


@dataclass(frozen=True)
class Item:
    """What one channel was told of one thing (an episode's guid, or the feed for a ping channel).

    `attempts` counts the runs that claimed it; `claim`, `host` and `lease_until` are set while a
    run holds it; `error` is the last failure of an owed or given-up one."""

    state: ItemState
    attempts: int = 0
    sha256: str | None = None  # the feed's, for pings
    claim: str | None = None  # run id: "host:pid:random"
    boot: str | None = None  # the claiming machine's boot id, so a dead run on this machine is known dead
    lease_until: float | None = None
    error: str | None = None
    sent_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"state": self.state}
        if self.attempts:
            data["attempts"] = self.attempts
        for name in ("sha256", "claim", "boot", "lease_until", "error", "sent_at"):
            if (value := getattr(self, name)) is not None:
                data[name] = value
        return data

    @classmethod
    def from_json(cls, raw: Any) -> "Item":
        if not isinstance(raw, dict) or raw.get("state") not in _STATES:
            raise ValueError(f"an item must have a state among {', '.join(sorted(_STATES))}")
        attempts = raw.get("attempts", 0)
        if not isinstance(attempts, int) or attempts < 0:
            raise ValueError(f"attempts must be a count, not {attempts!r}")
        lease = raw.get("lease_until")
        return cls(raw["state"], attempts, raw.get("sha256"), raw.get("claim"), raw.get("boot"),
                   float(lease) if lease is not None else None, raw.get("error"), raw.get("sent_at"))

    def open(self, wall: float) -> bool:
        """Still to be sent: owed, or claimed by a run that is gone (its lease ran out, or it ran on
        this machine and has exited)."""
        if self.state == "owed":
            return True
        return self.state == "claimed" and ((self.lease_until or 0) < wall or self.dead())

    def held(self, wall: float) -> bool:
        """Claimed by a run that may still be sending it."""
        return self.state == "claimed" and not self.open(wall)

    def running_here(self) -> bool:
        """Claimed by a process of this machine's current boot that is still running."""
        host, pid, _ = ((self.claim or "").rsplit(":", 2) + ["", ""])[:3]
        return (bool(self.boot) and self.boot == boot_id() and host == socket.gethostname() and pid.isdigit()
                and _alive(int(pid)))

    def dead(self) -> bool:
        """Claimed by a run on this machine (same host name and boot) whose process has exited: it
        can no longer be sending, so its claim need not wait for the lease."""
        if not self.claim or not self.boot or self.boot != boot_id():
            return False
        host, pid, _ = (self.claim.rsplit(":", 2) + ["", ""])[:3]
        return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


@dataclass
class ChannelRecord:
    since: str  # when the channel was first seen
    items: dict[str, Item] = field(default_factory=dict)


@dataclass
class Record:
    """`{"format": 1, "show": slug, "channels": {channel id: {"since": time, "items": {item: Item}}}}`."""

    show: str
    channels: dict[str, ChannelRecord] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = {"format": FORMAT, "show": self.show,
                "channels": {cid: {"since": c.since, "items": {k: i.to_json() for k, i in c.items.items()}}
                             for cid, c in self.channels.items()}}
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_bytes(cls, show: str, data: bytes | None) -> "Record":
        if not data:
            return cls(show)
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(raw.get("channels"), dict):
                raise ValueError(f"unknown format {raw.get('format') if isinstance(raw, dict) else raw!r}")
            return cls(show, {cid: ChannelRecord(str(c.get("since", "")),
                                                 {k: Item.from_json(i) for k, i in c.get("items", {}).items()})
                              for cid, c in raw["channels"].items()})
        except (ValueError, AttributeError, TypeError) as exc:
            raise StorageError(f"the notification record cannot be read ({exc}); it must not be edited by hand",
                               path=record_key(show)) from exc

    def item(self, notice: Notice) -> Item | None:
        entry = self.channels.get(notice.channel.id)
        return entry.items.get(notice.item) if entry else None

    def put(self, notice: Notice, item: Item) -> None:
        self.channels.setdefault(notice.channel.id, ChannelRecord("")).items[notice.item] = item


def owed(show: Show, record: Record, m: Manifest, feed: bytes | None, now: datetime, *, wall: float,
         ws: Workspace) -> tuple[list[Notice], list[tuple[Notice, Item]]]:
    """What the published state owes each channel that no run has sent or holds a live claim on,
    and beside it what a run still holds (the notice and its claim).

    Baselines a chat channel seen for the first time (in `record`, which the caller may write)."""
    notices: list[Notice] = []
    held: list[tuple[Notice, Item]] = []
    sha = hashlib.sha256(feed).hexdigest() if feed is not None else None
    live = sorted((r for r in m.episodes.values() if r.state == "live"), key=lambda r: (r.publish_at, r.slug))
    for channel in channels(show):
        fresh = channel.id not in record.channels
        entry = record.channels.setdefault(channel.id, ChannelRecord(now.isoformat()))
        if channel.chat:
            if fresh:
                for r in live:
                    if r.publish_at <= now - BACKLOG:
                        entry.items[r.guid] = Item("baseline")
            candidates = [Notice(channel, r.guid, layout.episode_key(show.slug, r.slug)) for r in live]
        elif sha is None:
            continue
        else:
            candidates = [Notice(channel, FEED_ITEM, feed_url(ws, show), sha)]
        for notice in candidates:
            item = entry.items.get(notice.item)
            if item is None or (notice.sha256 and item.sha256 != notice.sha256):
                notices.append(notice)  # a newer feed supersedes an older one still owed: one ping tells of both
            elif item.open(wall):
                notices.append(notice)
            elif item.held(wall):
                held.append((notice, item))
    return notices, held


def claimed(before: Item | None, notice: Notice, run: str, wall: float, lease: float) -> Item:
    """The item as `run` claims it: one more attempt, unless it is a different feed than the one counted."""
    attempts = before.attempts if before is not None and before.sha256 == notice.sha256 else 0
    return Item("claimed", attempts + 1, notice.sha256, run, boot_id(), round(wall + lease, 3))


def retry_given_up(record: Record, kinds: set[str] | None = None) -> int:
    """Make every given-up item (of channels of these kinds, or all) owed again with its attempts
    cleared; returns how many."""
    count = 0
    for cid, entry in record.channels.items():
        if kinds is not None and cid.split(":", 1)[0] not in kinds:
            continue
        for key, item in entry.items.items():
            if item.state == "given_up":
                entry.items[key] = replace(item, state="owed", attempts=0)
                count += 1
    return count


def run_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def boot_id() -> str:
    """This machine's boot (Linux); a claim made in another boot is never taken for this one's."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not reaped yet still answers kill(0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
