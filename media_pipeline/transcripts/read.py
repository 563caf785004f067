"""Reading a producer's SRT or WebVTT file into cues, and validating their times."""

# The cue blocks are read as WebVTT's parser reads them (W3C WebVTT, "collect a WebVTT block"): a
# timing line inside a cue's text ends that cue and starts the next, which is also what players do
# with an SRT whose blank line between two cues went missing.

from __future__ import annotations

import codecs
import functools
import re
from pathlib import Path

from media_pipeline.audio import stamps
from media_pipeline.errors import MediaError
from media_pipeline.transcripts.cues import DURATION_TOLERANCE, VOICE, Cue, Transcript, format_time
from media_pipeline.transcripts.sanitise import sanitise_cue_line, srt_to_vtt_text

_TIME = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+(.*))?$")
# A byte-order mark says which Unicode form a file is in; without one, UTF-8 is the only form read.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def load_transcript(path: Path, *, duration: float | None) -> Transcript:
    """Read and validate an SRT or WebVTT file; `duration` (seconds) bounds the cue times when known.

    Raises MediaError naming the file and the cue or line: unreadable, empty, unparseable, a cue
    with no length, cues out of order, a cue beyond the end of the episode, or no cue with words.
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
    text = decode(raw, path)
    if not text.strip():
        raise MediaError("is empty: a transcript needs at least one cue with words" if not raw
                         else "holds only blank lines: a transcript needs at least one cue with words",
                         path=path, field="line 1")
    suffix = path.suffix.lower()
    if text.startswith("WEBVTT") or suffix == ".vtt":
        transcript = Transcript(path, parse_vtt(text, path), "vtt")
    elif suffix == ".srt":
        transcript = Transcript(path, parse_srt(text, path), "srt")
    else:
        raise MediaError(f"unknown transcript format {path.suffix!r}; use .srt or .vtt", path=path)
    validate(transcript, duration=duration)
    return transcript


def decode(raw: bytes, path: Path) -> str:
    """The file's text with "\\n" line ends: UTF-8, or UTF-16/32 when a byte-order mark says so."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in raw:
        line = raw[:raw.index(b"\x00")].count(b"\n") + 1
        raise MediaError("is not UTF-8: it holds NUL bytes, as UTF-16 without a byte-order mark does; "
                         "save it as UTF-8", path=path, field=f"line {line}")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        what = "UTF-8" if encoding == "utf-8" else f"{encoding.upper().replace('-SIG', '')} as its byte-order mark says"
        raise MediaError(f"is not {what} (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
                         path=path, field=f"line {line}") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise MediaError("holds NUL characters (UTF-16 without a byte-order mark?); save it as UTF-8",
                         path=path, field=f"line {line}")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def validate(transcript: Transcript, *, duration: float | None) -> None:
    """Cues present, each ending after it starts, in order of start time, within `duration`, and
    at least one with words (an empty cue alone is left out; all empty would publish a blank text)."""
    path = transcript.path
    if not transcript.cues:
        raise MediaError("has no cues", path=path)
    previous: Cue | None = None
    for n, cue in enumerate(transcript.cues, 1):
        where = _cue_name(n, cue)
        if cue.end == cue.start:
            raise MediaError(f"lasts no time: it starts and ends at {format_time(cue.start)}, so its words are "
                             "never shown; give it an end time after its start", path=path, field=where)
        if cue.end < cue.start:
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
    if not any(cue.plain.strip() for cue in transcript.cues):
        count = len(transcript.cues)
        raise MediaError(f"{'its one cue has' if count == 1 else f'none of its {count} cues has'} any words; "
                         "the published transcript would be blank", path=path,
                         field=_cue_name(1, transcript.cues[0]))


def _cue_name(n: int, cue: Cue) -> str:
    name = f"cue {n}" + (f" ({cue.identifier})" if cue.identifier and cue.identifier != str(n) else "")
    return name + (f" (line {cue.line})" if cue.line else "")


