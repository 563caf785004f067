"""Reading another host's podcast feed, one item at a time: RSS 2.0 with the itunes, Podcasting 2.0
(both namespace URIs in use), content, atom and Podlove Simple Chapters namespaces, as real feeds
write them (undeclared prefixes, CDATA, entities, relative URLs), in memory bounded by one item.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin, urlsplit

from lxml import etree

from media_pipeline.errors import ConfigError

log = logging.getLogger(__name__)

# Namespace URIs real feeds use, each read under one prefix. Podcasting 2.0 feeds written before
# 2021 (the namespace's own example.xml among them) name the namespace by its GitHub document.
PREFIXES = {
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "https://podcastindex.org/namespace/1.0": "podcast",
    "https://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md": "podcast",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://podlove.org/simple-chapters": "psc",
    "http://www.w3.org/2005/atom": "atom",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.google.com/schemas/play-podcasts/1.0": "googleplay",
}


def _name(tag) -> str | None:
    """`prefix:local` for a namespaced tag, the bare name for RSS's own; None for comments and PIs.
    A prefix the feed never declared (lxml's recovery keeps `podcast:transcript` as the name) is
    read as if it had been declared."""
    if not isinstance(tag, str):
        return None
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = PREFIXES.get(uri.lower())
        return f"{prefix}:{local}" if prefix else f"{{{uri}}}{local}"
    return tag


@dataclass(frozen=True)
class Remote:
    """A file the feed points at."""

    url: str
    mime_type: str = ""
    length: int = 0  # 0: the feed does not say (or says 0, as many do)
    language: str | None = None
    rel: str | None = None
    title: str | None = None
    bitrate: str | None = None


@dataclass(frozen=True)
class PersonData:
    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class ChapterData:
    start: float
    title: str
    url: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class Soundbite:
    start: float
    duration: float
    title: str = ""


@dataclass(frozen=True)
class Location:
    name: str
    geo: str | None = None
    osm: str | None = None


@dataclass
class ChannelData:
    title: str = ""
    description: str = ""  # HTML or text
    subtitle: str = ""
    language: str = ""
    author: str = ""
    owner_name: str = ""
    owner_email: str = ""
    categories: list[str] = field(default_factory=list)
    explicit: bool | None = None
    show_type: str = ""
    artwork: str = ""
    link: str = ""
    copyright: str = ""
    license: str = ""
    license_url: str = ""
    funding: list[tuple[str, str]] = field(default_factory=list)  # (url, text)
    podcast_guid: str = ""
    locked: bool | None = None
    locked_owner: str = ""
    persons: list[PersonData] = field(default_factory=list)
    medium: str = ""
    keywords: list[str] = field(default_factory=list)
    new_feed_url: str = ""
    block: bool = False
    complete: bool = False
    location: Location | None = None
    last_build: dt.datetime | None = None
    items: int = 0


@dataclass
class ItemData:
    """One item as the feed gives it; `notes` collects what the reader had to decide, per item."""

    position: int  # 1-based, in feed order
    guid: str = ""
    guid_derived: bool = False
    title: str = ""
    published: dt.datetime | None = None
    notes_html: str = ""
    summary: str = ""
    link: str = ""
    season: int | None = None
    number: int | None = None
    episode_type: str = ""
    explicit: bool | None = None
    duration: float | None = None
    artwork: str = ""
    enclosure: Remote | None = None
    persons: list[PersonData] = field(default_factory=list)
    chapters_url: Remote | None = None
    chapters: list[ChapterData] = field(default_factory=list)  # Podlove Simple Chapters, inline
    transcripts: list[Remote] = field(default_factory=list)
    soundbites: list[Soundbite] = field(default_factory=list)
    alternates: list[Remote] = field(default_factory=list)
    location: Location | None = None
    keywords: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How messages name the item: its title, else its place in the feed."""
        return f"item {self.position} ({self.title!r})" if self.title else f"item {self.position}"


def derived_guid(enclosure_url: str) -> str:
    """An item without a guid is known to podcast apps by its enclosure URL (Apple, gPodder and
    Podcast Addict fall back to it), so the import keeps that URL as the guid: the episode stays the
    one subscribers already have."""
    return enclosure_url.strip()


def _text(el) -> str:
    """The element's whole text (CDATA included, entities resolved), surrounding space removed."""
    return "".join(el.itertext()).strip() if el is not None else ""


def _bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("yes", "true", "explicit", "1"):
        return True
    if value in ("no", "false", "clean", "0"):
        return False
    return None


def _int(text: str) -> int | None:
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


def _clock(text: str) -> float | None:
    """A Podlove Simple Chapters time: `HH:MM:SS.mmm`, `MM:SS`, or seconds."""
    return parse_duration(text)


def _person(el, resolve) -> PersonData | None:
    name = _text(el) or (el.get("name") or "").strip()
    if not name:
        return None
    return PersonData(name=name, role=(el.get("role") or "host").strip().lower(),
                      group=(el.get("group") or "cast").strip().lower(),
                      href=resolve(el.get("href")) or None, img=resolve(el.get("img")) or None)


def _location(el) -> Location | None:
    name = _text(el) or (el.get("name") or "").strip()
    return Location(name=name, geo=el.get("geo"), osm=el.get("osm") or el.get("osmid")) if name else None


def _image(el, resolve) -> str:
    """itunes:image is `href=`, though some hosts write the URL as text; RSS image has `<url>`."""
    return resolve(el.get("href") or _text(el))


class _Resolver:
    """Relative URLs made absolute against xml:base, else the feed's own URL, else its link."""

    def __init__(self, base: str):
        self.base = base

    def __call__(self, url: str | None, el=None) -> str:
        url = (url or "").strip()
        if not url:
            return ""
        base = (el.base if el is not None and el.base and "://" in (el.base or "") else None) or self.base
        return urljoin(base, url) if base else url


def _iterparse(path: Path, **kwargs):
    # recover: real feeds hold undeclared prefixes and stray bytes; huge_tree: long notes.
    # no_network and resolve_entities=False: a feed is data, never a reason to fetch another file.
    return etree.iterparse(str(path), events=("end",), recover=True, huge_tree=True, no_network=True,
                           resolve_entities=False, remove_comments=True, **kwargs)


def _release(el) -> None:
    """Forget an element and the siblings read before it: memory stays that of one item."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def read_channel(path: Path, feed_url: str = "") -> ChannelData:
    """The channel's own elements (wherever they stand among the items) and the number of items."""
    channel = ChannelData()
    resolve = _Resolver(feed_url)
    root_seen = False
    try:
        for _, el in _iterparse(path):
            name = _name(el.tag)
            parent = el.getparent()
            parent_name = _name(parent.tag) if parent is not None else None
            if name == "item":
                channel.items += 1
                _release(el)
                continue
            if parent_name != "channel":
                if name in ("channel", "rss"):
                    root_seen = True
                continue
            _channel_element(channel, name, el, resolve)
            if not channel.link and name == "link" and not resolve.base:
                resolve.base = channel.link
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"is not a readable feed: {exc}", path=feed_url or str(path)) from None
    if not root_seen:
        raise ConfigError("is not an RSS feed: it has no <rss><channel>", path=feed_url or str(path))
    return channel


