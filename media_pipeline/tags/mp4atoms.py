"""iTunes atoms for MP4/M4A through mutagen, and chapters through an ffmpeg stream-copy remux
(mutagen reads QuickTime chapter tracks but cannot write them): the styles the tag table names."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutagen.mp4 import MP4, MP4Cover

from media_pipeline.audio import ffmpeg
from media_pipeline.tags import artwork
from media_pipeline.tags.chapters import ChapterMark
from media_pipeline.tags.data import TagData, mutagen_call


@dataclass
class MP4Target:
    """What the MP4 styles fill in; applied in two steps (remux for chapters, then atoms)."""

    atoms: dict[str, list] = dataclasses.field(default_factory=dict)
    chapters: tuple[ChapterMark, ...] = ()


@dataclass(frozen=True)
class MP4View:
    tags: Any
    chapters: list[dict]


@dataclass(frozen=True)
class MP4Text:
    atom: str
    limit: int | None = None  # Apple: `desc` holds at most 255 characters; `ldes` is the long one

    def write(self, target: MP4Target, value: Any, data: TagData) -> None:
        text = str(value)
        if self.limit and len(text) > self.limit:
            text = text[: self.limit - 1].rstrip() + "…"
        target.atoms[self.atom] = [text]

    def read(self, view: MP4View) -> str | None:
        values = view.tags.get(self.atom) if view.tags else None
        return "/".join(str(v) for v in values) if values else None


@dataclass(frozen=True)
class MP4Int:
    atom: str

    def write(self, target: MP4Target, value: int, data: TagData) -> None:
        target.atoms[self.atom] = [int(value)]

    def read(self, view: MP4View) -> int | None:
        values = view.tags.get(self.atom) if view.tags else None
        return int(values[0]) if values else None


@dataclass(frozen=True)
class MP4Pair:
    """trkn/disk: (number, total); the total of a running podcast is unknown, so 0."""

    atom: str

    def write(self, target: MP4Target, value: int, data: TagData) -> None:
        target.atoms[self.atom] = [(int(value), 0)]

    def read(self, view: MP4View) -> int | None:
        values = view.tags.get(self.atom) if view.tags else None
        return int(values[0][0]) if values else None


@dataclass(frozen=True)
class MP4Flag:
    atom: str
    on: Any = True  # pcst is a boolean atom; stik (media kind) is 21 for a podcast

    def write(self, target: MP4Target, value: bool, data: TagData) -> None:
        if value:
            target.atoms[self.atom] = self.on if isinstance(self.on, bool) else [self.on]

    def read(self, view: MP4View) -> bool:
        value = view.tags.get(self.atom) if view.tags else None
        return value is not None and (value == self.on or value == [self.on])


@dataclass(frozen=True)
class MP4Picture:
    def write(self, target: MP4Target, value: Path, data: TagData) -> None:
        mime, data = artwork.embeddable(value)
        kind = MP4Cover.FORMAT_JPEG if mime == "image/jpeg" else MP4Cover.FORMAT_PNG
        target.atoms["covr"] = [MP4Cover(data, imageformat=kind)]

    def read(self, view: MP4View) -> dict | None:
        covers = view.tags.get("covr") if view.tags else None
        return artwork.image_info(bytes(covers[0])) if covers else None


@dataclass(frozen=True)
class MP4Chapters:
    """QuickTime chapter track written by ffmpeg; mutagen reads it but cannot write it."""

    def write(self, target: MP4Target, value: tuple[ChapterMark, ...], data: TagData) -> None:
        target.chapters = value

    def read(self, view: MP4View) -> list[dict]:
        return view.chapters


def write_mp4(path: Path, tmp: Path, rows: list[tuple[Any, Any]], data: TagData, version: int,
              progress: ffmpeg.Progress | None) -> None:
    """`path` remuxed to `tmp` with its chapters, then its iTunes atoms set from the rows."""
    target = MP4Target()
    for how, value in rows:
        how.write(target, value, data)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".chapters-") as scratch:
        meta = Path(scratch) / "chapters.txt"
        meta.write_text(_ffmetadata(target.chapters), encoding="utf-8")
        # Stream copy: video and audio packets are untouched. Global metadata comes from the
        # (empty) metadata file, which drops the old tags; chapters and their titles from it too.
        # 0:V is video without attached pictures: the old cover is replaced by covr below.
        ffmpeg.run(["-i", path, "-i", meta, "-map", "0:V?", "-map", "0:a?", "-map", "0:s?",
                    "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", "-fflags", "+bitexact",
                    "-movflags", "+faststart", "-y", tmp],
                   what=path, duration=data.length_ms / 1000 or None, progress=progress)

    def write() -> None:
        f = MP4(tmp)
        if f.tags is None:
            f.add_tags()
        f.tags.clear()
        f.tags.update(target.atoms)
        f.save()

    mutagen_call("write MP4 tags", path, write)


def _ffmetadata(marks: tuple[ChapterMark, ...]) -> str:
    """ffmpeg's metadata file format: `;FFMETADATA1`, then one [CHAPTER] section per chapter."""
    def escape(text: str) -> str:
        return re.sub(r"([=;#\\\n])", r"\\\1", text)

    lines = [";FFMETADATA1"]
    for mark in marks:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={mark.start_ms}", f"END={mark.end_ms}",
                  f"title={escape(mark.title)}"]
    return "\n".join(lines) + "\n"


def mp4_chapters(f: MP4) -> list[dict]:
    found = list(f.chapters or [])
    length = f.info.length
    result = []
    for i, chapter in enumerate(found):
        end = found[i + 1].start if i + 1 < len(found) else length
        result.append({"start": round(chapter.start, 3), "end": round(end, 3), "title": chapter.title,
                       "url": None, "image": None})
    return result
