"""The workspace files an import writes: `feeds/<show>.toml` and `episodes/<show>/<slug>.md`, in the
keys `config` reads (docs/formats.md), and the names of the files downloaded for them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import unicodedata
from pathlib import Path

from media_pipeline.importing.parsed import ChannelData, ChapterData, ItemData, url_name
from media_pipeline.model import Person
from media_pipeline.transcripts.cues import Cue, Transcript
from media_pipeline.transcripts.forms import to_vtt

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# Suffixes by MIME type, for URLs that do not end in one (tracking prefixes, query strings).
MEDIA_SUFFIX = {
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/x-m4a": ".m4a", "audio/mp4": ".m4a", "audio/aac": ".aac",
    "video/mp4": ".mp4", "video/x-m4v": ".m4v", "video/quicktime": ".mov", "audio/ogg": ".ogg",
    "audio/opus": ".opus", "audio/flac": ".flac", "audio/x-flac": ".flac", "audio/wav": ".wav",
    "audio/x-wav": ".wav", "video/webm": ".webm", "audio/webm": ".webm",
}
MEDIA_SUFFIXES = set(MEDIA_SUFFIX.values()) | {".aif", ".aiff", ".mkv", ".mka", ".oga"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Transcript types (Podcasting 2.0 lists these) and whether they carry timing the pipeline can use.
TRANSCRIPT_SUFFIX = {
    "text/vtt": ".vtt", "application/x-subrip": ".srt", "application/srt": ".srt", "text/srt": ".srt",
    "application/json": ".json", "text/html": ".html", "text/plain": ".txt",
}
TIMED_SUFFIXES = (".vtt", ".srt", ".json")
_TIMED_PREFERENCE = {".vtt": 0, ".srt": 1, ".json": 2}


def slugify(text: str, *, limit: int = 48) -> str:
    """A file name from a title: ASCII letters and digits joined by "-" (ä becomes a, ß ss)."""
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    slug = _SLUG_CHARS.sub("-", folded.lower()).strip("-")
    return slug[:limit].rstrip("-")


def episode_slug(item: ItemData, taken: set[str]) -> str:
    """The episode's file name: its number (zero-padded) and title, else its date and title; a
    name already taken gets -2, -3 ... (feed order decides, so the same feed gives the same names)."""
    title = slugify(item.title)
    if item.number is not None:
        base = f"{item.number:03d}" + (f"-{title}" if title else "")
    elif item.published is not None:
        base = item.published.strftime("%Y-%m-%d") + (f"-{title}" if title else "")
    else:
        base = title or f"item-{item.position}"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def suffix_for(url: str, mime_type: str, table: dict[str, str], allowed: set[str] | tuple[str, ...]) -> str:
    suffix = Path(url_name(url)).suffix.lower()
    if suffix in allowed:
        return ".jpg" if suffix == ".jpeg" else suffix
    return table.get(mime_type.lower(), "")


def transcript_suffix(url: str, mime_type: str) -> str:
    return suffix_for(url, mime_type, TRANSCRIPT_SUFFIX, set(TRANSCRIPT_SUFFIX.values())) or ".txt"


def timed_choice(files: list[tuple[Path, str | None]]) -> list[tuple[Path, str | None]]:
    """One timed transcript per language (the workspace takes one per language and publishes every
    form from it): WebVTT before SRT before Podcasting 2.0 JSON."""
    best: dict[str | None, tuple[Path, str | None]] = {}
    for path, language in files:
        rank = _TIMED_PREFERENCE.get(path.suffix)
        if rank is None:
            continue
        current = best.get(language)
        if current is None or rank < _TIMED_PREFERENCE[current[0].suffix]:
            best[language] = (path, language)
    return list(best.values())


def json_transcript_to_vtt(data: bytes, path: Path) -> bytes:
    """A Podcasting 2.0 JSON transcript (segments with startTime, endTime, body, speaker) as WebVTT,
    the form the workspace reads; raises ValueError when it is not one."""
    document = json.loads(data.decode("utf-8"))
    segments = document.get("segments") if isinstance(document, dict) else None
    if not isinstance(segments, list) or not segments:
        raise ValueError("has no segments")
    cues = []
    for segment in segments:
        start, end, body = segment.get("startTime"), segment.get("endTime"), str(segment.get("body", "")).strip()
        if not isinstance(start, (int, float)) or not isinstance(end, (int, float)) or not body or end <= start:
            continue
        text = html.escape(body, quote=False)
        if speaker := str(segment.get("speaker") or "").strip():
            text = f"<v {html.escape(speaker, quote=False)}>{text}"
        cues.append(Cue(float(start), float(end), text))
    if not cues:
        raise ValueError("has no segment with a start, an end and words")
    return to_vtt(Transcript(path, tuple(cues), "vtt"))


def chapters_from_json(data: bytes) -> list[ChapterData]:
    """The Podcasting 2.0 JSON chapters file's chapters (version 1.2), in order; raises ValueError."""
    document = json.loads(data.decode("utf-8"))
    items = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ValueError("has no chapters list")
    chapters = []
    for c in items:
        if not isinstance(c, dict) or not isinstance(c.get("startTime"), (int, float)):
            continue
        title = str(c.get("title") or "").strip()
        if not title:
            continue
        chapters.append(ChapterData(float(c["startTime"]), title, c.get("url") or None, c.get("img") or None))
    return sorted(chapters, key=lambda c: c.start)


