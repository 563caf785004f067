"""Reading another host's podcast feed, one item at a time: RSS 2.0 with the itunes, Podcasting 2.0
(both namespace URIs in use), content, atom and Podlove Simple Chapters namespaces, as real feeds
write them (undeclared prefixes, CDATA, entities, relative URLs), in memory bounded by one item.
"""

from __future__ import annotations

import email.utils
import logging
import re
from pathlib import Path
from typing import Iterator

from lxml import etree

from media_pipeline.errors import ConfigError
from media_pipeline.importing.parsed import (
    ChannelData,
    ChapterData,
    ItemData,
    Remote,
    Soundbite,
    derived_guid,
    tag_name,
)
from media_pipeline.importing.values import (
    Resolver,
    alternates_of,
    as_bool,
    as_float,
    as_int,
    clock_seconds,
    image_of,
    location_of,
    parse_date,
    parse_duration,
    person_of,
    remote_of,
    text_of,
)

log = logging.getLogger(__name__)

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
    resolve = Resolver(feed_url)
    root_seen = False
    times: set = set()
    try:
        for _, el in _iterparse(path):
            name = tag_name(el.tag)
            parent = el.getparent()
            parent_name = tag_name(parent.tag) if parent is not None else None
            if name == "item":
                channel.items += 1
                _note_time(channel, el, times)
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


def _note_time(channel: ChannelData, item, times: set) -> None:
    """Items published at the same instant: apps list them in feed order, which the import keeps
    (`order`), since the publish time alone cannot."""
    published = None
    for child in item:
        if tag_name(child.tag) in ("pubDate", "dc:date", "atom:published"):
            published = parse_date(text_of(child))
            if published is not None:
                break
    if published is None:
        return
    if published in times:
        channel.shared_times.add(published)
    times.add(published)


def _channel_element(c: ChannelData, name: str | None, el, resolve: Resolver) -> None:
    text = text_of(el)
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
            if tag_name(child.tag) == "itunes:name":
                c.owner_name = text_of(child)
            elif tag_name(child.tag) == "itunes:email":
                c.owner_email = text_of(child)
    elif name == "itunes:category":
        top = (el.get("text") or "").strip()
        subs = [(s.get("text") or "").strip() for s in el if tag_name(s.tag) == "itunes:category"]
        if top:
            c.categories.extend([f"{top} > {s}" for s in subs if s] or [top])
    elif name == "itunes:explicit":
        c.explicit = as_bool(text)
    elif name == "itunes:type":
        c.show_type = text.lower()
    elif name == "itunes:image":
        c.artwork = image_of(el, resolve) or c.artwork
    elif name == "image" and not c.artwork:
        c.artwork = resolve(text_of(el.find("url")))
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
        c.locked, c.locked_owner = as_bool(text), (el.get("owner") or "").strip()
    elif name == "podcast:person":
        if person := person_of(el, resolve):
            c.persons.append(person)
    elif name == "podcast:medium":
        c.medium = text.lower()
    elif name == "itunes:keywords":
        c.keywords = [k.strip() for k in text.split(",") if k.strip()]
    elif name == "itunes:new-feed-url":
        c.new_feed_url = text
    elif name == "itunes:block":
        c.block = as_bool(text) is True
    elif name == "itunes:complete":
        c.complete = as_bool(text) is True
    elif name == "podcast:location":
        c.location = location_of(el)
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
    resolve = Resolver(feed_url or (channel.link if channel else ""))
    position = 0
    try:
        for _, el in _iterparse(path, tag=("item", "{*}item")):
            if tag_name(el.tag) != "item":
                continue
            position += 1
            try:
                yield _item(el, position, resolve)
            finally:
                _release(el)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"is not a readable feed after item {position}: {exc}", path=feed_url or str(path)) from None


def _item(el, position: int, resolve: Resolver) -> ItemData:
    item = ItemData(position=position)
    content = description = summary = ""
    itunes_title = ""
    guid_text = ""
    for child in el:
        name = tag_name(child.tag)
        if name is None:
            continue
        text = text_of(child)
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
            item.season = as_int(text) if item.season is None else item.season
        elif name in ("itunes:episode", "podcast:episode"):
            number = as_int(text)
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
            item.explicit = as_bool(text)
        elif name == "itunes:duration":
            item.duration = parse_duration(text)
            if item.duration is None and text:
                item.remarks.append(f"itunes:duration {text!r} is neither seconds nor a clock time; the probed "
                                    "length of the media is used")
        elif name == "itunes:image":
            item.artwork = image_of(child, resolve) or item.artwork
        elif name == "enclosure":
            remote = remote_of(child, resolve)
            if remote is None:
                item.remarks.append("has an enclosure without a URL")
            elif item.enclosure is None:
                item.enclosure = remote
            else:
                item.alternates.append(remote)
                item.remarks.append(f"has more than one enclosure; the first is the episode, {remote.url} is kept "
                                    "as an alternate")
        elif name == "podcast:person":
            if person := person_of(child, lambda u: resolve(u, child)):
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
            start, duration = as_float(child.get("startTime")), as_float(child.get("duration"))
            if start is not None and duration:
                item.soundbites.append(Soundbite(start, duration, text))
        elif name == "podcast:alternateEnclosure":
            item.alternates.extend(alternates_of(child, resolve))
        elif name == "podcast:location":
            item.location = location_of(child)
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


def _simple_chapters(el, item: ItemData, resolve: Resolver) -> list[ChapterData]:
    chapters = []
    for child in el:
        if tag_name(child.tag) != "psc:chapter":
            continue
        start = clock_seconds(child.get("start") or "")
        if start is None:
            item.remarks.append(f"a Podlove chapter's start {child.get('start')!r} is not a time; left out")
            continue
        chapters.append(ChapterData(start, (child.get("title") or "").strip(),
                                    resolve(child.get("href"), child) or None, resolve(child.get("image"), child) or None))
    return chapters


