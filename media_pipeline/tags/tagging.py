"""Tags inside published media: ID3v2 for MP3, iTunes atoms for MP4/M4A, chapters in both.

One table (FIELDS) says which ID3 frame and which MP4 atom carries each logical field; the two
formats differ only in their small style classes, never in per-format branches per field.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import mutagen
import mutagen.apev2
from mutagen import id3
from mutagen.id3._specs import EncodedTextSpec, EncodingSpec, Latin1TextSpec  # specs have no public home
from mutagen.id3._tags import save_frame
from mutagen.mp4 import MP4, MP4Cover

from media_pipeline.audio import ffmpeg
from media_pipeline.errors import MediaError
from media_pipeline.model import Episode, Show
from media_pipeline.tags import artwork, chapters
from media_pipeline.tags.chapters import ChapterMark
from media_pipeline.text.notes import render_notes
from media_pipeline.util.fsutil import replacing

log = logging.getLogger(__name__)

ID3_PADDING = 1024  # fixed, so the same input always gives the same bytes (storage compares checksums)
MP4_SUFFIXES = (".mp4", ".m4a", ".m4v", ".m4b")


@dataclass(frozen=True)
class TagData:
    """Every logical field written into an episode's media files, already in its final form."""

    title: str
    artist: str
    album: str
    album_artist: str
    date: str  # YYYY-MM-DD, the publish date in the episode's own time zone
    length_ms: int
    guid: str
    feed_url: str
    genre: str = "Podcast"
    podcast: bool = True
    track: int | None = None
    season: int | None = None
    summary: str | None = None  # plain text, short
    description: str | None = None  # plain text of the show notes
    language: str | None = None  # BCP 47 as in the show file ("fi"); styles convert as needed
    copyright: str | None = None
    license_url: str | None = None
    episode_url: str | None = None
    keywords: str | None = None
    cover: Path | None = None
    chapters: tuple[ChapterMark, ...] = ()


def tag_data(show: Show, episode: Episode, *, guid: str, feed_url: str, episode_url: str | None,
             duration: float, cover: Path | None) -> TagData:
    """Gather what the files say about `episode` from the show and the episode files."""
    hosts = [p.name for p in episode.persons if p.role == "host"] or \
            [p.name for p in show.persons if p.role == "host"]
    description = plain_text(episode.notes) or None
    summary = plain_text(episode.summary) if episode.summary else _first_paragraph(description)
    return TagData(
        title=episode.title,
        artist=", ".join(hosts) or show.author,
        album=show.title,
        album_artist=show.author,
        date=episode.publish_at.date().isoformat(),
        length_ms=round(duration * 1000),
        guid=guid,
        feed_url=feed_url,
        track=episode.number,
        season=episode.season,
        summary=summary or None,
        description=description or summary or None,
        language=show.language,
        copyright="; ".join(x for x in (show.copyright, show.license) if x) or None,
        license_url=show.license_url,
        episode_url=episode_url,
        keywords=", ".join(episode.keywords or show.keywords) or None,
        cover=cover,
        chapters=chapters.marks(episode.chapters, duration, source=episode.path),
    )


# --- ID3 styles: how one logical value becomes one or more frames, and back ------------------

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


# --- MP4 styles: iTunes atoms through mutagen; chapters through an ffmpeg stream-copy remux ---

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
        writer(path, tmp, data, id3_version, progress)
    log.info("tagged %s", path)


def mutagen_call(what: str, path: Path, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into mutagen: any error it raises becomes one MediaError line, "cannot WHAT: reason",
    naming the file (`path`), the one place mutagen's errors are translated."""
    try:
        return func(*args, **kwargs)
    except mutagen.MutagenError as exc:
        raise MediaError(f"cannot {what}: {exc}", path=path) from exc


def _id3_or_none(path: Path) -> id3.ID3 | None:
    try:
        return id3.ID3(path, known_frames=_ID3_FRAMES)
    except id3.ID3NoHeaderError:
        return None


def read_tags(path: Path) -> dict:
    """What the file's tags say, by logical field, plus chapters and cover (for `tags FILE`)."""
    path = Path(path)
    if path.suffix.lower() == ".mp3":
        tags = mutagen_call("read tags", path, _id3_or_none, path)
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
        source, style, kind = MP4View(f.tags, _mp4_chapters(f)), "mp4", "MP4"
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


def plain_text(markdown: str | None) -> str:
    """Show notes as plain text for tag frames, rendered the way the feed's description is."""
    return render_notes(markdown).text if markdown else ""


def _first_paragraph(text: str | None) -> str | None:
    return text.split("\n\n", 1)[0] if text else None


# ISO 639-1 -> ISO 639-2 for ID3's TLAN and COMM language (three letters), for the languages our
# listeners' shows use; anything else passes through when it is already three letters, else "und".
_ISO639_2 = {
    "fi": "fin", "sv": "swe", "en": "eng", "se": "sme", "et": "est", "ru": "rus", "de": "deu",
    "fr": "fra", "es": "spa", "it": "ita", "nl": "nld", "da": "dan", "no": "nor", "nb": "nob",
    "nn": "nno", "is": "isl", "pl": "pol", "pt": "por", "uk": "ukr", "ar": "ara", "so": "som",
    "fa": "fas", "tr": "tur", "zh": "zho", "ja": "jpn", "ko": "kor", "hu": "hun", "lv": "lav",
    "lt": "lit", "el": "ell",
}


def iso639_2(language: str | None) -> str:
    primary = (language or "").split("-")[0].split("_")[0].lower()
    if primary in _ISO639_2:
        return _ISO639_2[primary]
    return primary if re.fullmatch(r"[a-z]{3}", primary) else "und"


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _values(data: TagData, style: str) -> list[tuple[Any, Any]]:
    """(style, value) for every table row this format has a place for and the data fills."""
    rows = []
    for field in FIELDS:
        how = getattr(field, style)
        value = getattr(data, field.name)
        if how is not None and value not in (None, "", ()):
            rows.append((how, value))
    return rows


def _write_id3(path: Path, tmp: Path, data: TagData, version: int, progress: ffmpeg.Progress | None) -> None:
    shutil.copyfile(path, tmp)

    def write() -> None:
        # a fresh tag, not the old one edited: frames are replaced, never duplicated, and the
        # result does not depend on what tagged the file before (ID3v1 and APEv2 go too)
        mutagen.apev2.delete(tmp)
        tags = OrderedID3()
        for how, value in _values(data, "id3"):
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


def _write_mp4(path: Path, tmp: Path, data: TagData, version: int, progress: ffmpeg.Progress | None) -> None:
    target = MP4Target()
    for how, value in _values(data, "mp4"):
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


def _mp4_chapters(f: MP4) -> list[dict]:
    found = list(f.chapters or [])
    length = f.info.length
    result = []
    for i, chapter in enumerate(found):
        end = found[i + 1].start if i + 1 < len(found) else length
        result.append({"start": round(chapter.start, 3), "end": round(end, 3), "title": chapter.title,
                       "url": None, "image": None})
    return result


def _writer_for(path: Path) -> Callable[..., None]:
    suffix = path.suffix.lower()
    if suffix == ".mp3":
        return _write_id3
    if suffix in MP4_SUFFIXES:
        return _write_mp4
    raise MediaError(f"cannot tag {suffix or 'files without a suffix'}; supported: .mp3, "
                     + ", ".join(MP4_SUFFIXES), path=path)
