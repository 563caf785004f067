"""The listener site: a static page per show and per episode, an index of shows, the accessibility
statement and a sitemap, rendered from the same data as the feed. No I/O: every function returns
`{storage key: bytes}` for the caller to store (media first, then pages and feed, then the index).

Layout: `index.html`, `<show>/index.html` with `<show>/search.json`, `<show>/<episode>/index.html`, `saavutettavuus/index.html`
(with `tillganglighet/` and `accessibility/` beside it), `sitemap.xml`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from lxml import etree

from media_pipeline.layout import (INDEX_KEY, OPML_KEY, SITEMAP_KEY, STATEMENT_KEYS, episode_page_key,
                                   show_page_key, show_search_key)
from media_pipeline.model import FeedEntry, Show, SiteSettings, StoredFile
from media_pipeline.text import strings as S
from media_pipeline.transcripts.cues import Cue
from media_pipeline.transcripts.descriptions import interleave
from media_pipeline.transcripts.keys import language_of_key

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@dataclass(frozen=True)
class PageEpisode:
    """One live episode as its page shows it: the feed entry (stored files with URLs and sizes,
    duration), the transcript's cues, the show notes as sanitised HTML (notes.render_notes)."""

    entry: FeedEntry
    page_url: str
    cues: tuple[Cue, ...] = ()
    notes_html: str = ""
    descriptions: tuple[Cue, ...] = ()  # the audio description in the transcript's language


@dataclass(frozen=True)
class ShowSite:
    """A show with what its pages link to. `base_url` is where the site's index lives (the
    workspace's public URL); `page_url` the show page's own URL."""

    show: Show
    base_url: str
    page_url: str
    feed_url: str
    artwork_url: str | None
    episodes: Sequence[PageEpisode] = field(default_factory=tuple)

    @property
    def newest_first(self) -> list[PageEpisode]:
        return sorted(self.episodes, key=lambda e: (*e.entry.episode.listed_at, e.entry.guid), reverse=True)


