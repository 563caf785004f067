"""Chapter timing shared by every output: ID3 CHAP/CTOC, MP4 chapters and the Podcasting 2.0
JSON chapters file (version 1.2), so that all three always agree to the millisecond.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from media_pipeline.errors import ConfigError
from media_pipeline.model import Chapter, Episode

JSON_VERSION = "1.2.0"


@dataclass(frozen=True)
class ChapterMark:
    """A chapter as written into files: whole milliseconds, every end known."""

    start_ms: int
    end_ms: int
    title: str
    url: str | None = None
    image: Path | None = None

    @property
    def start(self) -> float:
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        return self.end_ms / 1000


def marks(chapters: Sequence[Chapter], duration: float, *, source: str | Path | None = None) -> tuple[ChapterMark, ...]:
    """The chapters with their ends filled in: the given end, else the next chapter's start, else
    the end of the audio. Times are rounded once to milliseconds (ID3 CHAP's unit) and shared.

    A chapter that starts at or after the end of the audio is an error naming `source`: a player
    could never reach it, which usually means the chapters belong to an earlier cut.
    """
    total_ms = round(duration * 1000)
    starts = [round(c.start * 1000) for c in chapters]
    result = []
    for i, (chapter, start_ms) in enumerate(zip(chapters, starts)):
        if start_ms >= total_ms:
            raise ConfigError(
                f"chapter {i + 1} ({chapter.title!r}) starts at {_clock(start_ms)}, "
                f"after the end of the audio ({_clock(total_ms)})", path=source, field="chapters")
        if chapter.end is not None:
            end_ms = min(round(chapter.end * 1000), total_ms)
        elif i + 1 < len(chapters):
            end_ms = starts[i + 1]
        else:
            end_ms = total_ms
        result.append(ChapterMark(start_ms, max(end_ms, start_ms), chapter.title, chapter.url, chapter.image))
    return tuple(result)


def image_numbers(chapters: Sequence[Chapter]) -> dict[Path, int]:
    """Each distinct chapter image's number (1, 2, ... in order of first use): its published key
    (`layout.chapter_image_key`) for the upload, the JSON chapters and the page alike."""
    numbers: dict[Path, int] = {}
    for chapter in chapters:
        if chapter.image is not None and chapter.image not in numbers:
            numbers[chapter.image] = len(numbers) + 1
    return numbers


def chapters_json(episode: Episode, *, duration: float,
                  image_url: Callable[[Path], str] | None = None) -> bytes:
    """The episode's Podcasting 2.0 JSON chapters file (jsonChapters.md, version 1.2), as bytes.

    `image_url` turns a chapter image's local path into the public URL the file should name; without
    it chapter images are left out (the spec's `img` must be a URL). Output is deterministic:
    the same episode gives the same bytes, so storage can skip an unchanged upload.
    """
    chapters = []
    for mark in marks(episode.chapters, duration, source=episode.path):
        entry: dict = {"startTime": _seconds(mark.start_ms), "endTime": _seconds(mark.end_ms), "title": mark.title}
        if mark.image is not None and image_url is not None:
            entry["img"] = image_url(mark.image)
        if mark.url:
            entry["url"] = mark.url
        chapters.append(entry)
    document = {"version": JSON_VERSION, "title": episode.title, "chapters": chapters}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _seconds(ms: int) -> int | float:
    """Seconds as the spec's float, written as an integer when whole (0 rather than 0.0)."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _clock(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}" + (f".{millis:03d}" if millis else "")
