"""The four published forms of a transcript (WebVTT, SRT, Podcasting 2.0 JSON and an HTML page)
and which of an episode's transcripts may be published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from media_pipeline import layout
from media_pipeline.errors import ConfigError
from media_pipeline.text import strings
from media_pipeline.text.notes import sanitise_html
from media_pipeline.transcripts.captions import captions
from media_pipeline.transcripts.cues import Transcript, format_time
from media_pipeline.transcripts.read import load_transcript
from media_pipeline.transcripts.sanitise import clean, sanitise_cue_line, vtt_to_srt_text
from media_pipeline.util.fsutil import atomic_write

if TYPE_CHECKING:
    from media_pipeline.model import Episode, Show, TranscriptFile

VTT_MIME = "text/vtt"
SRT_MIME = "application/x-subrip"
HTML_MIME = "text/html"
JSON_MIME = "application/json"
# Each form: (kind of file, suffix after the episode's name, MIME type in the feed)
FORMS = (("vtt", ".vtt", VTT_MIME), ("srt", ".srt", SRT_MIME), ("html", ".transcript.html", HTML_MIME),
         ("json", ".transcript.json", JSON_MIME))
TIMED_MIMES = (VTT_MIME, SRT_MIME, "application/srt")
TEXT_MIME = "text/plain"
# An untimed transcript, published as it came: (its file's suffixes, the published suffix, MIME type)
UNTIMED_FORMS = (((".html", ".htm"), ".text.html", HTML_MIME), ((".txt",), ".txt", TEXT_MIME))


def draft_note(language: str) -> str:
    """The visible label of a machine transcript, in the listener's language where we have it."""
    return strings.text(language, "draft_note")


def publishable(episode: "Episode", show: "Show") -> list["TranscriptFile"]:
    """The transcripts that may reach listeners: a draft only when the show allows machine ones."""
    return [t for t in episode.transcripts if not t.draft or show.transcript_settings.allow_machine]


def to_vtt(t: Transcript, *, note: str | None = None) -> bytes:
    """The transcript as a WebVTT file (UTF-8, the MIME type text/vtt); `note` as a NOTE block
    after the header (a machine draft says so there, for tools that read the file)."""
    parts = ["WEBVTT", ""]
    if note:
        parts += ["NOTE " + " ".join(note.replace("-->", "->").split()), ""]
    for cue in t.cues:
        if cue.identifier and "-->" not in cue.identifier:
            parts.append(cue.identifier)
        parts.append(f"{format_time(cue.start)} --> {format_time(cue.end)}")
        parts.extend(sanitise_cue_line(line) for line in cue.text.split("\n") if line.strip())
        parts.append("")
    return ("\n".join(parts)).encode("utf-8")


def to_srt(t: Transcript) -> bytes:
    """The transcript as a SubRip file: cues numbered from 1; `<v Name>` spans are left out, since
    `captions.captions` has already named the speaker in the text where the speaker changes."""
    parts = []
    for n, cue in enumerate(t.cues, 1):
        parts.append(str(n))
        parts.append(f"{format_time(cue.start, ',')} --> {format_time(cue.end, ',')}")
        parts.extend(vtt_to_srt_text(line) for line in cue.text.split("\n") if line.strip())
        parts.append("")
    return ("\n".join(parts)).encode("utf-8")