_env = Environment(loader=PackageLoader("media_pipeline.site", "templates"),
                   autoescape=select_autoescape(["html"], default_for_string=True),
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_env.filters.update(clock=S.format_clock, iso_duration=S.iso_duration)


def render_show(site: ShowSite, settings: SiteSettings) -> dict[str, bytes]:
    """The show page and one page per episode in `site.episodes` (the live ones, as in the feed)."""
    show = site.show
    lang = show.language
    common = _common(settings, site.base_url, lang)
    pages = {show_page_key(show.slug): _render("show.html", **common, site=site, show=show,
                                            episodes=site.newest_first, json_ld=_series_ld(site))}
    oldest_first = site.newest_first[::-1]
    for n, item in enumerate(oldest_first):
        pages[episode_page_key(show.slug, item.entry.episode.slug)] = _render(
            "episode.html", **common, site=site, show=show, item=item, entry=item.entry,
            previous=oldest_first[n - 1] if n else None,
            next=oldest_first[n + 1] if n + 1 < len(oldest_first) else None,
            episode=item.entry.episode, media=_media(item.entry, show),
            paragraphs=_paragraphs(item.cues, item.descriptions),
            download_label=lambda *a: _download_label(common["t"], lang, *a, item.entry.duration, lang),
            notes=nested_notes(item.notes_html),
            json_ld=_episode_ld(site, item))
    pages[show_search_key(show.slug)] = search_index(site)
    return pages


def search_index(site: ShowSite) -> bytes:
    """The show's words for the index page's search, newest episode first: each episode's title,
    summary, page and its transcript's paragraphs with their start times, so a hit links to the
    moment. A static file beside the pages: search works from plain storage, with no server."""
    show = site.show
    episodes = [{"title": item.entry.episode.title, "url": item.page_url, "summary": item.entry.episode.summary or "",
                 "date": item.entry.episode.publish_at.date().isoformat(),
                 "text": [[round(p.start, 3), (f"{p.speaker}: " if p.speaker else "") + p.text]
                          for p in _paragraphs(item.cues)]}
                for item in site.newest_first]
    data = {"show": show.title, "url": site.page_url, "language": show.language, "episodes": episodes}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_site(settings: SiteSettings, base_url: str, shows: Sequence[ShowSite]) -> dict[str, bytes]:
    """The index of `shows`, the statement in three languages, and the sitemap of every page."""
    base = base_url.rstrip("/")
    common = _common(settings, base, settings.language)
    indexes = [f"{base}/{show_search_key(site.show.slug)}" for site in shows]
    pages = {INDEX_KEY: _render("index.html", **common, shows=shows, opml_url=f"{base}/{OPML_KEY}",
                                search_indexes=" ".join(indexes), json_ld=None)}
    described = description_state(shows)
    for lang, key in STATEMENT_KEYS.items():
        pages[key] = _render("statement.html", **_common(settings, base, lang), st=S.STATEMENT[lang],
                             described=described,
                             alternates={code: f"{base}/{k}" for code, k in STATEMENT_KEYS.items()},
                             iso_date=dt.date.fromisoformat, supervisor_url=S.SUPERVISOR_URL,
                             supervisor_email=S.SUPERVISOR_EMAIL, json_ld=None)
    pages[SITEMAP_KEY] = sitemap(base, shows)
    return pages


@dataclass(frozen=True)
class DescriptionState:
    """The live video episodes by how what they show reaches a listener who cannot see it (WCAG
    1.2.5), for the accessibility statement: each as (show title, episode title, page URL)."""

    described: tuple[tuple[str, str, str], ...] = ()  # a described version is published
    aloud: tuple[tuple[str, str, str], ...] = ()  # the speakers describe their slides aloud
    undescribed: tuple[tuple[str, str, str], ...] = ()  # neither

    @property
    def any(self) -> bool:
        return bool(self.described or self.aloud or self.undescribed)


def description_state(shows: Sequence[ShowSite]) -> DescriptionState:
    """Each live video episode of `shows` in its place, from what was published with it."""
    found: dict[str, list[tuple[str, str, str]]] = {"described": [], "aloud": [], "undescribed": []}
    for site in sorted(shows, key=lambda s: s.show.slug):
        for item in sorted(site.episodes, key=lambda e: (e.entry.episode.publish_at, e.entry.guid)):
            entry = item.entry
            if not entry.enclosure.mime_type.startswith("video/"):
                continue
            place = ("described" if entry.described else "aloud" if entry.episode.slides_described_aloud
                     else "undescribed")
            found[place].append((site.show.title, entry.episode.title, item.page_url))
    return DescriptionState(*(tuple(found[k]) for k in ("described", "aloud", "undescribed")))


def sitemap(base_url: str, shows: Sequence[ShowSite]) -> bytes:
    """sitemaps.org XML: the index, the statements, every show page and episode page."""
    urls: list[tuple[str, dt.datetime | None]] = [(f"{base_url}/{INDEX_KEY}", None)]
    urls += [(f"{base_url}/{key}", None) for key in STATEMENT_KEYS.values()]
    for site in sorted(shows, key=lambda s: s.show.slug):
        episodes = site.newest_first
        urls.append((site.page_url, episodes[0].entry.episode.publish_at if episodes else None))
        urls += [(e.page_url, e.entry.episode.publish_at) for e in episodes]
    root = etree.Element(f"{{{_SITEMAP_NS}}}urlset", nsmap={None: _SITEMAP_NS})
    root.text = "\n  "
    for url, modified in urls:
        entry = etree.SubElement(root, f"{{{_SITEMAP_NS}}}url")
        etree.SubElement(entry, f"{{{_SITEMAP_NS}}}loc").text = url
        if modified:
            etree.SubElement(entry, f"{{{_SITEMAP_NS}}}lastmod").text = (
                modified.astimezone(dt.timezone.utc).date().isoformat())
        entry.tail = "\n  "
    if len(root):
        root[-1].tail = "\n"
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="utf-8") + b"\n"


def nested_notes(notes_html: str) -> str:
    """Show notes below the page's own h2: the notes' highest heading level becomes h3, the next
    level used h4, and so on (h6 at most), so notes written with `##` and `####` still give an
    outline without a skipped level (WCAG 1.3.1). The notes are sanitised HTML whose headings carry
    no attributes (notes.ALLOWED_ATTRIBUTES)."""
    used = sorted({int(level) for level in re.findall(r"<h([1-6])>", notes_html)})
    rank = {level: min(6, 3 + i) for i, level in enumerate(used)}
    return re.sub(r"<(/?)h([1-6])>", lambda m: f"<{m.group(1)}h{rank.get(int(m.group(2)), 6)}>", notes_html)