# -- text of the files -------------------------------------------------------------------------


def _q(text: str) -> str:
    """A quoted scalar for YAML and TOML alike: a JSON string is valid in both, whatever it holds."""
    return json.dumps(text, ensure_ascii=False)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    fraction = seconds - whole
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return text + (f"{fraction:.3f}"[1:] if fraction >= 0.0005 else "")


def show_toml(channel: ChannelData, *, feed_url: str, artwork: str, podcast_guid: str) -> str:
    """`feeds/<show>.toml` for an imported channel; keys the feed lacks are left for the producer,
    marked, so `check` names each one."""
    lines = [f"# Imported from {feed_url or 'a feed file'}. Every key is described in docs/formats.md.", ""]

    def key(name: str, value, comment: str = "") -> None:
        if value in (None, "", []):
            return
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list):
            text = "[" + ", ".join(_q(v) for v in value) + "]"
        else:
            text = _q(str(value))
        lines.append(f"{name} = {text}" + (f"  # {comment}" if comment else ""))

    from media_pipeline.text.from_html import html_to_markdown  # noqa: PLC0415 (kept beside its one use)

    key("title", channel.title)
    key("subtitle", channel.subtitle)
    key("description", html_to_markdown(channel.description) if channel.description else "")
    if not channel.description:
        lines.append('# description = ""  # the feed has none: write one (required)')
    key("language", channel.language or "")
    if not channel.language:
        lines.append('# language = "fi"  # the feed has none: required')
    key("author", channel.author or channel.owner_name)
    key("link", channel.link)
    key("artwork", artwork)
    key("categories", channel.categories)
    key("keywords", channel.keywords)
    key("explicit", channel.explicit)
    key("type", channel.show_type if channel.show_type in ("episodic", "serial") else "")
    key("medium", channel.medium)
    key("copyright", channel.copyright)
    key("license", channel.license)
    key("license_url", channel.license_url)
    key("podcast_guid", podcast_guid, "kept from the old feed: the show's identity follows it")
    if channel.locked is not None:
        key("locked", channel.locked)
    key("block", channel.block or None)
    key("complete", channel.complete or None)
    lines += ["", "[owner]"]
    if channel.owner_name:
        key("name", channel.owner_name)
    else:
        lines.append('# name = ""  # the feed has none: required')
    if channel.owner_email or channel.locked_owner:
        key("email", channel.owner_email or channel.locked_owner)
    else:
        lines.append('# email = ""  # the feed has none: required')
    if channel.funding:
        url, text = channel.funding[0]
        lines += ["", "[funding]"]
        key("url", url)
        key("text", text)
    for person in channel.persons:
        lines += ["", "[[persons]]"]
        _person_lines(person, lambda k, v: key(k, v))
    return "\n".join(lines) + "\n"


def _person_lines(person: Person, emit) -> None:
    emit("name", person.name)
    emit("role", person.role)
    emit("group", person.group)
    emit("href", person.href)
    emit("img", person.img)