def to_json(t: Transcript, descriptions: Transcript | None = None, *, note: str | None = None,
            language: str = "en") -> bytes:
    """The Podcasting 2.0 JSON transcript: version 1.0.0, one segment per cue, in seconds; a
    machine draft carries `"machine": true` and the visible `note` beside the segments. With
    `descriptions`, the descriptive transcript: each description a segment of its own in time
    order, its speaker the word for a description in `language` ("Kuvailu")."""
    from media_pipeline.transcripts.descriptions import interleave

    label = strings.text(language, "description")
    segments = []
    for entry in interleave(t.cues, descriptions.cues if descriptions else ()):
        segment = {"startTime": round(entry.start, 3), "endTime": round(entry.end, 3), "body": entry.text}
        if (name := label if entry.description else entry.speaker) is not None:
            segment = {"speaker": name, **segment}
        segments.append(segment)
    data: dict = {"version": "1.0.0"}
    if note:
        data.update(machine=True, note=note)
    data["segments"] = segments
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _stamp(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


_env = Environment(loader=PackageLoader("media_pipeline.transcripts", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=True)
_env.filters["stamp"] = _stamp


def to_html(t: Transcript, *, title: str, language: str, draft: bool = False,
            descriptions: Transcript | None = None) -> bytes:
    """A readable transcript page in the Podcasting 2.0 HTML transcript form: per cue a `<cite>`
    with the speaker (when named), a `<time>` with the start and a `<p>` with the words; every
    text escaped. With `descriptions`, the descriptive transcript: each description in its place
    in time, marked by a `<cite>` saying it is one and its own class."""
    from media_pipeline.transcripts.descriptions import interleave

    page = _env.get_template("transcript.html").render(
        entries=interleave(t.cues, descriptions.cues if descriptions else ()), title=title, language=language,
        note=draft_note(language) if draft else None, description=strings.text(language, "description"))
    return page.encode("utf-8")


def to_text_page(data: bytes, *, title: str, language: str, where: str) -> bytes:
    """An untimed HTML transcript as a page of its own: its body sanitised as published notes are
    (no scripts, styles, event handlers or `javascript:` links), under the episode's title."""
    body = sanitise_html(_utf8(data, where)).strip()
    if not body:
        raise ConfigError("has no text to publish", path=where)
    return _env.get_template("text_transcript.html").render(body=body, title=title, language=language).encode("utf-8")


def _utf8(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"is not UTF-8 text (byte {exc.start})", path=where) from None
    if "\x00" in text:
        raise ConfigError("is not text (it holds NUL characters)", path=where)
    return text


def text_form(show: "Show", episode: "Episode", item: "TranscriptFile", *, display=str) -> tuple[str, bytes]:
    """An untimed transcript as it is published: (its suffix after the episode's name, its bytes):
    HTML as a sanitised page, plain text as UTF-8 with its line breaks. Raises ConfigError naming
    the file when it is not text."""
    language = item.language or show.language
    suffix = next(published for suffixes, published, _mime in UNTIMED_FORMS if item.path.suffix.lower() in suffixes)
    where = display(item.path)
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", path=where) from None
    if suffix == ".txt":
        text = _utf8(data, where).replace("\r\n", "\n").strip()
        if not text:
            raise ConfigError("has no text to publish", path=where)
        return suffix, (text + "\n").encode("utf-8")
    title = episode.title + (f" ({language})" if language != show.language else "")
    return suffix, to_text_page(data, title=title, language=language, where=where)


def write_text_forms(show: "Show", episode: "Episode", *, folder: Path,
                     display=str) -> list[tuple[str, Path, str]]:
    """Every untimed transcript of `episode` (HTML, plain text) written under `folder` as it is
    published (`text_form`): (kind "transcript", file, storage key) for each."""
    out: list[tuple[str, Path, str]] = []
    for item in sorted(episode.text_transcripts, key=lambda t: (t.language or show.language) != show.language):
        suffix, published = text_form(show, episode, item, display=display)
        key = layout.transcript_key(show.slug, episode.slug, item.language or show.language, show.language, suffix)
        path = folder / key.rsplit("/", 1)[-1]
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(path, published)
        out.append(("transcript", path, key))
    return out


def write_forms(show: "Show", episode: "Episode", *, duration: float | None,
                folder: Path) -> list[tuple[str, Path, str]]:
    """Every publishable transcript of `episode` in all four forms, written under `folder`:
    (kind "transcript", file, storage key) for each, the show's language first, WebVTT first."""
    out: list[tuple[str, Path, str]] = []
    folder.mkdir(parents=True, exist_ok=True)
    chosen = publishable(episode, show)
    chosen.sort(key=lambda t: (t.language or show.language) != show.language)
    described = {d.language or show.language: clean(load_transcript(d.path, duration=duration))
                 for d in episode.descriptions}
    for item in chosen:
        language = item.language or show.language
        source = load_transcript(item.path, duration=duration)
        t = clean(source)
        timed = captions(source, show.transcript_settings, language=language, draft=item.draft)
        note = draft_note(language) if item.draft else None
        title = episode.title + (f" ({language})" if language != show.language else "")
        told = described.get(language)
        data = {"vtt": to_vtt(timed, note=note), "srt": to_srt(timed),
                "json": to_json(t, told, note=note, language=language),
                "html": to_html(t, title=title, language=language, draft=item.draft, descriptions=told)}
        for form, suffix, _mime in FORMS:
            key = layout.transcript_key(show.slug, episode.slug, language, show.language, suffix)
            path = folder / key.rsplit("/", 1)[-1]
            atomic_write(path, data[form])
            out.append(("transcript", path, key))
    # each description file as WebVTT, for <track kind="descriptions">, the show's language first
    for language in sorted(described, key=lambda code: code != show.language):
        key = layout.descriptions_key(show.slug, episode.slug, language, show.language)
        path = folder / key.rsplit("/", 1)[-1]
        atomic_write(path, to_vtt(described[language]))
        out.append(("description", path, key))
    return out
