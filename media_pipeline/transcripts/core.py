"""Transcripts and captions: read a producer's SRT or WebVTT file, validate it, write WebVTT and SRT.
"""

# Cue text is held as WebVTT cue payload (`&amp;`, `&lt;` escaped; `<b>`, `<i>`, `<u>`, `<v>` kept),
# so a file converted from SRT is valid WebVTT and an SRT written back keeps its styling.

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from media_pipeline import layout
from media_pipeline.audio import stamps
from media_pipeline.errors import MediaError
from media_pipeline.util.fsutil import atomic_write, replacing

if TYPE_CHECKING:
    from media_pipeline.model import Episode, Show, TranscriptFile, TranscriptSettings

# Cue times are compared with this slack so that a last cue ending on the final frame of an
# episode whose duration was rounded by the encoder is not rejected.
DURATION_TOLERANCE = 0.5

VTT_MIME = "text/vtt"
SRT_MIME = "application/x-subrip"


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # WebVTT cue payload, lines joined with "\n"
    identifier: str | None = None

    @property
    def plain(self) -> str:
        """The words of the cue without tags or escapes."""
        return html.unescape(_TAG.sub("", self.text))

    @property
    def speaker(self) -> str | None:
        """Who speaks, from a WebVTT voice span (`<v Name>`) at the start of the cue."""
        match = _VOICE.match(self.text)
        return html.unescape(match.group(1).strip()) or None if match else None


@dataclass(frozen=True)
class Transcript:
    path: Path
    cues: tuple[Cue, ...]
    source_format: str  # "srt" or "vtt"

    @property
    def end(self) -> float:
        return max((c.end for c in self.cues), default=0.0)


_TIME = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+(.*))?$")
_VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+([^>]*)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")


def load_transcript(path: Path, *, duration: float | None) -> Transcript:
    """Read and validate an SRT or WebVTT file; `duration` (seconds) bounds the cue times when known.

    Raises MediaError naming the file and the cue: unreadable, unparseable, a cue that ends before
    it starts, cues out of order, or a cue beyond the end of the episode.
    """
    path = Path(path)
    # a run checks, publishes and shows each transcript: read once while its stat stays the same
    # (a file that cannot be stat'ed fails to read in `_load`, and a failure is not kept)
    found = stamps.stamp(path)
    return _load(path, tuple(found) if found else None, duration)


@functools.lru_cache(maxsize=1024)
def _load(path: Path, stamp: tuple[int, ...] | None, duration: float | None) -> Transcript:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MediaError("is not UTF-8 text (save it as UTF-8)", path=path) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    suffix = path.suffix.lower()
    if text.lstrip("\ufeff").startswith("WEBVTT") or suffix == ".vtt":
        transcript = Transcript(path, parse_vtt(text, path), "vtt")
    elif suffix == ".srt":
        transcript = Transcript(path, parse_srt(text, path), "srt")
    else:
        raise MediaError(f"unknown transcript format {path.suffix!r}; use .srt or .vtt", path=path)
    validate(transcript, duration=duration)
    return transcript


def validate(transcript: Transcript, *, duration: float | None) -> None:
    """Cues non-empty, each ending after it starts, in order of start time, within `duration`."""
    path = transcript.path
    if not transcript.cues:
        raise MediaError("has no cues", path=path)
    previous: Cue | None = None
    for n, cue in enumerate(transcript.cues, 1):
        where = _cue_name(n, cue)
        if cue.end <= cue.start:
            raise MediaError(f"ends ({format_time(cue.end)}) before it starts ({format_time(cue.start)})",
                             path=path, field=where)
        # WebVTT: a cue's start time must not be before the start of any cue before it.
        if previous is not None and cue.start < previous.start:
            raise MediaError(f"starts at {format_time(cue.start)}, before the cue before it "
                             f"({format_time(previous.start)}); cues must be in time order", path=path, field=where)
        if duration is not None and cue.end > duration + DURATION_TOLERANCE:
            raise MediaError(f"ends at {format_time(cue.end)}, after the end of the episode "
                             f"({format_time(duration)})", path=path, field=where)
        previous = cue


