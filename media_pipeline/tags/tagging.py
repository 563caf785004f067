"""Tags inside published media: ID3v2 for MP3, iTunes atoms for MP4/M4A, chapters in both.

One table (FIELDS) says which ID3 frame and which MP4 atom carries each logical field; the two
formats differ only in their small style classes (`id3frames`, `mp4atoms`), never in per-format
branches per field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mutagen.mp4 import MP4

from media_pipeline.audio import ffmpeg
from media_pipeline.errors import MediaError
from media_pipeline.tags.data import TagData, iso639_2, mutagen_call, plain_text, tag_data
from media_pipeline.tags.id3frames import (
    ID3Chapters,
    ID3Comment,
    ID3Flag,
    ID3Picture,
    ID3Text,
    ID3Url,
    id3_or_none,
    write_id3,
)
from media_pipeline.tags.mp4atoms import (
    MP4Chapters,
    MP4Flag,
    MP4Int,
    MP4Pair,
    MP4Picture,
    MP4Text,
    MP4View,
    mp4_chapters,
    write_mp4,
)
from media_pipeline.util.fsutil import replacing

log = logging.getLogger(__name__)

MP4_SUFFIXES = (".mp4", ".m4a", ".m4v", ".m4b")


@dataclass(frozen=True)
class Field:
    """One logical field and where each format keeps it (None: that format has no place for it)."""

    name: str
    id3: Any
    mp4: Any


FIELDS: tuple[Field, ...] = (
    Field("title", ID3Text("TIT2"), MP4Text("\xa9nam")),
    Field("artist", ID3Text("TPE1"), MP4Text("\xa9ART")),
    Field("album", ID3Text("TALB"), MP4Text("\xa9alb")),
    Field("album_artist", ID3Text("TPE2"), MP4Text("aART")),
    Field("track", ID3Text("TRCK"), MP4Pair("trkn")),
    Field("track", None, MP4Int("tves")),  # iTunes episode number
    Field("season", ID3Text("TPOS"), MP4Int("tvsn")),
    # TDRC is ID3v2.4; for v2.3 mutagen's update_to_v23 turns it into TYER + TDAT
    Field("date", ID3Text("TDRC"), MP4Text("\xa9day")),
    Field("genre", ID3Text("TCON"), MP4Text("\xa9gen")),
    Field("summary", ID3Comment(), MP4Text("desc", limit=255)),
    Field("description", ID3Text("TDES"), MP4Text("ldes")),
    Field("language", ID3Text("TLAN", to_text=lambda v: iso639_2(v)), None),
    Field("copyright", ID3Text("TCOP"), MP4Text("cprt")),
    Field("license_url", ID3Url("WCOP"), None),
    Field("length_ms", ID3Text("TLEN"), None),
    Field("episode_url", ID3Url("WOAF"), None),  # WOAF: the official web page of this very file
    Field("feed_url", ID3Text("WFED", latin1=True), MP4Text("purl")),
    Field("guid", ID3Text("TGID"), MP4Text("egid")),
    Field("keywords", ID3Text("TKWD"), MP4Text("keyw")),
    Field("podcast", ID3Flag("PCST"), MP4Flag("pcst")),
    Field("podcast", None, MP4Flag("stik", on=21)),
    Field("cover", ID3Picture(), MP4Picture()),
    Field("chapters", ID3Chapters(), MP4Chapters()),
)


def tag_file(path: Path, data: TagData, *, id3_version: int = 3,
             progress: ffmpeg.Progress | None = None) -> None:
    """Write `data` into the media file at `path`, replacing whatever tags it had.

    The work happens on a temporary copy beside the file that then replaces it, so a failure
    never leaves half a file. The audio and video data are never re-encoded, and the same
    file and data always give the same bytes.
    """
    path = Path(path)
    writer = _writer_for(path)
    if id3_version not in (3, 4):
        raise MediaError(f"ID3 version must be 3 or 4, not {id3_version}", path=path, field="id3_version")
    with replacing(path) as tmp:  # keeps the suffix: ffmpeg picks the muxer by it
        writer(path, tmp, _values(data, "id3" if writer is write_id3 else "mp4"), data, id3_version, progress)
    log.info("tagged %s", path)


def read_tags(path: Path) -> dict:
    """What the file's tags say, by logical field, plus chapters and cover (for `tags FILE`)."""
    path = Path(path)
    if path.suffix.lower() == ".mp3":
        tags = mutagen_call("read tags", path, id3_or_none, path)
        if tags is None:
            return {"path": str(path), "format": "MP3 without ID3v2 tag", "fields": {}, "chapters": [],
                    "cover": None}
        source, style = tags, "id3"
        kind = f"ID3v2.{tags.version[1]}"
        frames: dict[str, int] = {}
        for frame in tags.values():
            frames[frame.FrameID] = frames.get(frame.FrameID, 0) + 1
        extra = {"frames": dict(sorted(frames.items()))}
    elif path.suffix.lower() in MP4_SUFFIXES:
        f = mutagen_call("read tags", path, MP4, path)
        source, style, kind = MP4View(f.tags, mp4_chapters(f)), "mp4", "MP4"
        extra = {"atoms": sorted(f.tags.keys()) if f.tags else []}
    else:
        raise MediaError(f"cannot read tags of {path.suffix or 'files without a suffix'}; "
                         "supported: .mp3, " + ", ".join(MP4_SUFFIXES), path=path)
    values: dict[str, Any] = {}
    for field in FIELDS:
        how = getattr(field, style)
        if how is not None and values.get(field.name) in (None, False):
            values[field.name] = how.read(source)
    cover = values.pop("cover", None)
    found_chapters = values.pop("chapters", None) or []
    return {"path": str(path), "format": kind, "fields": {k: v for k, v in values.items() if v is not None},
            "chapters": found_chapters, "cover": cover, **extra}


def _values(data: TagData, style: str) -> list[tuple[Any, Any]]:
    """(style, value) for every table row this format has a place for and the data fills."""
    rows = []
    for field in FIELDS:
        how = getattr(field, style)
        value = getattr(data, field.name)
        if how is not None and value not in (None, "", ()):
            rows.append((how, value))
    return rows


def _writer_for(path: Path) -> Callable[..., None]:
    suffix = path.suffix.lower()
    if suffix == ".mp3":
        return write_id3
    if suffix in MP4_SUFFIXES:
        return write_mp4
    raise MediaError(f"cannot tag {suffix or 'files without a suffix'}; supported: .mp3, "
                     + ", ".join(MP4_SUFFIXES), path=path)


__all__ = ["FIELDS", "MP4_SUFFIXES", "Field", "TagData", "iso639_2", "mutagen_call", "plain_text", "read_tags",
           "tag_data", "tag_file"]