def parse_srt(text: str, path: Path) -> tuple[Cue, ...]:
    """SubRip: blocks of a cue number, a timing line and text, separated by blank lines; a line
    starting "Name: " names the speaker of it and the cues after it (a WebVTT voice span)."""
    cues: list[Cue] = []
    speaker: str | None = None
    for line_no, lines in _cue_blocks(_blocks(text), number_before_timing=True):
        number = len(cues) + 1
        identifier = None
        if lines and not _TIMING.match(lines[0]):
            identifier = lines[0].strip()
            lines = lines[1:]
            if not identifier.isdigit() and lines and _TIMING.match(lines[0]):
                raise MediaError(f"{identifier!r} stands where the cue number should be; an SRT cue is a "
                                 "number, a timing line and its words", path=path, field=f"line {line_no}")
            line_no += 1
        if not lines or not (match := _TIMING.match(lines[0])):
            raise MediaError("no timing line like 00:00:01,000 --> 00:00:04,000", path=path,
                             field=f"cue {number} (line {line_no})")
        start, end = _times(match)
        payload = "\n".join(srt_to_vtt_text(line) for line in lines[1:])
        # a speaker named with "Name: " goes on speaking until the next name, as captions read
        if speaker and payload.strip() and not VOICE.match(payload):
            payload = speaker + payload
        speaker = ([m.group(0) for m in map(VOICE.match, payload.split("\n")) if m] or [speaker])[-1]
        cues.append(Cue(start, end, payload, identifier, line_no))
    return tuple(cues)


def parse_vtt(text: str, path: Path) -> tuple[Cue, ...]:
    """WebVTT: a WEBVTT header, then cue blocks; NOTE, STYLE and REGION blocks are skipped."""
    blocks = _blocks(text)
    if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0][1][0]):
        raise MediaError("does not start with the line WEBVTT", path=path, field="line 1")
    # the header ends at a blank line or, as WebVTT's parser reads it, at a line holding "-->"
    header_line, header = blocks[0]
    body = [b for b in blocks[1:] if not (b[1][0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in b[1][0])]
    arrow = next((i for i, line in enumerate(header) if "-->" in line), None)
    if arrow is not None:
        body.insert(0, (header_line + arrow, header[arrow:]))
    if not body:
        raise MediaError("has the WEBVTT line but no cue after it", path=path, field=f"line {header_line}")
    cues: list[Cue] = []
    for line_no, lines in _cue_blocks(body, number_before_timing=False):
        identifier = None
        if not _TIMING.match(lines[0]):
            identifier = lines[0].strip()
            lines = lines[1:]
            line_no += 1
        number = len(cues) + 1
        if not lines or not (match := _TIMING.match(lines[0])):
            raise MediaError("no timing line like 00:00:01.000 --> 00:00:04.000", path=path,
                             field=f"cue {number} (line {line_no})")
        start, end = _times(match)
        cues.append(Cue(start, end, "\n".join(sanitise_cue_line(line) for line in lines[1:]), identifier, line_no))
    return tuple(cues)


def _cue_blocks(blocks: list[tuple[int, list[str]]], *,
                number_before_timing: bool) -> list[tuple[int, list[str]]]:
    """Each block cut before every timing line in its text: WebVTT's parser ends a cue at a line
    holding "-->" and players show the rest as the next cue. In SRT the cue number just above such
    a line (a blank line missing) goes with it."""
    out: list[tuple[int, list[str]]] = []
    for line_no, lines in blocks:
        first = 0 if _TIMING.match(lines[0]) else 1
        cut = line_no
        start = 0
        for i in range(first + 1, len(lines)):
            if _TIMING.match(lines[i]):
                at = i - 1 if number_before_timing and i - 1 > first and lines[i - 1].strip().isdigit() else i
                out.append((cut, lines[start:at]))
                start, cut = at, line_no + at
        out.append((cut, lines[start:]))
    return out


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the 1-based line number where each starts."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for i, line in enumerate(text.split("\n"), 1):
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
