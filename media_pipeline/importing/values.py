"""The values inside feed elements as real feeds write them: text with CDATA and entities, booleans
and numbers in several spellings, durations in seconds or clock form, dates in RFC 2822 and its
common mistakes, URLs relative to the feed, persons, locations and enclosures."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from urllib.parse import urljoin

from media_pipeline.importing.parsed import Location, Remote, tag_name
from media_pipeline.model import Person


def text_of(el) -> str:
    """The element's whole text (CDATA included, entities resolved), surrounding space removed."""
    return "".join(el.itertext()).strip() if el is not None else ""


def as_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("yes", "true", "explicit", "1"):
        return True
    if value in ("no", "false", "clean", "0"):
        return False
    return None


def as_int(text: str) -> int | None:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value >= 0 and value == int(value) else None


_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


def parse_duration(text: str) -> float | None:
    """`itunes:duration` as feeds write it: seconds (`3600`, `3600.5`), `MM:SS` or `HH:MM:SS`."""
    text = text.strip()
    if not text:
        return None
    try:
        seconds = float(text)
        return seconds if seconds >= 0 else None
    except ValueError:
        pass
    match = _CLOCK.match(text)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def parse_date(text: str) -> dt.datetime | None:
    """An RFC 2822 date (RSS) with its own offset kept; ISO 8601 (Atom, dc:date) too."""
    text = " ".join(text.split())
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:  # RFC 2822's -0000: UTC, source zone unknown
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def clock_seconds(text: str) -> float | None:
    """A Podlove Simple Chapters time: `HH:MM:SS.mmm`, `MM:SS`, or seconds."""
    return parse_duration(text)


def person_of(el, resolve) -> Person | None:
    name = text_of(el) or (el.get("name") or "").strip()
    if not name:
        return None
    return Person(name=name, role=(el.get("role") or "host").strip().lower(),
                      group=(el.get("group") or "cast").strip().lower(),
                      href=resolve(el.get("href")) or None, img=resolve(el.get("img")) or None)


def location_of(el) -> Location | None:
    name = text_of(el) or (el.get("name") or "").strip()
    return Location(name=name, geo=el.get("geo"), osm=el.get("osm") or el.get("osmid")) if name else None


def image_of(el, resolve) -> str:
    """itunes:image is `href=`, though some hosts write the URL as text; RSS image has `<url>`."""
    return resolve(el.get("href") or text_of(el))


class Resolver:
    """Relative URLs made absolute against xml:base, else the feed's own URL, else its link."""

    def __init__(self, base: str):
        self.base = base

    def __call__(self, url: str | None, el=None) -> str:
        url = (url or "").strip()
        if not url:
            return ""
        base = (el.base if el is not None and el.base and "://" in (el.base or "") else None) or self.base
        return urljoin(base, url) if base else url


def as_float(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def remote_of(el, resolve: Resolver) -> Remote | None:
    url = resolve(el.get("url"), el)
    if not url:
        return None
    length = as_int(el.get("length") or "") or 0
    return Remote(url, (el.get("type") or "").strip().lower(), length)


def alternates_of(el, resolve: Resolver) -> list[Remote]:
    """podcast:alternateEnclosure: its podcast:source URIs (the 2021 form), or the URL as its text
    (the form of the namespace's first example)."""
    uris = [resolve(s.get("uri"), s) for s in el if tag_name(s.tag) == "podcast:source"] or [resolve(text_of(el), el)]
    length = as_int(el.get("length") or "") or 0
    return [Remote(uri, (el.get("type") or "").strip().lower(), length, title=el.get("title"),
                   bitrate=el.get("bitrate")) for uri in uris if uri]
