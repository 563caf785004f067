"""feedgen extensions for the `itunes` (Apple Podcasts) and `podcast` (Podcasting 2.0) namespaces,
writing exactly the values feed.py validated, in a fixed order.
"""

# feedgen's own podcast extension writes itunes:explicit only as yes/no/clean (Apple now wants
# true/false) and silently drops values it dislikes, hence these.

from __future__ import annotations

from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

from media_pipeline.model import Location, Person, Soundbite

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"


def _it(name: str) -> str:
    return f"{{{ITUNES_NS}}}{name}"


def _pc(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


def _text(parent, tag: str, text: str, **attrs: str):
    element = xml_elem(tag, parent, **{k: v for k, v in attrs.items() if v is not None})
    element.text = text
    return element


def _seconds(value: float) -> str:
    """A number as the namespace writes it: `73` or `73.5`, never `73.0` or an exponent."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _bool(value: bool) -> str:
    # Apple Podcasts: itunes:explicit takes "true" or "false" (yes/no/clean are no longer valid).
    return "true" if value else "false"


@dataclass(frozen=True)
class AlternateEnclosureTag:
    mime_type: str
    length: int | None  # None: a remote file whose size the producer does not give
    uri: str
    title: str | None = None
    bitrate: int | None = None
    default: bool = False
    height: int | None = None  # of a video's picture
    integrity: str | None = None  # Subresource Integrity: "sha256-" and the base64 of the digest


@dataclass(frozen=True)
class TranscriptTag:
    url: str
    mime_type: str
    language: str | None = None
    rel: str | None = None


def _persons(parent, persons: list[Person]) -> None:
    for p in persons:
        # Podcasting 2.0: role defaults to "host" and group to "cast"; written only when different.
        _text(parent, _pc("person"), p.name, role=p.role if p.role != "host" else None,
              group=p.group if p.group != "cast" else None, href=p.href, img=p.img)


class ItunesExtension(BaseExtension):
    """Channel-level Apple Podcasts tags."""

    def __init__(self) -> None:
        self.author: str | None = None
        self.owner: tuple[str, str] | None = None  # (name, email)
        self.image: str | None = None
        self.categories: list[tuple[str, str | None]] = []
        self.explicit: bool | None = None
        self.show_type: str | None = None
        self.subtitle: str | None = None
        self.new_feed_url: str | None = None
        self.block = False
        self.complete = False

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def extend_rss(self, feed):
        channel = feed[0]
        if self.author:
            _text(channel, _it("author"), self.author)
        if self.owner:
            owner = xml_elem(_it("owner"), channel)
            _text(owner, _it("name"), self.owner[0])
            _text(owner, _it("email"), self.owner[1])
        if self.image:
            xml_elem(_it("image"), channel, href=self.image)
        for name, sub in self.categories:
            category = xml_elem(_it("category"), channel, text=name)
            if sub:
                xml_elem(_it("category"), category, text=sub)
        if self.explicit is not None:
            _text(channel, _it("explicit"), _bool(self.explicit))
        if self.show_type:
            _text(channel, _it("type"), self.show_type)
        if self.subtitle:
            _text(channel, _it("subtitle"), self.subtitle)
        if self.new_feed_url:
            _text(channel, _it("new-feed-url"), self.new_feed_url)
        # Apple: block and complete are written only as "Yes"; any other value means no.
        if self.block:
            _text(channel, _it("block"), "Yes")
        if self.complete:
            _text(channel, _it("complete"), "Yes")
        return feed


class ItunesEntryExtension(BaseEntryExtension):
    """Item-level Apple Podcasts tags."""

    def __init__(self) -> None:
        self.title: str | None = None
        self.duration: int | None = None
        self.image: str | None = None
        self.explicit: bool | None = None
        self.episode: int | None = None
        self.season: int | None = None
        self.episode_type: str | None = None

    def extend_rss(self, item):
        if self.title:
            _text(item, _it("title"), self.title)
        if self.duration is not None:
            # Apple: duration in whole seconds is the unambiguous form.
            _text(item, _it("duration"), str(self.duration))
        if self.image:
            xml_elem(_it("image"), item, href=self.image)
        if self.explicit is not None:
            _text(item, _it("explicit"), _bool(self.explicit))
        if self.episode is not None:
            _text(item, _it("episode"), str(self.episode))
        if self.season is not None:
            _text(item, _it("season"), str(self.season))
        if self.episode_type:
            _text(item, _it("episodeType"), self.episode_type)
        return item


class PodcastExtension(BaseExtension):
    """Channel-level Podcasting 2.0 tags (https://podcastindex.org/namespace/1.0)."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.locked: tuple[bool, str | None] | None = None  # (locked, owner email)
        self.medium: str | None = None
        self.license: tuple[str, str | None] | None = None  # (identifier, url)
        self.funding: tuple[str, str] | None = None  # (url, text)
        self.persons: list[Person] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, feed):
        channel = feed[0]
        if self.guid:
            _text(channel, _pc("guid"), self.guid)
        if self.locked is not None:
            locked, owner = self.locked
            _text(channel, _pc("locked"), "yes" if locked else "no", owner=owner)
        if self.medium:
            _text(channel, _pc("medium"), self.medium)
        if self.license:
            _text(channel, _pc("license"), self.license[0], url=self.license[1])
        if self.funding:
            _text(channel, _pc("funding"), self.funding[1], url=self.funding[0])
        _persons(channel, self.persons)
        return feed


class PodcastEntryExtension(BaseEntryExtension):
    """Item-level Podcasting 2.0 tags."""

    def __init__(self) -> None:
        self.season: int | None = None
        self.episode: int | None = None
        self.transcripts: list[TranscriptTag] = []
        self.chapters: tuple[str, str] | None = None  # (url, type)
        self.persons: list[Person] = []
        self.alternate_enclosures: list[AlternateEnclosureTag] = []
        self.soundbites: list[Soundbite] = []
        self.location: Location | None = None

    def extend_rss(self, item):
        if self.season is not None:
            _text(item, _pc("season"), str(self.season))
        if self.episode is not None:
            _text(item, _pc("episode"), str(self.episode))
        for t in self.transcripts:
            xml_elem(_pc("transcript"), item, **{k: v for k, v in
                     (("url", t.url), ("type", t.mime_type), ("language", t.language), ("rel", t.rel)) if v})
        if self.chapters:
            xml_elem(_pc("chapters"), item, url=self.chapters[0], type=self.chapters[1])
        for bite in self.soundbites:
            # Podcasting 2.0: without a title apps show the episode's
            _text(item, _pc("soundbite"), bite.title or "", startTime=_seconds(bite.start),
                  duration=_seconds(bite.duration))
        _persons(item, self.persons)
        if self.location:
            _text(item, _pc("location"), self.location.name, geo=self.location.geo, osm=self.location.osm)
        for alt in self.alternate_enclosures:
            attrs = {"type": alt.mime_type}
            if alt.length:
                attrs["length"] = str(alt.length)
            if alt.bitrate:
                attrs["bitrate"] = _seconds(alt.bitrate)
            if alt.title:
                attrs["title"] = alt.title
            if alt.height:
                attrs["height"] = str(alt.height)
            if alt.default:
                attrs["default"] = "true"
            element = xml_elem(_pc("alternateEnclosure"), item, **attrs)
            xml_elem(_pc("source"), element, uri=alt.uri)
            if alt.integrity:
                # Podcasting 2.0: lets an app check a download from any source against the feed
                xml_elem(_pc("integrity"), element, type="sri", value=alt.integrity)
        return item


def register(fg) -> None:
    """Add both namespaces to a FeedGenerator; entries added afterwards get the item extensions."""
    fg.register_extension("itunes", ItunesExtension, ItunesEntryExtension)
    fg.register_extension("podcast", PodcastExtension, PodcastEntryExtension)