def _cue_name(n: int, cue: Cue) -> str:
    return f"cue {n}" + (f" ({cue.identifier})" if cue.identifier and cue.identifier != str(n) else "")


def parse_srt(text: str, path: Path) -> tuple[Cue, ...]:
    """SubRip: blocks of an optional counter, a timing line and text, separated by blank lines."""
    cues: list[Cue] = []
    for number, (line_no, block) in enumerate(_blocks(text), 1):
        lines = block
        identifier = None
        if lines and not _TIMING.match(lines[0]):
            identifier = lines[0].strip()
            lines = lines[1:]
        if not lines or not (match := _TIMING.match(lines[0])):
            raise MediaError("no timing line like 00:00:01,000 --> 00:00:04,000", path=path,
                             field=f"cue {number} (line {line_no})")
        start, end = _times(match)
        payload = "\n".join(_srt_to_vtt_text(line) for line in lines[1:])
        cues.append(Cue(start, end, payload, identifier))
    return tuple(cues)


def parse_vtt(text: str, path: Path) -> tuple[Cue, ...]:
    """WebVTT: a WEBVTT header, then cue blocks; NOTE, STYLE and REGION blocks are skipped."""
    blocks = _blocks(text)
    if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0][1][0]):
        raise MediaError("does not start with the line WEBVTT", path=path, field="line 1")
    cues: list[Cue] = []
    for line_no, lines in blocks[1:]:
        if lines[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in lines[0]:
            continue
        identifier = None
        if not _TIMING.match(lines[0]):
            identifier = lines[0].strip()
            lines = lines[1:]
        number = len(cues) + 1
        if not lines or not (match := _TIMING.match(lines[0])):
            raise MediaError("no timing line like 00:00:01.000 --> 00:00:04.000", path=path,
                             field=f"cue {number} (line {line_no})")
        start, end = _times(match)
        cues.append(Cue(start, end, "\n".join(sanitise_cue_line(line) for line in lines[1:]), identifier))
    return tuple(cues)


# WebVTT cue text: the tags a cue may carry (class, italics, bold, underline, ruby, voice, language,
# timestamps) and the character references it may hold; every other "<" or "&" is text.
_VTT_TAG = re.compile(r"</?(?:b|i|u|c|ruby|rt)(?:\.[\w-]+)*>|<(?:v|lang)(?:\.[\w-]+)*[ \t][^<>\n]*>|</(?:v|lang)>"
                      r"|<(?:\d+:)?[0-5]\d:[0-5]\d\.\d{3}>")
_REFERENCE = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#\d+|#[xX][0-9a-fA-F]+);")


def sanitise_cue_line(line: str) -> str:
    """One line of cue text as valid, inert WebVTT payload: the WebVTT tags kept, any other markup
    (`<script>`, `<img onerror=...>`) escaped so players show it as text, a stray "&" escaped,
    and "-->" (which would end the cue, making the file invalid) written as "--&gt;"."""
    out, pos = [], 0
    for tag in _VTT_TAG.finditer(line):
        out.append(_escape_text(line[pos:tag.start()]))
        out.append(tag.group())
        pos = tag.end()
    out.append(_escape_text(line[pos:]))
    return "".join(out)


def _escape_text(text: str) -> str:
    pieces, pos = [], 0
    for ref in _REFERENCE.finditer(text):
        pieces.append(text[pos:ref.start()].replace("&", "&amp;"))
        pieces.append(ref.group())
        pos = ref.end()
    pieces.append(text[pos:].replace("&", "&amp;"))
    return "".join(pieces).replace("<", "&lt;").replace(">", "&gt;")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the 1-based line number where each starts."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for i, line in enumerate(text.lstrip("\ufeff").split("\n"), 1):
        if line.strip():
            if not current:
                start = i
            current.append(line.rstrip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _times(match: re.Match) -> tuple[float, float]:
    g = match.groups()
    return _seconds(*g[0:4]), _seconds(*g[4:8])


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def _srt_to_vtt_text(line: str) -> str:
    """An SRT text line as WebVTT payload: keep <b>/<i>/<u>, drop other tags (<font ...>), escape
    the characters WebVTT reserves (& and <), and break up a "-->" that would end the cue."""
    out, pos = [], 0
    for tag in _TAG.finditer(line):
        out.append(_escape(html.unescape(line[pos:tag.start()])))
        if re.fullmatch(r"</?[biu]>", tag.group(), re.I):
            out.append(tag.group().lower())
        pos = tag.end()
    out.append(_escape(html.unescape(line[pos:])))
    return "".join(out).replace("-->", "--&gt;")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def format_time(seconds: float, separator: str = ".") -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_vtt(t: Transcript) -> bytes:
    """The transcript as a WebVTT file (UTF-8, the MIME type text/vtt)."""
    parts = ["WEBVTT", ""]
    for cue in t.cues:
        if cue.identifier and "-->" not in cue.identifier:
            parts.append(cue.identifier)
        parts.append(f"{format_time(cue.start)} --> {format_time(cue.end)}")
        parts.extend(sanitise_cue_line(line) for line in cue.text.split("\n") if line.strip())
        parts.append("")
    return ("\n".join(parts)).encode("utf-8")


def to_srt(t: Transcript) -> bytes:
    """The transcript as a SubRip file: cues numbered from 1, `<v Name>` spans as "Name: "."""
    parts = []
    for n, cue in enumerate(t.cues, 1):
        parts.append(str(n))
        parts.append(f"{format_time(cue.start, ',')} --> {format_time(cue.end, ',')}")
        parts.extend(_vtt_to_srt_text(line) for line in cue.text.split("\n") if line.strip())
        parts.append("")
    return ("\n".join(parts)).encode("utf-8")


def _vtt_to_srt_text(line: str) -> str:
    line = re.sub(r"<v(?:\.[\w.-]+)? ([^>]*)>", lambda m: f"{m.group(1).strip()}: ", line)
    kept = []
    pos = 0
    for tag in _TAG.finditer(line):
        kept.append(html.unescape(line[pos:tag.start()]))
        if re.fullmatch(r"</?[biu]>", tag.group(), re.I):
            kept.append(tag.group().lower())
        pos = tag.end()
    kept.append(html.unescape(line[pos:]))
    # an arrow in the words must not read as a timing line: a zero-width space breaks it up unseen
    return "".join(kept).replace("-->", "--\u200b>")


# -- sanitising ----------------------------------------------------------------------------------

# The WebVTT cue spans a published file may carry; anything else a producer's file holds (a
# `<script>`, a `<font>`) is dropped, and a stray `<` becomes text, so no form can carry markup.
def clean(t: Transcript) -> Transcript:
    """The transcript as it may be published: every cue line through `sanitise_cue_line` (a file
    read by `load_transcript` is already, so this is for cues made elsewhere, such as drafts),
    blank lines dropped, and no identifier that could break a reader's parsing."""
    cues = []
    for c in t.cues:
        text = "\n".join(sanitise_cue_line(line) for line in c.text.split("\n") if line.strip())
        identifier = c.identifier if c.identifier and "-->" not in c.identifier and "<" not in c.identifier else None
        cues.append(Cue(c.start, c.end, text, identifier))
    return Transcript(t.path, tuple(cues), t.source_format)


# -- captioning norms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NormBreach:
    cue: int  # 1-based
    start: float
    rule: str  # the settings key that sets the norm
    reason: str

    @property
    def where(self) -> str:
        return f"cue {self.cue} at {format_time(self.start)}"


def check_norms(t: Transcript, settings: "TranscriptSettings", *, duration: float | None = None) -> list[NormBreach]:
    """Every cue against the show's captioning norms (see TranscriptSettings for their sources)."""
    out: list[NormBreach] = []
    any_speaker = settings.speakers and any(c.speaker for c in t.cues)
    previous: Cue | None = None
    for n, cue in enumerate(t.cues, 1):
        def breach(rule: str, reason: str) -> None:
            out.append(NormBreach(n, cue.start, rule, reason))

        lines = [line for line in cue.plain.split("\n") if line.strip()]
        length = cue.end - cue.start
        if len(lines) > settings.max_lines:
            breach("max_lines", f"has {len(lines)} lines; at most {settings.max_lines}")
        for i, line in enumerate(lines, 1):
            if len(line.strip()) > settings.max_line_chars:
                breach("max_line_chars", f"line {i} has {len(line.strip())} characters; at most "
                                         f"{settings.max_line_chars}")
        chars = sum(len(line.strip()) for line in lines)
        if length > 0 and chars / length > settings.max_cps:
            breach("max_cps", f"{chars / length:.1f} characters a second; at most {settings.max_cps:g} "
                              "(lengthen the cue or shorten the text)")
        if length < settings.min_duration:
            breach("min_duration", f"on screen {length:.2f} s; at least {settings.min_duration:g} s")
        if length > settings.max_duration:
            breach("max_duration", f"on screen {length:.2f} s; at most {settings.max_duration:g} s")
        if previous is not None and not settings.allow_overlap and cue.start < previous.end:
            breach("allow_overlap", f"starts before cue {n - 1} ends ({format_time(previous.end)})")
        if duration is not None and cue.end > duration + DURATION_TOLERANCE:
            breach("duration", f"ends at {format_time(cue.end)}, after the end of the audio ({format_time(duration)})")
        if any_speaker and cue.speaker is None:
            breach("speakers", "names no speaker (<v Name>) while other cues do; mark who speaks on every change")
        previous = cue
    return out


# -- the published forms -------------------------------------------------------------------------

HTML_MIME = "text/html"
JSON_MIME = "application/json"
# Each form: (kind of file, suffix after the episode's name, MIME type in the feed)
FORMS = (("vtt", ".vtt", VTT_MIME), ("srt", ".srt", SRT_MIME), ("html", ".transcript.html", HTML_MIME),
         ("json", ".transcript.json", JSON_MIME))
TIMED_MIMES = (VTT_MIME, SRT_MIME, "application/srt")

_DRAFT_NOTE = {
    "fi": "Tämä tekstitys on tehty puheentunnistuksella eikä ihminen ole tarkistanut sitä.",
    "sv": "Den här texten är gjord med taligenkänning och har inte granskats av en människa.",
    "en": "This transcript was made by speech recognition and has not been checked by a person.",
}


def draft_note(language: str) -> str:
    """The visible label of a machine transcript, in the listener's language where we have it."""
    return _DRAFT_NOTE.get(language.split("-")[0].lower(), _DRAFT_NOTE["en"])


def language_of_key(key: str, episode_slug: str, show_language: str) -> str:
    """The language a transcript key (from layout.transcript_key, maybe versioned) is in."""
    name = layout.unversioned_key(key).rsplit("/", 1)[-1]
    rest = name[len(episode_slug):] if name.startswith(episode_slug) else ""
    for _, suffix, _mime in FORMS:
        if rest.endswith(suffix):
            middle = rest[:-len(suffix)]
            return middle[1:] if middle.startswith(".") and len(middle) > 1 else show_language
    return show_language


def publishable(episode: "Episode", show: "Show") -> list["TranscriptFile"]:
    """The transcripts that may reach listeners: a draft only when the show allows machine ones."""
    return [t for t in episode.transcripts if not t.draft or show.transcript_settings.allow_machine]


def to_json(t: Transcript) -> bytes:
    """The Podcasting 2.0 JSON transcript: version 1.0.0, one segment per cue, in seconds."""
    import json

    segments = []
    for cue in t.cues:
        segment = {"startTime": round(cue.start, 3), "endTime": round(cue.end, 3),
                   "body": " ".join(cue.plain.split())}
        if (name := cue.speaker) is not None:
            segment = {"speaker": name, **segment}
        segments.append(segment)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1).encode("utf-8")


def to_html(t: Transcript, *, title: str, language: str, draft: bool = False) -> bytes:
    """A readable transcript page in the Podcasting 2.0 HTML transcript form: per cue a `<cite>`
    with the speaker (when named), a `<time>` with the start and a `<p>` with the words; every
    text escaped."""
    esc = html.escape
    rows = []
    for cue in t.cues:
        who = cue.speaker
        if who:
            rows.append(f"<cite>{esc(who)}:</cite>")
        minutes, seconds = divmod(int(cue.start), 60)
        stamp = f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}" if minutes >= 60 else f"{minutes}:{seconds:02d}"
        rows.append(f'<time datetime="PT{cue.start:.3f}S">{stamp}</time>')
        rows.append(f"<p>{esc(' '.join(cue.plain.split()))}</p>")
    note = f'<p class="draft-note" role="note"><strong>{esc(draft_note(language))}</strong></p>\n' if draft else ""
    page = (f'<!DOCTYPE html>\n<html lang="{esc(language)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n</head>\n<body>\n<main>\n<h1>{esc(title)}</h1>\n{note}"
            + "\n".join(rows) + "\n</main>\n</body>\n</html>\n")
    return page.encode("utf-8")


