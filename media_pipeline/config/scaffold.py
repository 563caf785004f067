"""New episode files: the next file name of a show and a front matter with every key explained.

What `media-pipeline new` writes; the producer fills in the title and the source and publishes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from media_pipeline.config.frontmatter import FrontMatterLoader, split_front_matter
from media_pipeline.config.load import episode_paths, load_show, show_slugs
from media_pipeline.config.times import localize
from media_pipeline.errors import ConfigError, Problem, os_reason
from media_pipeline.layout import SLUG_MAX, episode_file
from media_pipeline.model import Person, Workspace
from media_pipeline.util.fsutil import atomic_write, display_path

log = logging.getLogger(__name__)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def next_episode(ws: Workspace, show: str) -> tuple[str, int, int | None]:
    """(slug, number, season) for the show's next episode.

    The number follows the highest found in the file names and front matter; the slug is that
    number zero-padded as wide as the siblings' numeric names (three digits for a new show).
    The season is the latest episode's.
    """
    numbers: list[int] = []
    widths: list[int] = []
    season: int | None = None
    latest = -1
    for path in episode_paths(ws, show):
        if path.stem.isdigit():
            numbers.append(int(path.stem))
            widths.append(len(path.stem))
        data = _front_matter(path)
        number = data.get("number")
        if isinstance(number, int) and not isinstance(number, bool):
            numbers.append(number)
            if number > latest and isinstance(data.get("season"), int):
                latest, season = number, data["season"]
    number = max(numbers, default=0) + 1
    width = max(widths, default=3)
    return f"{number:0{width}d}", number, season


def _front_matter(path: Path) -> dict:
    parts = split_front_matter(path.read_text(encoding="utf-8"))
    try:
        data = yaml.load(parts[0], Loader=FrontMatterLoader) if parts else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def new_episode(ws: Workspace, show: str, *, title: str | None = None, slug: str | None = None,
                now: dt.datetime | None = None) -> Path:
    """Write `episodes/<show>/<slug>.md` and return its path; never overwrites an existing file."""
    if show not in show_slugs(ws):
        known = ", ".join(show_slugs(ws)) or "none"
        raise ConfigError(f"no such show (known shows: {known})", path=f"feeds/{show}.toml")
    next_slug, number, season = next_episode(ws, show)
    slug = slug or next_slug
    target = episode_file(ws, show, slug)
    rel = display_path(ws, target)
    if len(slug) > SLUG_MAX:  # before any file call: the name itself is too long for one
        raise ConfigError(f"is {len(slug)} characters; at most {SLUG_MAX} (it names the episode's files and URLs, "
                          "and a file name holds 255 bytes)", path=rel, field="slug")
    if not _SLUG.match(slug):
        raise ConfigError("the slug names the episode's files and URLs: use a-z, 0-9, - and _ only",
                          path=rel, field="slug")
    if target.exists():
        raise ConfigError("already exists; edit it, or choose another name with --slug", path=rel)
    problems: list[Problem] = []
    try:
        loaded = load_show(ws, show, problems)
        hosts, language = [p for p in loaded.persons if p.role == "host"], loaded.language
    except ConfigError:
        hosts, language = [], ""  # a broken show file is `check`'s business; scaffold anyway
    zone = ZoneInfo(ws.timezone)
    today = (now or dt.datetime.now(zone)).astimezone(zone).date()
    publish_at = localize(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9, 0)), zone)
    text = render_episode(show=show, slug=slug, number=number, season=season, title=title or "",
                          publish_at=publish_at, hosts=hosts, language=language)
    _create(target, text)
    log.info("%s: new episode %d", rel, number)
    return target


def _create(target: Path, text: str) -> None:
    """Write beside the target, then link into place: no half file, and no overwrite even in a race."""
    try:
        atomic_write(target, text.encode("utf-8"), exclusive=True)
    except FileExistsError:
        raise ConfigError("already exists; edit it, or choose another name with --slug", path=str(target)) from None
    except OSError as exc:  # a full disk, a folder not writable
        raise ConfigError(f"cannot write the new episode file: {os_reason(exc)}", path=str(target)) from None


def _q(text: str) -> str:
    """A YAML scalar: JSON strings are valid YAML and quote whatever the text holds."""
    return json.dumps(text, ensure_ascii=False)


def render_episode(*, show: str, slug: str, number: int, season: int | None, title: str,
                   publish_at: dt.datetime, hosts: list[Person], language: str = "") -> str:
    """The text of a new episode file: required keys to fill, optional keys commented out."""
    season_line = (f"season: {season}" if season is not None else "# season: 1")
    persons = hosts or [Person(name="Host Name")]
    person_lines = "".join(
        f"#   - name: {_q(p.name)}\n#     role: host\n#     group: cast\n" for p in persons
    )
    notes = _NOTES_FI if language.lower().startswith("fi") else _NOTES_EN
    return f"""---