def episode_text(item: ItemData, *, source: str, publish_at: dt.datetime, notes: str, artwork: str | None,
                 chapters: list[tuple[ChapterData, str | None]], transcripts: list[tuple[str, str | None]],
                 feed_url: str, text_transcripts: list[tuple[str, str | None]] | None = None,
                 order: int | None = None) -> str:
    """`episodes/<show>/<slug>.md`: the front matter `config` reads, the guid exactly as the feed
    had it, and the notes. What the workspace has no key for is kept as comments."""
    out = ["---", f"# Imported from {feed_url or 'a feed file'}, item {item.position}."]

    def key(name: str, value) -> None:
        if value is None or value == "" or value == []:
            return
        if isinstance(value, bool):
            out.append(f"{name}: {'true' if value else 'false'}")
        elif isinstance(value, int):
            out.append(f"{name}: {value}")
        else:
            out.append(f"{name}: {_q(str(value))}")

    key("title", item.title)
    key("publish_at", publish_at.isoformat())
    if order is not None:
        out.append(f"order: {order}  # published at the same moment as another item; this keeps the old feed's order")
    key("source", source)
    key("guid", item.guid)
    if item.guid_derived:
        out.append("# the feed gave no guid: apps know the episode by its enclosure URL, kept as the guid")
    key("number", item.number)
    key("season", item.season)
    key("episode_type", item.episode_type or None)
    key("explicit", item.explicit)
    key("summary", item.summary or None)
    key("artwork", artwork)
    if item.keywords:
        out.append("keywords: [" + ", ".join(_q(k) for k in item.keywords) + "]")
    if item.persons:
        out.append("persons:")
        for p in item.persons:
            first = True
            for k, v in (("name", p.name), ("role", p.role), ("group", p.group), ("href", p.href), ("img", p.img)):
                if v:
                    out.append(f"  {'- ' if first else '  '}{k}: {_q(v)}")
                    first = False
    if chapters:
        out.append("chapters:")
        for chapter, image in chapters:
            out.append(f"  - start: {_q(_clock(chapter.start))}")
            out.append(f"    title: {_q(chapter.title)}")
            if chapter.url:
                out.append(f"    url: {_q(chapter.url)}")
            if image:
                out.append(f"    image: {_q(image)}")
    for name, files in (("transcript", transcripts), ("text_transcript", text_transcripts or [])):
        if files:
            out.append(f"{name}:")
            for path, language in files:
                out.append(f"  - file: {_q(path)}")
                if language:
                    out.append(f"    language: {_q(language)}")
    if item.soundbites:
        out.append("soundbites:")
        for bite in item.soundbites:
            out.append(f"  - start: {_q(_clock(bite.start))}")
            out.append(f"    duration: {_number(bite.duration)}")
            if bite.title:
                out.append(f"    title: {_q(bite.title[:128])}")
    if item.location is not None:
        out.append("location:")
        out.append(f"  name: {_q(item.location.name[:128])}")
        for k, v in (("geo", item.location.geo), ("osm", item.location.osm)):
            if v:
                out.append(f"  {k}: {_q(v)}")
    alternates = [a for a in item.alternates if a.mime_type.startswith(("audio/", "video/"))
                  and a.url.startswith(("http://", "https://"))]
    if alternates:
        out.append("# the old feed's alternate enclosures, still at the old host: remove each one it stops serving")
        out.append("alternates:")
        for alt in alternates:
            out.append(f"  - url: {_q(alt.url)}")
            out.append(f"    type: {_q(alt.mime_type)}")
            if alt.length:
                out.append(f"    length: {alt.length}")
            if alt.title:
                out.append(f"    title: {_q(alt.title[:32])}")
            if _bitrate(alt.bitrate) is not None:
                out.append(f"    bitrate: {_number(_bitrate(alt.bitrate))}")
    kept = _kept_comments(item)
    out.extend(kept)
    out.append("---")
    return "\n".join(out) + "\n" + (notes.strip() + "\n" if notes.strip() else "")


def _number(value: float) -> str:
    """A number as written, without an exponent or a trailing .0: `4`, `1200000.5`."""
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def _bitrate(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if value > 0 and value != float("inf") else None


def _kept_comments(item: ItemData) -> list[str]:
    """The item's facts the workspace has no key for, kept where the producer sees them."""
    lines = []
    if item.link:
        lines.append(f"# link in the old feed: {item.link}")
    if item.enclosure is not None:
        lines.append(f"# enclosure in the old feed: {item.enclosure.url}")
    for alt in item.alternates:
        if not (alt.mime_type.startswith(("audio/", "video/")) and alt.url.startswith(("http://", "https://"))):
            lines.append(f"# alternate enclosure not carried (not an http(s) audio or video file): {alt.url} "
                         f"({alt.mime_type or 'type not given'})")
    return [line.replace("\n", " ") for line in lines]
