"""Reading a producer's SRT or WebVTT file into cues, and validating their times."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from media_pipeline.audio import stamps
from media_pipeline.errors import MediaError
from media_pipeline.transcripts.cues import DURATION_TOLERANCE, Cue, Transcript, format_time
from media_pipeline.transcripts.sanitise import sanitise_cue_line, srt_to_vtt_text

_TIME = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+(.*))?$")


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
        payload = "\n".join(srt_to_vtt_text(line) for line in lines[1:])
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