# Required: fill in the title and the source, check the publish time; replace the notes below.
title: {_q(title)}
source: ""  # the recording, a path in the workspace, e.g. media/{show}/{slug}.wav (WAV, FLAC, MP3, MP4...)
publish_at: {publish_at.isoformat()}  # with an offset; without one it is read in the workspace time zone
# order: 1  # only among episodes of the same publish_at: the higher is listed as the newer

# Optional, set from the show's other episodes; Apple shows number and season.
number: {number}  # the episode number, a whole number
{season_line}  # the season, a whole number; leave out for a show without seasons
episode_type: full  # full, trailer or bonus (Apple: itunes:episodeType)

# Optional: remove the leading # to use a key.
# explicit: false  # true or false; leave out to use the show's setting
# summary: >-  # plain text for podcast apps' episode lists; the notes below are the long form
#   One or two sentences about the episode.
# persons:  # who is heard (Podcasting 2.0 podcast:person); role and group from the podcast-taxonomy
{person_lines}#   - name: "Guest Name"
#     role: guest
#     group: cast
#     href: https://example.org/guest  # optional: a page about the person
#     img: https://example.org/guest.jpg  # optional: a picture of the person
# chapters:  # the first starts at 00:00:00; times within the recording
#   - start: "00:00:00"
#     title: "Introduction"
#   - start: "00:05:30"
#     end: "00:21:00"  # optional: by default a chapter ends where the next one starts
#     title: "The first topic"
#     url: https://example.org/  # optional: a link shown with the chapter
#     image: artwork/chapter.jpg  # optional: a picture shown with the chapter, a path in the workspace
# soundbites:  # moments apps may play as a preview (Podcasting 2.0 podcast:soundbite), 15 to 120 s
#   - start: "00:03:10"
#     duration: 45  # seconds, or a time like "00:00:45"
#     title: "The turning point"  # optional: else apps show the episode's title
# transcript: transcripts/{show}/{slug}.vtt  # WebVTT (.vtt) or SubRip (.srt), a path in the workspace
# descriptions: transcripts/{show}/{slug}.kuvailu.vtt  # audio description of a video (WCAG 1.2.5), WebVTT
# slides_described_aloud: true  # the speakers say what their slides show; no description needed
# text_transcript: transcripts/{show}/{slug}.html  # a transcript without timing (.html or .txt), published as it is
# location:  # the place the episode is about (podcast:location)
#   name: "Helsinki"
#   geo: "geo:60.1699,24.9384"  # optional: a geo URI
#   osm: "R34914"  # optional: the OpenStreetMap object
# alternates:  # files of the episode kept elsewhere, offered as podcast:alternateEnclosure
#   - url: https://cdn.example.org/{slug}.opus
#     type: audio/opus
#     length: 12345678  # optional: its size in bytes
#     title: "Opus"  # optional: at most 32 characters
#     bitrate: 64000  # optional: bits per second
# artwork: artwork/{show}-{slug}.jpg  # episode cover, square JPEG or PNG, 1400 to 3000 px
# poster: artwork/{show}-{slug}-poster.jpg  # a video's own poster, any image, fitted into 16:9; else a frame of the video
# keywords: [keyword, another keyword]  # a list of text
# accept_damaged_source: true  # publish a recording that decodes only in part (check says where); listen first
# guid: publish assigns it at the first publish and writes it here; never change it afterwards
---
{PLACEHOLDER_MARK}

{notes}"""


# The first line of the notes `new` writes: what `check` and `publish` recognise as example text
# nobody has replaced yet (the sentences below are recognised too, should the line be deleted alone).
PLACEHOLDER_MARK = "<!-- media-pipeline new: example notes; replace them, then delete this line -->"


def placeholder_problem(title: str, notes: str) -> tuple[str, str] | None:
    """(field, reason) when the title or notes still hold the example text of `new`, else None."""
    if PLACEHOLDER_MARK in notes or any(_first_line(n) in notes for n in (_NOTES_FI, _NOTES_EN)):
        return "notes", "still hold the example text that `media-pipeline new` wrote; write the episode's notes"
    if title.strip() in _PLACEHOLDER_TITLES:
        return "title", f"{title.strip()!r} is the example title; write the episode's title"
    return None


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].strip()


_PLACEHOLDER_TITLES = frozenset({"Episode title", "Jakson otsikko"})

_NOTES_FI = """Kirjoita tähän jakson esittely: mistä jaksossa puhutaan ja kenen kanssa.

## Jakson vieras

**Vieraan nimi** on ...

## Jaksossa puhutaan

- ensimmäinen aihe
- toinen aihe

## Lue lisää

- [Linkin teksti](https://example.fi/)
"""

_NOTES_EN = """Write the show notes here: what the episode is about, and who is in it.

## Guest

**Guest Name** is ...

## In this episode

- the first topic
- the second topic

## Read more

- [Link text](https://example.org/)
"""
