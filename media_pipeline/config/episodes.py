"""Reading an episode file, `episodes/<show>/<episode>.md` (YAML front matter, then the show
notes), into an `Episode`, with its chapters and transcripts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from media_pipeline.config.declare import WEB_URL, Table, read
from media_pipeline.config.fields import MISSING, Fields, text_problem, type_name
from media_pipeline.config.frontmatter import load_front_matter, split_front_matter
from media_pipeline.config.keys import (ALTERNATES, CHAPTERS, DESCRIPTIONS, EPISODE, LOCATION, SOUNDBITES,
                                        TEXT_TRANSCRIPT, TRANSCRIPT)
from media_pipeline.config.shows import person
from media_pipeline.errors import Problem, ValidationError
from media_pipeline.model import (AlternateEnclosure, Chapter, DescriptionFile, Episode, Location, Soundbite,
                                  TranscriptFile, Workspace)
from media_pipeline.util.fsutil import display_path

TRANSCRIPT_SUFFIXES = (".vtt", ".srt")
TEXT_TRANSCRIPT_SUFFIXES = (".html", ".htm", ".txt")
# Podcasting 2.0 location: a geo URI (RFC 5870) and an OpenStreetMap type letter with its id
_GEO = re.compile(r"^geo:-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?(,-?\d+(\.\d+)?)?(;[a-z0-9-]+=[^;]+)*$", re.I)
_OSM = re.compile(r"^[NWR]\d+(#\d+)?$")

def episode_paths(ws: Workspace, show: str) -> list[Path]:
    return episode_files(ws.episodes_dir / show)


def episode_files(folder: Path) -> list[Path]:
    """The episode files in a show's folder: its `*.md` files, but no hidden one. A name starting
    with a dot is another program's (macOS's `._001.md` beside a copied file) or a write this
    pipeline had not finished when it was killed (`.001.<random>.part.md`, see `util.fsutil`):
    never an episode, and read as one it would stop the whole show."""
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith("."))


def load_episode(ws: Workspace, show: str, path: Path, problems: list[Problem] | None = None) -> Episode | None:
    """Load one episode file. With `problems` given, findings are appended and None may return."""
    collect = problems is not None
    problems = [] if problems is None else problems
    start = len(problems)
    rel = display_path(ws, path)
    episode = _read_episode(ws, show, path, rel, problems)
    if len(problems) > start:
        if not collect:
            raise ValidationError(problems[start:])
        if any(p.severity == "error" for p in problems[start:]):
            return None
    return episode


def _read_episode(ws: Workspace, show: str, path: Path, rel: str, problems: list[Problem]) -> Episode | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, None, f"cannot read as UTF-8 text: {exc}"))
        return None
    parts = split_front_matter(text)
    if parts is None:
        problems.append(Problem(rel, None, "has no YAML front matter (a block between --- lines at the top)"))
        return None
    try:
        data = load_front_matter(parts[0]) or {}
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, None, f"front matter is not valid YAML: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(rel, None, f"front matter must be keys and values, not {type_name(data)}"))
        return None
    f = Fields(data, rel, problems)
    notes = parts[1].strip()
    if reason := text_problem(notes, multiline=True):  # the length is lint's (Apple's 10,000)
        f.error("notes", reason)
        notes = ""
    values = read(f, EPISODE, ws.root, ZoneInfo(ws.timezone))
    episode = Episode(
        show=show,
        slug=path.stem,
        path=path,
        notes=notes,
        **values | {"source": values["source"] or Path(),
                    "publish_at": values["publish_at"] or dt.datetime.min.replace(tzinfo=dt.timezone.utc)},
        persons=f.table_list("persons", person),
        chapters=f.table_list("chapters", lambda c: _chapter(c, ws)),
        transcripts=_transcripts(f, ws),
        descriptions=_descriptions(f, ws),
        soundbites=f.table_list("soundbites", _soundbite),
        location=_location(f),
        alternates=f.table_list("alternates", _alternate),
        text_transcripts=_transcripts(f, ws, "text_transcript", TEXT_TRANSCRIPT),
    )
    f.finish()
    episode = replace(episode, transcript=episode.transcripts[0].path if episode.transcripts else None)
    languages = [t.language for t in episode.transcripts]
    for i, t in enumerate(episode.transcripts):
        where = "transcript" if f.data.get("transcript") and isinstance(f.data["transcript"], str) \
            else f"transcript[{i}]"
        if t.path.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            f.error(where, "must be a WebVTT (.vtt) or SubRip (.srt) file")
        if t.language in languages[:i]:
            f.error(where, f"a second transcript in {t.language or 'the show language'}; "
                           "give each its own language")
    languages = [d.language for d in episode.descriptions]
    for i, d in enumerate(episode.descriptions):
        where = "descriptions" if isinstance(f.data.get("descriptions"), str) else f"descriptions[{i}]"
        if d.path.suffix.lower() != ".vtt":
            f.error(where, "must be a WebVTT (.vtt) file, each cue one description")
        if d.language in languages[:i]:
            f.error(where, f"a second description file in {d.language or 'the show language'}; "
                           "give each its own language")
        if d.clips is not None and d.clips.exists() and not d.clips.is_dir():
            f.error(f"{where}.clips", f"{display_path(ws, d.clips)} is not a folder")
    for i, t in enumerate(episode.text_transcripts):
        where = "text_transcript" if isinstance(f.data.get("text_transcript"), str) else f"text_transcript[{i}]"
        if t.path.suffix.lower() not in TEXT_TRANSCRIPT_SUFFIXES:
            f.error(where, "must be an HTML (.html) or plain text (.txt) file; timed ones go in `transcript`")
        if t.language in [u.language for u in episode.text_transcripts[:i]]:
            f.error(where, f"a second untimed transcript in {t.language or 'the show language'}; "
                           "give each its own language")
    starts = [c.start for c in episode.chapters]
    if starts != sorted(starts):
        f.error("chapters", "must be in order of start time")
    if starts and starts[0] != 0:
        f.error("chapters", "the first chapter must start at 00:00:00 (players and the JSON chapters spec expect it)")
    return episode


def _transcripts(f: Fields, ws: Workspace, key: str = "transcript",
                 table: Table = TRANSCRIPT) -> tuple[TranscriptFile, ...]:
    """`transcript` (or `text_transcript`): one file (in the show's language), or a table or list
    of tables with `file`, `language` (and, for timed ones, `draft`: a machine transcript that
    `transcribe` wrote)."""
    value = f.raw(key)
    if value is MISSING or isinstance(value, str):
        path = f.path_value(key, ws.root)
        return (TranscriptFile(path),) if path else ()
    if isinstance(value, dict):
        one = Fields(value, f.path, f.problems, f"{key}.")
        item = _transcript_file(one, ws, table)
        one.finish()
        return (item,) if item else ()
    return f.table_list(key, lambda t: _transcript_file(t, ws, table))


def _transcript_file(f: Fields, ws: Workspace, table: Table = TRANSCRIPT) -> TranscriptFile | None:
    values = read(f, table, ws.root)
    language = values["language"]
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", language):
        f.error("language", f"must be a language code like fi, sv or en-GB, not {language!r}")
    return TranscriptFile(values.pop("file"), **values) if values["file"] else None


def _descriptions(f: Fields, ws: Workspace) -> tuple[DescriptionFile, ...]:
    """`descriptions`: one WebVTT file (in the show's language), or a table or list of tables with
    `file`, `language` and `clips`, as `transcript` is read."""
    value = f.raw("descriptions")
    if value is MISSING or isinstance(value, str):
        path = f.path_value("descriptions", ws.root)
        return (DescriptionFile(path),) if path else ()
    if isinstance(value, dict):
        one = Fields(value, f.path, f.problems, "descriptions.")
        item = _description_file(one, ws)
        one.finish()
        return (item,) if item else ()
    return f.table_list("descriptions", lambda t: _description_file(t, ws))


def _description_file(f: Fields, ws: Workspace) -> DescriptionFile | None:
    values = read(f, DESCRIPTIONS, ws.root)
    language = values["language"]
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", language):
        f.error("language", f"must be a language code like fi, sv or en-GB, not {language!r}")
    return DescriptionFile(values.pop("file"), **values) if values["file"] else None
def _soundbite(f: Fields) -> Soundbite | None:
    values = read(f, SOUNDBITES)
    if values["start"] is None or values["duration"] is None:
        return None
    if values["duration"] <= 0:
        f.error("duration", "must be more than 0 seconds")
        return None
    return Soundbite(**values)


def _location(f: Fields) -> Location | None:
    value = f.raw("location")
    if value is MISSING:
        return None
    one = Fields(value, f.path, f.problems, "location.")
    values = read(one, LOCATION)
    one.finish()
    if values["geo"] and not _GEO.match(values["geo"]):
        one.error("geo", f"must be a geo URI like geo:60.1699,24.9384, not {values['geo']!r}")
        values["geo"] = None
    if values["osm"] and not _OSM.match(values["osm"]):
        one.error("osm", f"must be N, W or R and the OpenStreetMap id, like R34914, not {values['osm']!r}")
        values["osm"] = None
    return Location(**values) if values["name"] else None


def _alternate(f: Fields) -> AlternateEnclosure | None:
    values = read(f, ALTERNATES)
    if values["url"] and not WEB_URL.match(values["url"]):
        f.error("url", "must be an http(s) URL that apps can download")
        return None
    if values["mime_type"] and not re.match(r"^(audio|video)/[a-z0-9.+-]+$", values["mime_type"]):
        f.error("type", f"must be audio/... or video/..., not {values['mime_type']!r}")
        return None
    if values["bitrate"] is not None and values["bitrate"] <= 0:
        f.error("bitrate", "must be more than 0 bits per second")
        values["bitrate"] = None
    return AlternateEnclosure(**values) if values["url"] and values["mime_type"] else None


def _chapter(f: Fields, ws: Workspace) -> Chapter | None:
    values = read(f, CHAPTERS, ws.root)
    start, end, title = values["start"], values["end"], values["title"]
    chapter = Chapter(**values | {"start": start if start is not None else 0.0, "title": title or ""})
    if start is None or not title:
        return None
    if end is not None and end <= start:
        f.error("end", "must be after start")
    return chapter