# -- pieces ------------------------------------------------------------------------------------


def _render(template: str, **context) -> bytes:
    return _env.get_template(template).render(**context).encode("utf-8")


# The site's icon, drawn here and written into each page as a data: URL, so no page asks the
# server for /favicon.ico (a 404 in every log) and the bucket holds no extra public file: a play
# triangle on the brand blue, 4.5:1 or more against white.
FAVICON = "data:image/svg+xml," + quote(
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>"
    "<rect width='32' height='32' rx='6' fill='#0a4b85'/><path d='M12 9v14l11-7z' fill='#fff'/></svg>", safe="/:='")


def _common(settings: SiteSettings, base_url: str, lang: str) -> dict:
    code = S.ui_language(lang)
    return {"settings": settings, "lang": lang, "t": S.strings(lang), "home_url": f"{base_url}/{INDEX_KEY}",
            "favicon": FAVICON,
            "statement_url": f"{base_url}/{STATEMENT_KEYS[code if code in STATEMENT_KEYS else 'en']}",
            "og_locale": S.OG_LOCALES.get(code, "en_GB"), "date": lambda d: S.format_date(d, lang),
            "size": lambda n: S.format_size(n, lang), "role": lambda r: S.role(lang, r),
            "language_names": S.LANGUAGE_NAMES}


@dataclass(frozen=True)
class _Text:
    file: StoredFile
    language: str  # BCP 47, as the show or the episode file names it


@dataclass(frozen=True)
class _Media:
    player: StoredFile  # what the <audio>/<video> element plays
    # a video's <source> elements in order, each with its media query (None: any screen)
    sources: tuple[tuple[StoredFile, str | None], ...]
    video: bool
    captions: tuple[_Text, ...]  # WebVTT for <track kind="captions">, the show's language first
    pages: tuple[_Text, ...]  # the HTML transcript of each language
    downloads: tuple[tuple[str, StoredFile, str | None], ...]  # (label key, file, language of a text)
    draft: bool  # the transcript shown on the page is a machine draft
    transcript_language: str  # the language of the transcript shown on the page
    described: tuple[StoredFile, ...] = ()  # the described version, video first (WCAG 1.2.5)
    descriptions: tuple[_Text, ...] = ()  # WebVTT for <track kind="descriptions">


_FORMAT_NAMES = {"text/vtt": "WebVTT", "application/x-subrip": "SRT", "application/json": "JSON",
                 "text/html": "HTML", "audio/mpeg": "MP3", "audio/mp4": "M4A", "audio/x-m4a": "M4A",
                 "video/mp4": "MP4"}


def _media(entry: FeedEntry, show: Show) -> _Media:
    files = entry.alternates or (entry.enclosure,)
    video = entry.enclosure.mime_type.startswith("video/")
    slug = entry.episode.slug

    def texts(mime: str) -> tuple[_Text, ...]:
        found = [_Text(f, language_of_key(f.key, slug, show.language)) for f in entry.transcripts
                 if f.mime_type.split(";")[0] == mime]
        return tuple(sorted(found, key=lambda t: t.language != show.language))

    captions = texts("text/vtt")
    described = tuple(sorted(entry.described, key=lambda f: not f.mime_type.startswith("video/")))
    descriptions = tuple(sorted((_Text(f, language_of_key(f.key, slug, show.language)) for f in entry.descriptions),
                                key=lambda t: t.language != show.language))
    downloads = tuple(("video" if f.mime_type.startswith("video/") else "audio", f, None) for f in files)
    downloads += tuple(("described_video" if f.mime_type.startswith("video/") else "described_audio", f, None)
                       for f in described)
    downloads += tuple(("captions", c.file, c.language) for c in captions)
    downloads += tuple(("descriptions", d.file, d.language) for d in descriptions)
    first = entry.episode.transcripts[0] if entry.episode.transcripts else None
    sources = _sources(entry) if video else ((entry.enclosure, None),)
    return _Media(entry.enclosure, sources, video, captions, texts("text/html"), downloads, bool(first and first.draft),
                  (first.language if first else None) or show.language, described, descriptions)


# Where the smallest rendition is the better default: a phone's screen, in CSS pixels.
SMALL_SCREEN = "(max-width: 40em)"
DEFAULT_SHORT_SIDE = 720  # a laptop's player is about 1280 px wide at most