def _channel_element(c: ChannelData, name: str | None, el, resolve: _Resolver) -> None:
    text = _text(el)
    if name == "title":
        c.title = text
    elif name == "description":
        c.description = text
    elif name == "itunes:summary" and not c.description:
        c.description = text
    elif name == "itunes:subtitle":
        c.subtitle = text
    elif name == "language":
        c.language = text
    elif name == "itunes:author":
        c.author = text
    elif name == "managingEditor" and not c.owner_email:
        email_address, person = _mailbox(text)
        c.owner_email, c.owner_name = email_address, c.owner_name or person
    elif name == "itunes:owner":
        for child in el:
            if _name(child.tag) == "itunes:name":
                c.owner_name = _text(child)
            elif _name(child.tag) == "itunes:email":
                c.owner_email = _text(child)
    elif name == "itunes:category":
        top = (el.get("text") or "").strip()
        subs = [(s.get("text") or "").strip() for s in el if _name(s.tag) == "itunes:category"]
        if top:
            c.categories.extend([f"{top} > {s}" for s in subs if s] or [top])
    elif name == "itunes:explicit":
        c.explicit = _bool(text)
    elif name == "itunes:type":
        c.show_type = text.lower()
    elif name == "itunes:image":
        c.artwork = _image(el, resolve) or c.artwork
    elif name == "image" and not c.artwork:
        c.artwork = resolve(_text(el.find("url")))
    elif name == "link":
        c.link = c.link or resolve(text)
    elif name == "copyright":
        c.copyright = text
    elif name == "podcast:license":
        c.license, c.license_url = text, resolve(el.get("url"))
    elif name == "podcast:funding":
        url = resolve(el.get("url"))
        if url:
            c.funding.append((url, text))
    elif name == "podcast:guid":
        c.podcast_guid = text
    elif name == "podcast:locked":
        c.locked, c.locked_owner = _bool(text), (el.get("owner") or "").strip()
    elif name == "podcast:person":
        if person := _person(el, resolve):
            c.persons.append(person)
    elif name == "podcast:medium":
        c.medium = text.lower()
    elif name == "itunes:keywords":
        c.keywords = [k.strip() for k in text.split(",") if k.strip()]
    elif name == "itunes:new-feed-url":
        c.new_feed_url = text
    elif name == "itunes:block":
        c.block = _bool(text) is True
    elif name == "itunes:complete":
        c.complete = _bool(text) is True
    elif name == "podcast:location":
        c.location = _location(el)
    elif name == "lastBuildDate":
        c.last_build = parse_date(text)