def write_forms(show: "Show", episode: "Episode", *, duration: float | None,
                folder: Path) -> list[tuple[str, Path, str]]:
    """Every publishable transcript of `episode` in all four forms, written under `folder`:
    (kind "transcript", file, storage key) for each, the show's language first, WebVTT first."""
    out: list[tuple[str, Path, str]] = []
    folder.mkdir(parents=True, exist_ok=True)
    chosen = publishable(episode, show)
    chosen.sort(key=lambda t: (t.language or show.language) != show.language)
    for item in chosen:
        language = item.language or show.language
        t = clean(load_transcript(item.path, duration=duration))
        title = episode.title + (f" ({language})" if language != show.language else "")
        data = {"vtt": to_vtt(t), "srt": to_srt(t), "json": to_json(t),
                "html": to_html(t, title=title, language=language, draft=item.draft)}
        for form, suffix, _mime in FORMS:
            key = layout.transcript_key(show.slug, episode.slug, language, show.language, suffix)
            path = folder / key.rsplit("/", 1)[-1]
            atomic_write(path, data[form])
            out.append(("transcript", path, key))
    return out


# -- soft subtitles in MP4 -----------------------------------------------------------------------


def subtitle_tracks(show: "Show", episode: "Episode", *, duration: float | None,
                    folder: Path) -> list[tuple[Path, str]]:
    """(WebVTT file, language) of each publishable transcript, for mux_subtitles."""
    tracks = []
    for item in publishable(episode, show):
        language = item.language or show.language
        path = folder / f".{episode.slug}.{language}.subtitles.vtt"
        atomic_write(path, to_vtt(clean(load_transcript(item.path, duration=duration))))
        tracks.append((path, language))
    return tracks


def mux_subtitles(media: Path, target: Path, tracks: list[tuple[Path, str]]) -> None:
    """Copy `media` to `target` with each WebVTT as a mov_text subtitle track tagged with its
    ISO 639-2 language; audio and video are stream-copied, never re-encoded."""
    from media_pipeline.audio import ffmpeg
    from media_pipeline.tags.tagging import iso639_2

    args: list = ["-y", "-i", media]
    for path, _language in tracks:
        args += ["-i", path]
    args += ["-map", "0:V?", "-map", "0:a?"]
    for i in range(len(tracks)):
        args += ["-map", f"{i + 1}:0"]
    args += ["-c", "copy", "-c:s", "mov_text"]
    for i, (_path, language) in enumerate(tracks):
        args += [f"-metadata:s:s:{i}", f"language={iso639_2(language)}"]
    with replacing(target) as temp:
        ffmpeg.run([*args, "-fflags", "+bitexact", temp], what=media)
