"""ID3v2 for MP3: how one logical value becomes one or more frames and back (the styles the tag
table in `tagging` names), frames in an order players read well, chapters per the ID3v2 Chapter
Frame Addendum."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import mutagen.apev2
from mutagen import id3
from mutagen.id3._specs import EncodedTextSpec, EncodingSpec, Latin1TextSpec  # specs have no public home
from mutagen.id3._tags import save_frame

from media_pipeline.audio import ffmpeg
from media_pipeline.tags import artwork
from media_pipeline.tags.chapters import ChapterMark
from media_pipeline.tags.data import TagData, iso639_2, mutagen_call

log = logging.getLogger(__name__)

ID3_PADDING = 1024  # fixed, so the same input always gives the same bytes (storage compares checksums)


class WFED(id3.TextFrame):
    """Apple's podcast feed URL frame. iTunes writes it as a text frame (encoding byte first)
    despite its W name, and Apple-compatible readers expect that, so it is one here too."""


class _BareLatin1(Latin1TextSpec):
    """A URL as ID3 lays it out: the frame's last field, ended by the frame size rather than a $00
    (mutagen writes one, and readers such as eyeD3 then show it as part of the URL)."""

    def write(self, config, frame, value):
        return value.encode("latin1")


class WOAF(id3.UrlFrame):
    "Official audio file web page"
    _framespec = [_BareLatin1("url")]


class WCOP(id3.UrlFrame):
    "Copyright and legal information (the licence)"
    _framespec = [_BareLatin1("url")]


class WXXX(id3.WXXX):
    "User-defined URL: a chapter's link"
    _framespec = [EncodingSpec("encoding", default=id3.Encoding.UTF16), EncodedTextSpec("desc"), _BareLatin1("url")]


_ID3_FRAMES = {**id3.Frames, "WFED": WFED, "WOAF": WOAF, "WCOP": WCOP, "WXXX": WXXX}
_UTF8 = id3.Encoding.UTF8  # saved as UTF-16 in ID3v2.3, which has no UTF-8


# Frame order in the file. mutagen orders frames by size, but libavformat (ffmpeg, mpv, many
# players) lists CHAP frames in file order, so chapters go in time order; small text frames come
# first so a reader that stops early still sees them, pictures last.
_ID3_ORDER = ["TIT2", "TPE1", "TALB", "TPE2", "TRCK", "TPOS", "TDRC", "TYER", "TDAT", "TIME", "TCON",
              "COMM", "TDES", "TLAN", "TCOP", "WCOP", "TLEN", "WOAF", "WFED", "TGID", "TKWD", "PCST",
              "CTOC", "CHAP", "APIC"]


class OrderedID3(id3.ID3):
    """An ID3 tag that writes its frames in _ID3_ORDER, chapters by start time."""

    def _write(self, config):
        def key(frame):
            rank = _ID3_ORDER.index(frame.FrameID) if frame.FrameID in _ID3_ORDER else len(_ID3_ORDER)
            return rank, getattr(frame, "start_time", 0), frame.HashKey

        return bytearray().join(save_frame(frame, config=config) for frame in sorted(self.values(), key=key))


@dataclass(frozen=True)
class ID3Text:
    frame: str
    to_text: Callable[[Any], str] = str
    latin1: bool = False  # Apple's readers expect WFED in ISO-8859-1, as iTunes writes it

    def write(self, tags: id3.ID3, value: Any, data: TagData) -> None:
        text = self.to_text(value)
        encoding = id3.Encoding.LATIN1 if self.latin1 and _is_latin1(text) else _UTF8
        tags.add(_ID3_FRAMES[self.frame](encoding=encoding, text=[text]))

    def read(self, tags: id3.ID3) -> Any:
        frame = tags.get(self.frame)
        return "/".join(str(t) for t in frame.text) if frame is not None and frame.text else None


@dataclass(frozen=True)
class ID3Url:
    frame: str

    def write(self, tags: id3.ID3, value: str, data: TagData) -> None:
        tags.add(_ID3_FRAMES[self.frame](url=value))

    def read(self, tags: id3.ID3) -> str | None:
        frame = tags.get(self.frame)
        return frame.url if frame is not None else None


@dataclass(frozen=True)
class ID3Comment:
    """COMM with an empty description: the one comment every player shows."""

    def write(self, tags: id3.ID3, value: str, data: TagData) -> None:
        tags.add(id3.COMM(encoding=_UTF8, lang=iso639_2(data.language), desc="", text=[value]))

    def read(self, tags: id3.ID3) -> str | None:
        frame = next((f for f in tags.getall("COMM") if f.desc == ""), None)
        return str(frame.text[0]) if frame is not None and frame.text else None


@dataclass(frozen=True)
class ID3Flag:
    frame: str

    def write(self, tags: id3.ID3, value: bool, data: TagData) -> None:
        if value:
            # iTunes marks podcasts with a PCST frame of four zero bytes; its presence is the flag
            tags.add(_ID3_FRAMES[self.frame](value=0))

    def read(self, tags: id3.ID3) -> bool:
        return self.frame in tags


@dataclass(frozen=True)
class ID3Picture:
    """APIC, picture type 3 (front cover)."""

    def write(self, tags: id3.ID3, value: Path, data: TagData) -> None:
        mime, data = artwork.embeddable(value)
        tags.add(id3.APIC(encoding=_UTF8, mime=mime, type=id3.PictureType.COVER_FRONT, desc="", data=data))

    def read(self, tags: id3.ID3) -> dict | None:
        frame = next((f for f in tags.getall("APIC") if f.type == id3.PictureType.COVER_FRONT), None)
        return artwork.image_info(frame.data) if frame is not None else None


@dataclass(frozen=True)
class ID3Chapters:
    """CTOC (top level, ordered) plus one CHAP per chapter: ID3v2 Chapter Frame Addendum 1.0."""

    def write(self, tags: id3.ID3, value: tuple[ChapterMark, ...], data: TagData) -> None:
        ids = [f"chp{i}" for i in range(len(value))]
        tags.add(id3.CTOC(element_id="toc", flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                          child_element_ids=ids, sub_frames=[]))
        for element_id, mark in zip(ids, value):
            sub = [id3.TIT2(encoding=_UTF8, text=[mark.title])]
            if mark.url:
                sub.append(WXXX(encoding=_UTF8, desc="", url=mark.url))
            if mark.image is not None:
                mime, data = artwork.embeddable(mark.image)
                sub.append(id3.APIC(encoding=_UTF8, mime=mime, type=id3.PictureType.OTHER, desc="", data=data))
            # offsets 0xFFFFFFFF: chapters are located by time, not by byte position
            tags.add(id3.CHAP(element_id=element_id, start_time=mark.start_ms, end_time=mark.end_ms,
                              start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF, sub_frames=sub))

    def read(self, tags: id3.ID3) -> list[dict]:
        chaps = {f.element_id: f for f in tags.getall("CHAP")}
        toc = next((f for f in tags.getall("CTOC") if f.flags & id3.CTOCFlags.TOP_LEVEL), None)
        order = [chaps[i] for i in toc.child_element_ids if i in chaps] if toc else \
            sorted(chaps.values(), key=lambda f: f.start_time)
        result = []
        for frame in order:
            title = frame.sub_frames.get("TIT2")
            url = next(iter(frame.sub_frames.getall("WXXX")), None)
            image = next(iter(frame.sub_frames.getall("APIC")), None)
            result.append({"start": frame.start_time / 1000, "end": frame.end_time / 1000,
                           "title": str(title.text[0]) if title and title.text else None,
                           "url": url.url if url else None,
                           "image": artwork.image_info(image.data) if image else None})
        return result


def id3_or_none(path: Path) -> id3.ID3 | None:
    try:
        return id3.ID3(path, known_frames=_ID3_FRAMES)
    except id3.ID3NoHeaderError:
        return None


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def write_id3(path: Path, tmp: Path, rows: list[tuple[Any, Any]], data: TagData, version: int,
              progress: ffmpeg.Progress | None) -> None:
    """A fresh ID3 tag on a copy of `path` at `tmp`: every (style, value) row written, in frame order."""
    shutil.copyfile(path, tmp)

    def write() -> None:
        # a fresh tag, not the old one edited: frames are replaced, never duplicated, and the
        # result does not depend on what tagged the file before (ID3v1 and APEv2 go too)
        mutagen.apev2.delete(tmp)
        tags = OrderedID3()
        for how, value in rows:
            how.write(tags, value, data)
        if version == 3:
            tags.update_to_v23()
        else:
            _fit_chapters_for_libavformat(tags, path)
        tags.save(tmp, v2_version=version, v23_sep="/", v1=id3.ID3v1SaveOptions.REMOVE,
                  padding=lambda info: ID3_PADDING)

    mutagen_call("write ID3 tags", path, write)
    if progress:
        progress(1.0)


_SYNCSAFE_SAME = 128  # sizes below this read the same as syncsafe (v2.4) and plain (v2.3) integers


def _fit_chapters_for_libavformat(tags: id3.ID3, path: Path) -> None:
    """ID3v2.4 only: leave out chapter sub-frames that ffmpeg-based players would choke on.

    libavformat reads the sizes of frames inside CHAP as plain integers even in v2.4, where they
    are syncsafe; a sub-frame of 128 bytes or more (any image, a long link) makes it drop the whole
    chapter. ID3v2.3 has no such problem, which is one reason it is the default.
    """
    dropped = 0
    for chap in tags.getall("CHAP"):
        for key in list(chap.sub_frames):
            frame = chap.sub_frames[key]
            size = len(frame.data) + 64 if isinstance(frame, id3.APIC) else \
                len(str(frame.url if isinstance(frame, id3.WXXX) else frame).encode("utf-8")) + 8
            if size >= _SYNCSAFE_SAME and not isinstance(frame, id3.TIT2):
                del chap.sub_frames[key]
                dropped += 1
            elif size >= _SYNCSAFE_SAME:
                log.warning("%s: chapter %r has a title too long for ffmpeg-based players to read in "
                            "ID3v2.4; ID3v2.3 has no such limit", path, str(frame))
    if dropped:
        log.warning("%s: left out %d chapter image(s) or link(s) that ffmpeg-based players cannot read in "
                    "ID3v2.4; use ID3v2.3 (the default) to keep them", path, dropped)
