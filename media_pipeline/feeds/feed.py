"""A show's RSS 2.0 feed (itunes, podcast, content and atom namespaces), validated in the model,
written through feedgen, byte-identical for the same input so an unchanged feed is not uploaded.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import re
import uuid
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from lxml import etree

from media_pipeline import __version__
from media_pipeline.errors import Problem, ValidationError
from media_pipeline.feeds.lint import episode_problems, show_problems, url_reason
from media_pipeline.feeds.podcast import AlternateEnclosureTag, TranscriptTag, register
from media_pipeline.layout import CHAPTERS_TYPE
from media_pipeline.model import FeedEntry, Show, StoredFile
from media_pipeline.text import strings
from media_pipeline.text.notes import render_notes
from media_pipeline.transcripts.forms import SRT_MIME, TIMED_MIMES, VTT_MIME, draft_note, publishable
from media_pipeline.transcripts.keys import language_of_key
from media_pipeline.util.redact import public_url

log = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
# Podcasting 2.0 guid: UUIDv5 of the feed URL without scheme and trailing slashes, in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

# Apple Podcasts' supported episode media (type by URL extension): audio, video and documents.
ENCLOSURE_TYPES = {
    ".mp3": ("audio/mpeg",),
    ".m4a": ("audio/x-m4a", "audio/mp4", "audio/aac"),
    ".mp4": ("video/mp4",),
    ".m4v": ("video/x-m4v", "video/mp4"),
    ".mov": ("video/quicktime",),
}
TRANSCRIPT_TYPES = (VTT_MIME, SRT_MIME, "application/srt", "text/html", "text/plain", "application/json")
# Podcasting 2.0 chapters: the JSON chapters format's own MIME type.
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Human-readable alternate enclosure titles (Podcasting 2.0 asks for at most 32 characters).
_RENDITION_TITLES = {"fi": {"video": "Video", "audio": "Ääni"}, "sv": {"video": "Video", "audio": "Ljud"}}


def podcast_guid_for(feed_url: str) -> str:
    """The Podcasting 2.0 `podcast:guid` of a feed URL: UUIDv5 of the URL with its scheme and
    trailing slashes removed. Assign it once; when the feed moves, keep the stored value."""
    parts = urlsplit(feed_url.strip())
    rest = feed_url.strip()[len(parts.scheme) + 3:] if parts.scheme and "://" in feed_url else feed_url.strip()
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, rest.rstrip("/")))


def show_podcast_guid(show: Show, feed_url: str, recorded: str | None = None) -> str:
    """The show's `podcast_guid` setting, else the one recorded at first publish, else the one
    derived from `feed_url`.

    Podcasting 2.0: the guid is assigned once and follows the show when its feed moves, so the
    value recorded at first publish wins over one derived from a feed URL that may have changed."""
    return show.podcast_guid or recorded or podcast_guid_for(feed_url)


def build_feed(show: Show, entries: Sequence[FeedEntry], *, feed_url: str, artwork_url: str, podcast_guid: str,
               last_build: dt.datetime | None = None, display: Callable[[Path], str] = str) -> bytes:
    """The show's feed as UTF-8 RSS 2.0, items newest first.

    `last_build` defaults to the newest entry's publish time, so a rebuild with nothing changed is
    byte-identical. Raises ValidationError (a ConfigError) listing every problem, each naming the
    show or episode file (as `display` names it) and the field, before any XML is written. Each
    entry's guid is unique by construction (the manifest is keyed by guid; `gate` checks the files).
    """
    _validate(show, entries, feed_url=feed_url, artwork_url=artwork_url, podcast_guid=podcast_guid, display=display)
    ordered = sorted(entries, key=lambda e: (*e.episode.listed_at, e.guid), reverse=True)
    if last_build is None and ordered:
        last_build = ordered[0].episode.publish_at

    fg = FeedGenerator()
    register(fg)
    fg.title(show.title)
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.link, rel="alternate")
    fg.description(show.description)
    fg.language(show.language)
    if show.copyright:
        fg.copyright(show.copyright)
    fg.generator(f"media-pipeline {__version__}")
    if last_build is not None:
        fg.lastBuildDate(last_build.astimezone(dt.timezone.utc))
    fg.image(url=artwork_url, title=show.title, link=show.link)

    it = fg.itunes
    it.author = show.author
    it.owner = (show.owner.name, show.owner.email)
    it.image = artwork_url
    it.categories = [(c.name, c.subcategory) for c in show.categories]
    it.explicit = show.explicit
    it.show_type = show.show_type
    it.subtitle = show.subtitle
    it.new_feed_url = show.new_feed_url
    it.block = show.block
    it.complete = show.complete

    pc = fg.podcast
    pc.guid = podcast_guid.lower()
    # Podcasting 2.0: locked tells other hosts not to import the feed; owner is the address they
    # verify a move with.
    pc.locked = (show.locked, show.owner.email or None)
    pc.medium = show.medium
    if show.license:
        pc.license = (show.license, show.license_url)
    if show.funding_url:
        pc.funding = (show.funding_url, show.funding_text or show.title)
    pc.persons = list(show.persons)

    for entry in ordered:
        _add_item(fg, show, entry)

    xml = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    if last_build is None or show.notify.hubs:
        # re-indented only when hubs are added: a feed without them keeps its bytes
        feed = etree.fromstring(xml, etree.XMLParser(remove_blank_text=bool(show.notify.hubs)))
        if last_build is None:
            # No episodes and no time given: feedgen's default (now) would break byte-identity.
            for element in feed[0].findall("lastBuildDate"):
                feed[0].remove(element)
        _advertise_hubs(feed[0], show.notify.hubs)
        xml = etree.tostring(feed, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    log.debug("built the feed of %s: %d episodes, %d bytes", show.slug, len(ordered), len(xml))
    return xml


def _advertise_hubs(channel, hubs: Sequence[str]) -> None:
    """WebSub (W3C, section 4): a publisher names its hubs with `<atom:link rel="hub">` beside the
    `rel="self"` link, so a subscriber knows where to subscribe for pushed updates. feedgen writes
    only the self link into RSS, hence this."""
    self_link = channel.find(f"{{{ATOM_NS}}}link[@rel='self']")
    at = list(channel).index(self_link) + 1 if self_link is not None else len(channel)
    # A hub URL may carry a credential for publishing to it (`user:password@`, `?token=`); the feed
    # names the hub without it: subscribing needs none, and a feed is public.
    advertised = [url for url in dict.fromkeys(public_url(hub) for hub in hubs) if url]
    for i, hub in enumerate(advertised):
        channel.insert(at + i, channel.makeelement(f"{{{ATOM_NS}}}link", {"href": hub, "rel": "hub"}))


def _add_item(fg: FeedGenerator, show: Show, entry: FeedEntry) -> None:
    episode = entry.episode
    notes = render_notes(episode.notes)
    fe = fg.add_entry(order="append")
    fe.title(episode.title)
    # Apple: the guid is the episode's permanent identity; it is not a URL (isPermaLink="false").
    fe.guid(entry.guid, permalink=False)
    if entry.page_url:
        fe.link(href=entry.page_url)
    fe.pubDate(episode.publish_at.astimezone(dt.timezone.utc))
    fe.enclosure(entry.enclosure.url, str(entry.enclosure.length), entry.enclosure.mime_type)
    description, content = notes.text or episode.summary or episode.title, notes.html
    if label := machine_transcript_label(show, entry):
        description = f"{description}\n\n{label}"
        content = f"{content}\n<p><strong>{html.escape(label)}</strong></p>" if content else content
    fe.description(description)
    if content:
        if "]]>" in content:
            fe.content(content)
        else:
            fe.content(content, type="CDATA")

    it = fe.itunes
    it.title = episode.title
    it.duration = max(1, round(entry.duration))
    it.image = entry.image_url
    it.explicit = show.explicit if episode.explicit is None else episode.explicit
    it.episode = episode.number
    it.season = episode.season
    it.episode_type = episode.episode_type

    pc = fe.podcast
    pc.season = episode.season
    pc.episode = episode.number
    pc.transcripts = [_transcript(t, show, episode.slug) for t in entry.transcripts]
    if entry.chapters:
        pc.chapters = (entry.chapters.url, CHAPTERS_TYPE)
    # Podcasting 2.0: persons on an item replace the channel's for that episode.
    pc.persons = list(episode.persons)
    # the renditions, the described version (WCAG 1.2.5) titled as such, then the episode file's own
    # alternates on other hosts (carried over by import)
    pc.alternate_enclosures = [_alternate(f, entry, show) for f in entry.alternates]
    pc.alternate_enclosures += [_alternate(f, entry, show, described=True) for f in entry.described]
    pc.alternate_enclosures += [
        AlternateEnclosureTag(mime_type=a.mime_type, length=a.length, uri=a.url, title=a.title, bitrate=a.bitrate)
        for a in episode.alternates]
    pc.soundbites = list(episode.soundbites)
    pc.location = episode.location


def _transcript(f: StoredFile, show: Show, episode_slug: str) -> TranscriptTag:
    # Podcasting 2.0: rel="captions" marks a timed file that players can show as captions.
    rel = "captions" if f.mime_type in TIMED_MIMES else None
    language = language_of_key(f.key, episode_slug, show.language)
    return TranscriptTag(url=f.url, mime_type=f.mime_type, language=language, rel=rel)


def machine_transcript_label(show: Show, entry: FeedEntry) -> str | None:
    """The note the episode's notes carry when a published transcript is a machine draft."""
    if not entry.transcripts:
        return None
    drafts = [t for t in publishable(entry.episode, show) if t.draft]
    return draft_note(show.language) if drafts else None


