"""What another host's feed says, as the import reads it: the channel and its items with the
fields the import carries over, the names real feeds give their namespaces, and the stable names
derived from URLs."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from media_pipeline.model import Person

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


def tag_name(tag) -> str | None:
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
    persons: list[Person] = field(default_factory=list)
    medium: str = ""
    keywords: list[str] = field(default_factory=list)
    new_feed_url: str = ""
    block: bool = False
    complete: bool = False
    location: Location | None = None
    last_build: dt.datetime | None = None
    items: int = 0
    shared_times: set[dt.datetime] = field(default_factory=set)  # instants more than one item has


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
    persons: list[Person] = field(default_factory=list)
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


def url_name(url: str) -> str:
    """The last path segment of a URL, for naming downloads and for messages."""
    return Path(urlsplit(url).path).name


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