def _mailbox(text: str) -> tuple[str, str]:
    """`john@example.com (John Doe)` (RSS's form) or `John Doe <john@example.com>`: (email, name)."""
    match = re.match(r"^\s*([^\s()<>]+@[^\s()<>]+)\s*(?:\((.*)\))?\s*$", text)
    if match:
        return match.group(1), (match.group(2) or "").strip()
    name, address = email.utils.parseaddr(text)
    return address, name


def read_items(path: Path, feed_url: str = "", channel: ChannelData | None = None) -> Iterator[ItemData]:
    """Each item in feed order, read and then forgotten: a feed of 10,000 items costs the memory
    of one. An item the reader cannot make sense of still comes out, with its remarks."""
    resolve = _Resolver(feed_url or (channel.link if channel else ""))
    position = 0
    try:
        for _, el in _iterparse(path, tag=("item", "{*}item")):
            if _name(el.tag) != "item":
                continue
            position += 1
            try:
                yield _item(el, position, resolve)
            finally:
                _release(el)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"is not a readable feed after item {position}: {exc}", path=feed_url or str(path)) from None


def _item(el, position: int, resolve: _Resolver) -> ItemData:
    item = ItemData(position=position)
    content = description = summary = ""
    itunes_title = ""
    guid_text = ""
    for child in el:
        name = _name(child.tag)
        if name is None:
            continue
        text = _text(child)
        if name == "title":
            item.title = text
        elif name == "itunes:title":
            itunes_title = text
        elif name == "guid":
            guid_text = text
        elif name == "pubDate" or (name in ("dc:date", "atom:published") and item.published is None):
            item.published = parse_date(text) or item.published
            if item.published is None and text:
                item.remarks.append(f"cannot read its date {text!r}")
        elif name == "content:encoded":
            content = text
        elif name == "description":
            description = text
        elif name == "itunes:summary":
            summary = text
        elif name == "link":
            item.link = resolve(text, child)
        elif name in ("itunes:season", "podcast:season"):
            item.season = _int(text) if item.season is None else item.season
        elif name in ("itunes:episode", "podcast:episode"):
            number = _int(text)
            if number is None and text:
                item.remarks.append(f"episode number {text!r} is not a whole number; left out")
            item.number = number if item.number is None else item.number
        elif name == "itunes:episodeType":
            kind = text.lower()
            if kind in ("full", "trailer", "bonus"):
                item.episode_type = kind
            elif kind:
                item.remarks.append(f"episode type {text!r} is not full, trailer or bonus; imported as full")
        elif name == "itunes:explicit":
            item.explicit = _bool(text)
        elif name == "itunes:duration":
            item.duration = parse_duration(text)
            if item.duration is None and text:
                item.remarks.append(f"itunes:duration {text!r} is neither seconds nor a clock time; the probed "
                                    "length of the media is used")
        elif name == "itunes:image":
            item.artwork = _image(child, resolve) or item.artwork
        elif name == "enclosure":
            remote = _remote(child, resolve)
            if remote is None:
                item.remarks.append("has an enclosure without a URL")
            elif item.enclosure is None:
                item.enclosure = remote
            else:
                item.alternates.append(remote)
                item.remarks.append(f"has more than one enclosure; the first is the episode, {remote.url} is kept "
                                    "as an alternate")
        elif name == "podcast:person":
            if person := _person(child, lambda u: resolve(u, child)):
                item.persons.append(person)
        elif name == "podcast:chapters":
            url = resolve(child.get("url"), child)
            if url:
                item.chapters_url = Remote(url, (child.get("type") or "application/json+chapters").strip())
        elif name == "psc:chapters":
            item.chapters = _simple_chapters(child, item, resolve)
        elif name == "podcast:transcript":
            url = resolve(child.get("url"), child)
            if url:
                item.transcripts.append(Remote(url, (child.get("type") or "").strip().lower(),
                                               language=(child.get("language") or "").strip() or None,
                                               rel=child.get("rel")))
        elif name == "podcast:soundbite":
            start, duration = _float(child.get("startTime")), _float(child.get("duration"))
            if start is not None and duration:
                item.soundbites.append(Soundbite(start, duration, text))
        elif name == "podcast:alternateEnclosure":
            item.alternates.extend(_alternates(child, resolve))
        elif name == "podcast:location":
            item.location = _location(child)
        elif name == "itunes:keywords":
            item.keywords = [k.strip() for k in text.split(",") if k.strip()]
    item.title = item.title or itunes_title
    item.notes_html = content or description or summary
    item.summary = summary if summary and summary != item.notes_html else ""
    if guid_text:
        item.guid = guid_text
    elif item.enclosure is not None:
        item.guid, item.guid_derived = derived_guid(item.enclosure.url), True
    return item