def _alternate(f: StoredFile, entry: FeedEntry, show: Show, *, described: bool = False) -> AlternateEnclosureTag:
    kind = "video" if f.mime_type.startswith("video/") else "audio"
    titles = _RENDITION_TITLES.get(show.language.split("-")[0].lower(), {"video": "Video", "audio": "Audio"})
    # a described version is longer than the episode by its held pictures: no bitrate from its duration
    bitrate = round(f.length * 8 / entry.duration) if entry.duration > 0 and not described else None
    title = titles[kind]
    if described:  # "Kuvailutulkattu video": the title is what tells a listener which it is
        title = strings.text(show.language, f"described_{kind}")
    elif f.size:  # a smaller rendition: named by the short side of its picture, as "720p"
        title = f"{title} {min(f.size)}p"
    integrity = None
    if re.fullmatch(r"[0-9a-f]{64}", f.sha256 or ""):
        integrity = "sha256-" + base64.b64encode(bytes.fromhex(f.sha256)).decode("ascii")
    return AlternateEnclosureTag(mime_type=f.mime_type, length=f.length, uri=f.url, title=title,
                                 bitrate=bitrate, default=f.url == entry.enclosure.url,
                                 height=f.size[1] if f.size else None, integrity=integrity)


# -- validation in our own model, before feedgen sees anything ------------------------------------