def _sources(entry: FeedEntry) -> tuple[tuple[StoredFile, str | None], ...]:
    """The video's sources without JavaScript: the smallest rendition on a phone's screen, else
    the largest rendition up to 720p, else the source-quality MP4; the browser takes the first
    whose media query matches, so the source-quality MP4 comes last, for a browser that can play
    nothing else."""
    smaller = sorted((f for f in entry.alternates if f.size and f.mime_type.startswith("video/")),
                     key=lambda f: min(f.size))
    if not smaller:
        return ((entry.enclosure, None),)
    default = max((f for f in smaller if min(f.size) <= DEFAULT_SHORT_SIDE), key=lambda f: min(f.size),
                  default=smaller[0])
    sources: list[tuple[StoredFile, str | None]] = []
    if smaller[0] is not default:
        sources.append((smaller[0], SMALL_SCREEN))
    return (*sources, (default, None), (entry.enclosure, None))


def _download_label(t: dict[str, str], lang: str, label: str, file: StoredFile, language: str | None,
                    duration: float, page_language: str) -> str:
    """What a person reads on a download link: "Tekstitys (WebVTT, suomi), 2 kt", "Ääni (MP3), 1,2 Mt, 3:05"."""
    kind = _FORMAT_NAMES.get(file.mime_type.split(";")[0], file.key.rsplit(".", 1)[-1].upper())
    if language is not None:
        kind += ", " + S.LANGUAGE_NAMES.get(language.split("-")[0], language)
    if file.size:
        kind += f", {file.size[0]}×{file.size[1]}"
    words = f"{t[label]} ({kind}), {S.format_size(file.length, page_language)}"
    # the described version is longer than the episode by its held pictures: no duration said for it
    return words if language is not None or label.startswith("described") else f"{words}, {S.format_clock(duration)}"


@dataclass(frozen=True)
class _Paragraph:
    start: float
    speaker: str | None
    text: str
    description: bool = False  # an audio description, marked as one on the page


def _paragraphs(cues: Sequence[Cue], descriptions: Sequence[Cue] = ()) -> list[_Paragraph]:
    """The transcript as reading text: consecutive cues of one speaker make one paragraph; with
    `descriptions`, the descriptive transcript: each description a paragraph of its own in its
    place in time."""
    out: list[_Paragraph] = []
    current: str | None = None
    for entry in interleave(cues, descriptions):
        words, speaker = entry.text, entry.speaker
        if entry.description:
            out.append(_Paragraph(entry.start, None, words, True))
            continue
        if out and not out[-1].description and (speaker is None or speaker == current) and len(out[-1].text) < 600:
            out[-1] = _Paragraph(out[-1].start, out[-1].speaker, f"{out[-1].text} {words}")
            continue
        out.append(_Paragraph(entry.start, speaker, words))
        current = speaker if speaker is not None else current
    return out


def _series_ld(site: ShowSite) -> dict:
    show = site.show
    data = {"@context": "https://schema.org", "@type": "PodcastSeries", "name": show.title, "url": site.page_url,
            "description": show.description, "inLanguage": show.language, "webFeed": site.feed_url,
            "author": {"@type": "Organization", "name": show.author}}
    if site.artwork_url:
        data["image"] = site.artwork_url
    if show.license_url:
        data["license"] = show.license_url
    return data


def _episode_ld(site: ShowSite, item: PageEpisode) -> dict:
    entry, episode = item.entry, item.entry.episode
    data = {"@context": "https://schema.org", "@type": "PodcastEpisode", "name": episode.title, "url": item.page_url,
            "datePublished": episode.publish_at.isoformat(), "inLanguage": site.show.language,
            "timeRequired": S.iso_duration(entry.duration),
            "associatedMedia": {"@type": "VideoObject" if entry.enclosure.mime_type.startswith("video/")
                                else "AudioObject", "contentUrl": entry.enclosure.url,
                                "encodingFormat": entry.enclosure.mime_type, "contentSize": str(entry.enclosure.length),
                                "duration": S.iso_duration(entry.duration)},
            "partOfSeries": {"@type": "PodcastSeries", "name": site.show.title, "url": site.page_url}}
    if episode.summary:
        data["description"] = episode.summary
    if episode.number is not None:
        data["episodeNumber"] = episode.number
    if site.show.license_url:
        data["license"] = site.show.license_url
    return data
