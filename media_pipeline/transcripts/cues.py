"""Cues and transcripts as the rest of the pipeline sees them, and the WebVTT clock."""

# Cue text is held as WebVTT cue payload (`&amp;`, `&lt;` escaped; `<b>`, `<i>`, `<u>`, `<v>` kept),
# so a file converted from SRT is valid WebVTT and an SRT written back keeps its styling.

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

# Cue times are compared with this slack so that a last cue ending on the final frame of an
# episode whose duration was rounded by the encoder is not rejected.
DURATION_TOLERANCE = 0.5

TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")
VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+([^>]*)>")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # WebVTT cue payload, lines joined with "\n"
    identifier: str | None = None
    line: int | None = field(default=None, compare=False)  # where its timing line is in the source file

    @property
    def plain(self) -> str:
        """The words of the cue without tags or escapes."""
        return html.unescape(TAG.sub("", self.text))

    @property
    def speaker(self) -> str | None:
        """Who speaks, from a WebVTT voice span (`<v Name>`) at the start of the cue."""
        match = VOICE.match(self.text)
        return html.unescape(match.group(1).strip()) or None if match else None


@dataclass(frozen=True)
class Transcript:
    path: Path
    cues: tuple[Cue, ...]
    source_format: str  # "srt" or "vtt"

    @property
    def end(self) -> float:
        return max((c.end for c in self.cues), default=0.0)


def format_time(seconds: float, separator: str = ".") -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