def _validate(show: Show, entries: Sequence[FeedEntry], *, feed_url: str, artwork_url: str,
              podcast_guid: str, display: Callable[[Path], str]) -> None:
    show_path = display(show.path)
    problems = [p for p in show_problems(show, path=show_path) if p.severity == "error"]

    def bad(field: str, reason: str, path: str = show_path) -> None:
        problems.append(Problem(path, field, reason))

    if reason := url_reason(feed_url):
        bad("feed_url", reason)
    if reason := url_reason(artwork_url):
        bad("artwork", f"public URL {reason}")
    elif not urlsplit(artwork_url).path.lower().endswith((".jpg", ".jpeg", ".png")):
        # Apple: channel artwork must be a JPEG or PNG, and the URL is how apps tell which.
        bad("artwork", f"public URL must end in .jpg or .png, not {artwork_url!r}")
    if not _GUID_RE.match(podcast_guid or ""):
        bad("podcast_guid", f"must be a UUID like 917393e3-1b1e-5cef-ace4-edaa54e1f810, not {podcast_guid!r}")

    for entry in entries:
        path = display(entry.episode.path)
        if entry.episode.show != show.slug:
            bad("show", f"the episode belongs to {entry.episode.show!r}, not to {show.slug!r}", path)
        problems.extend(p for p in episode_problems(show, entry.episode, path=path) if p.severity == "error")
        problems.extend(_entry_problems(entry, path))
    if problems:
        raise ValidationError(problems)


def _entry_problems(entry: FeedEntry, path: str) -> list[Problem]:
    problems: list[Problem] = []

    def bad(field: str, reason: str) -> None:
        problems.append(Problem(path, field, reason))

    if not entry.guid or not entry.guid.strip():
        bad("guid", "is empty; an episode's guid is assigned at first publish and must not be blank")
    if not entry.duration or entry.duration <= 0:
        bad("duration", f"must be more than 0 seconds, not {entry.duration!r}")
    enclosure = entry.enclosure
    if reason := url_reason(enclosure.url):
        bad("enclosure", reason)
    else:
        suffix = Path(urlsplit(enclosure.url).path).suffix.lower()
        allowed = ENCLOSURE_TYPES.get(suffix)
        if allowed is None:
            bad("enclosure", f"{suffix or 'no extension'} is not a format Apple Podcasts plays "
                             f"({', '.join(ENCLOSURE_TYPES)})")
        elif enclosure.mime_type not in allowed:
            bad("enclosure", f"type {enclosure.mime_type!r} does not match a {suffix} file ({allowed[0]})")
    # Apple: the enclosure length is the file's exact size in bytes.
    if not isinstance(enclosure.length, int) or enclosure.length <= 0:
        bad("enclosure", f"length must be the file's size in bytes, not {enclosure.length!r}")
    for f in (*entry.alternates, *entry.described):
        if reason := url_reason(f.url):
            bad("alternates", reason)
        if not re.match(r"^(audio|video)/", f.mime_type or ""):
            bad("alternates", f"type must be audio/... or video/..., not {f.mime_type!r}")
        if not isinstance(f.length, int) or f.length <= 0:
            bad("alternates", f"length of {f.url} must be its size in bytes, not {f.length!r}")
    for f in entry.transcripts:
        if reason := url_reason(f.url):
            bad("transcript", reason)
        if f.mime_type not in TRANSCRIPT_TYPES:
            bad("transcript", f"type must be one of {', '.join(TRANSCRIPT_TYPES)}, not {f.mime_type!r}")
    if entry.chapters:
        if reason := url_reason(entry.chapters.url):
            bad("chapters", reason)
        if entry.chapters.mime_type not in (CHAPTERS_TYPE, "application/json"):
            bad("chapters", f"type must be {CHAPTERS_TYPE}, not {entry.chapters.mime_type!r}")
    if entry.image_url:
        if reason := url_reason(entry.image_url):
            bad("artwork", f"public URL {reason}")
        elif not urlsplit(entry.image_url).path.lower().endswith((".jpg", ".jpeg", ".png")):
            bad("artwork", f"public URL must end in .jpg or .png, not {entry.image_url!r}")
    return problems