def _float(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def _remote(el, resolve: _Resolver) -> Remote | None:
    url = resolve(el.get("url"), el)
    if not url:
        return None
    length = _int(el.get("length") or "") or 0
    return Remote(url, (el.get("type") or "").strip().lower(), length)


def _alternates(el, resolve: _Resolver) -> list[Remote]:
    """podcast:alternateEnclosure: its podcast:source URIs (the 2021 form), or the URL as its text
    (the form of the namespace's first example)."""
    uris = [resolve(s.get("uri"), s) for s in el if _name(s.tag) == "podcast:source"] or [resolve(_text(el), el)]
    length = _int(el.get("length") or "") or 0
    return [Remote(uri, (el.get("type") or "").strip().lower(), length, title=el.get("title"),
                   bitrate=el.get("bitrate")) for uri in uris if uri]


def _simple_chapters(el, item: ItemData, resolve: _Resolver) -> list[ChapterData]:
    chapters = []
    for child in el:
        if _name(child.tag) != "psc:chapter":
            continue
        start = _clock(child.get("start") or "")
        if start is None:
            item.remarks.append(f"a Podlove chapter's start {child.get('start')!r} is not a time; left out")
            continue
        chapters.append(ChapterData(start, (child.get("title") or "").strip(),
                                    resolve(child.get("href"), child) or None, resolve(child.get("image"), child) or None))
    return chapters


def url_name(url: str) -> str:
    """The last path segment of a URL, for naming downloads and for messages."""
    return Path(urlsplit(url).path).name


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
