"""Transcripts and captions: read a producer's SRT or WebVTT file, validate it, write WebVTT and SRT.
"""

# Cue text is held as WebVTT cue payload (`&amp;`, `&lt;` escaped; `<b>`, `<i>`, `<u>`, `<v>` kept),
# so a file converted from SRT is valid WebVTT and an SRT written back keeps its styling.

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import MediaError

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
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")


def load_transcript(path: Path, *, duration: float | None) -> Transcript:
    """Read and validate an SRT or WebVTT file; `duration` (seconds) bounds the cue times when known.

    Raises MediaError naming the file and the cue: unreadable, unparseable, a cue that ends before
    it starts, cues out of order, or a cue beyond the end of the episode.
    """
    path = Path(path)
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
    return "".join(kept)
