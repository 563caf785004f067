"""Counting downloads the way the IAB Tech Lab Podcast Technical Measurement Guidelines (v2.3, which
keeps v2.2's rules and names the window choices) count them, from requests already read.

Per request (PTM 5.5.2): only GET with 200 or 206 counts; HEAD, 304 and failures do not; 2-byte
(0-1) probes do not; bots, pre-fetchers and Apple Watch duplicates do not. Per listener, episode
and measurement day (calendar day, UTC; PTM 5.5.1): the bytes of every request are merged as byte
ranges, and the episode counts once when they reach its header plus one minute of audio at its
bitrate, or the whole file when it is shorter than a minute or its header size is unknown
(PTM 5.5.3). Page views of the site are counted apart, per page and day.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass, field
from typing import Iterable

from media_pipeline.layout import unversioned_key
from media_pipeline.stats import clients
from media_pipeline.stats.logs import Malformed, Request

ONE_MINUTE = 60.0
# A day's pseudonyms and key are kept this long after the day ends, for logs that arrive late
# (S3 delivers most within a few hours), then deleted with everything that could link them.
DEFAULT_GRACE = dt.timedelta(hours=6)


@dataclass(frozen=True)
class MediaFile:
    """A published rendition as the manifest names it."""

    show: str
    slug: str
    key: str
    size: int
    duration: float
    publish_at: dt.datetime
    header: int | None = None  # bytes before the first audio (ID3 tag, MP4 boxes before mdat)

    @property
    def threshold(self) -> int:
        """Bytes a listener must have received for a download (PTM 5.5.3)."""
        if self.header is None or self.duration < ONE_MINUTE or self.size <= self.header:
            return self.size
        per_second = (self.size - self.header) / self.duration
        return min(self.size, self.header + math.ceil(per_second * ONE_MINUTE))

    @property
    def episode(self) -> str:
        return f"{self.show}/{self.slug}"


class Media:
    """Storage key to rendition, for current keys and the keys of bytes the episode had before it
    was republished (`<slug>.<hash>.mp3` and the plain `<slug>.mp3`: layout.versioned_key)."""

    def __init__(self, files: Iterable[MediaFile]):
        self.files = list(files)
        self._by_key = {f.key: f for f in self.files}
        self._by_base = {unversioned_key(f.key): f for f in self.files}

    def find(self, key: str) -> MediaFile | None:
        return self._by_key.get(key) or self._by_base.get(unversioned_key(key))


@dataclass
class Tally:
    """What one or more runs counted: downloads[show][slug][day][app], pages[key][day], and every
    request left out, by reason. Only counts: nothing that names a listener."""

    downloads: dict = field(default_factory=dict)
    pages: dict = field(default_factory=dict)
    left_out: dict = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + n

    def add_download(self, file: MediaFile, day: str, app: str) -> None:
        days = self.downloads.setdefault(file.show, {}).setdefault(file.slug, {})
        apps = days.setdefault(day, {})
        apps[app] = apps.get(app, 0) + 1

    def add_page(self, key: str, day: str) -> None:
        days = self.pages.setdefault(key, {})
        days[day] = days.get(day, 0) + 1


@dataclass
class OpenDays:
    """The measurement days still open: per day a random key and, per pseudonymous listener and
    episode, the byte ranges received so far and whether the download was counted. Deleted day by
    day as each closes (`close`)."""

    days: dict = field(default_factory=dict)

    def day(self, name: str) -> dict:
        if name not in self.days:
            self.days[name] = {"key": secrets.token_hex(32), "listeners": {}}
        return self.days[name]

    def close(self, now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> list[str]:
        """Forget every day that ended more than `grace` ago; the names of the days closed."""
        closed = [d for d in self.days if now >= _day_end(d) + grace]
        for name in closed:
            del self.days[name]
        return closed


def _day_end(name: str) -> dt.datetime:
    return dt.datetime.fromisoformat(name).replace(tzinfo=dt.timezone.utc) + dt.timedelta(days=1)


def is_closed(day: str, open_days: OpenDays, closed_before: str | None) -> bool:
    return day not in open_days.days and closed_before is not None and day <= closed_before


def merge(ranges: list[list[int]], first: int, end: int) -> list[list[int]]:
    """Half-open byte ranges [first, end) merged into a sorted list of disjoint ones."""
    out: list[list[int]] = []
    for a, b in sorted([*ranges, [first, end]]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def count(requests: Iterable[Request | Malformed], *, media: Media, page_key, media_key,
          tally: Tally, open_days: OpenDays, closed_before: str | None) -> None:
    """Count `requests` into `tally`. `media_key(request)` gives the storage key of a request for
    this publisher's media (None: another bucket or prefix, counted as such), `page_key(key)` the
    page a key is (None: not a page). A request for a day already closed is left out as late:
    its listeners can no longer be told apart from those already counted."""
    for request in requests:
        if isinstance(request, Malformed):
            tally.skip("malformed line")
            continue
        key = media_key(request)
        if key is None:
            tally.skip("another bucket or prefix")
            continue
        file = media.find(key)
        page = None if file else page_key(key)
        if file is None and page is None:
            tally.skip("not media or a page")
            continue
        if request.method != "GET":
            tally.skip(f"{request.method} request")
            continue
        kind, app = clients.classify(request.user_agent)
        if kind == "bot":
            tally.skip("bot or pre-fetcher")
            continue
        day = request.time.date().isoformat()
        if is_closed(day, open_days, closed_before):
            tally.skip("late: day already closed")
            continue
        if page is not None:
            if request.status in (200, 304):
                tally.add_page(page, day)
            else:
                tally.skip(f"page status {request.status}")
            continue
        if kind == "watch":
            tally.skip("Apple Watch duplicate")
            continue
        if request.status not in (200, 206):
            tally.skip("not modified (304)" if request.status == 304 else f"status {request.status}")
            continue
        if request.first == 0 and request.last == 1 or (request.status == 206 and request.sent <= 2):
            tally.skip("2-byte range probe")
            continue
        _received(request, file, day, app, open_days, tally)


def _received(request: Request, file: MediaFile, day: str, app: str, open_days: OpenDays, tally: Tally) -> None:
    state = open_days.day(day)
    who = clients.listener(bytes.fromhex(state["key"]), request.ip, request.user_agent)
    entry = state["listeners"].setdefault(f"{who} {file.episode} {unversioned_key(file.key)}",
                                          {"ranges": [], "loose": 0})
    counted_key = f"{who} {file.episode}"
    if request.first is not None:
        entry["ranges"] = merge(entry["ranges"], request.first, request.first + request.sent)
    elif request.status == 200:
        entry["ranges"] = merge(entry["ranges"], 0, request.sent)
    else:  # a 206 whose range the log does not say (S3 access logs): its bytes, wherever they were
        entry["loose"] += request.sent
    received = min(file.size, sum(b - a for a, b in entry["ranges"]) + entry["loose"])
    counted = state.setdefault("counted", [])
    if received >= file.threshold and counted_key not in counted:
        counted.append(counted_key)
        tally.add_download(file, day, app)
