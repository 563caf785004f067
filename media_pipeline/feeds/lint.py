"""Apple Podcasts and Podcasting 2.0 rules on shows and episodes, checked before anything is published:
on the model alone (also enforced by feed.py) and on the workspace's files. Probing the recordings
is `recordings.py`'s job; `lint` asks it when `sources` is set.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from typing import Mapping
from urllib.parse import urlsplit

from media_pipeline.config.fields import text_problem
from media_pipeline.config.scaffold import placeholder_problem
from media_pipeline.errors import Problem
from media_pipeline.feeds.timed_text import description_problems, transcript_problems, warning
from media_pipeline.layout import SLUG_MAX
from media_pipeline.model import Catalog, Episode, Person, Show, Workspace
from media_pipeline.tags.artwork import check_artwork
from media_pipeline.text.notes import render_notes
from media_pipeline.util.fsutil import display_path

log = logging.getLogger(__name__)

# Apple Podcasts categories and subcategories (Apple Podcasts for Creators, "Apple Podcasts
# categories"); a feed with any other text is rejected by Apple's validation.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden",
                "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News",
             "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion",
                                "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences",
                "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby",
               "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

# Podcasting 2.0 medium values (each also has a list variant ending in "L", plus "mixed").
MEDIUMS = ("podcast", "music", "video", "film", "audiobook", "newsletter", "blog", "publisher", "course")
ALL_MEDIUMS = frozenset(MEDIUMS + tuple(m + "L" for m in MEDIUMS) + ("mixed",))

# Podcasting 2.0 person roles and groups: the podcast-taxonomy list (matched case-insensitively).
PERSON_GROUPS = frozenset({
    "creative direction", "cast", "writing", "audio production", "audio post-production", "administration",
    "visuals", "community", "misc.", "video production", "video post-production",
})
PERSON_ROLES = frozenset({
    "director", "assistant director", "executive producer", "senior producer", "producer", "associate producer",
    "development producer", "creative director", "host", "co-host", "guest host", "guest", "voice actor",
    "narrator", "announcer", "reporter", "author", "editorial director", "co-writer", "writer", "songwriter",
    "guest writer", "story editor", "managing editor", "script editor", "script coordinator", "researcher",
    "editor", "fact checker", "translator", "translater", "transcriber", "logger", "studio coordinator",
    "technical director", "technical manager", "audio engineer", "remote recording engineer",
    "post production engineer", "audio editor", "sound designer", "foley artist", "composer", "theme music",
    "music production", "music contributor", "production coordinator", "booking coordinator",
    "production assistant", "content manager", "marketing manager", "sales representative", "sales manager",
    "graphic designer", "cover art designer", "social media manager", "consultant", "intern", "camera operator",
    "lighting designer", "camera grip", "assistant camera", "assistant editor",
})

# Apple: show description at most 4000 bytes; episode description (show notes) 10,000 characters.
SHOW_DESCRIPTION_MAX_BYTES = 4000
EPISODE_NOTES_MAX_CHARS = 10_000
# Podcasting 2.0: text values of license, funding and person beyond 128 characters may be cut.
PODCAST_TEXT_MAX = 128

# The episode file's stem becomes the media file's name and part of its URL: keep it to characters
# every storage, CDN and podcast app handles without escaping.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_UNSAFE_NOTES = re.compile(r"<\s*script|javascript\s*:|\son[a-z]+\s*=", re.I)


def _text_problems(path: str, fields: Mapping[str, str | None]) -> list[Problem]:
    """The loader's text rule (control characters, lone surrogates) on the text a feed writes, as
    it stands in the model: the feed refuses what the loader would, however the model was made."""
    return [_error(path, name, reason) for name, value in fields.items()
            if value and (reason := text_problem(value, multiline=True))]


def _person_text(persons: tuple[Person, ...]) -> dict[str, str | None]:
    return {f"persons[{i}].{key}": getattr(p, key) for i, p in enumerate(persons) for key in ("name", "role", "group")}


def show_text(show: Show) -> dict[str, str | None]:
    """The show's text the feed and pages write, by field name."""
    return {"title": show.title, "description": show.description, "author": show.author,
            "subtitle": show.subtitle, "copyright": show.copyright, "owner.name": show.owner.name,
            "owner.email": show.owner.email, "license": show.license, "funding.text": show.funding_text,
            **_person_text(show.persons)}


def episode_text(episode: Episode) -> dict[str, str | None]:
    """The episode's text the feed, tags and pages write, by field name."""
    return {"title": episode.title, "summary": episode.summary, "notes": episode.notes, "guid": episode.guid,
            **{f"keywords[{i}]": k for i, k in enumerate(episode.keywords)},
            **{f"chapters[{i}].title": c.title for i, c in enumerate(episode.chapters)},
            **_person_text(episode.persons)}


def _error(path: str, field: str | None, reason: str) -> Problem:
    return Problem(path, field, reason, "error")



def url_reason(url: str | None) -> str | None:
    """Why `url` is not an absolute, percent-encoded http(s) URL that apps can fetch, or None."""
    if not url:
        return "is empty"
    if not url.isascii() or re.search(r"\s", url):
        return f"{url!r} has spaces or non-ASCII characters; percent-encode them"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} must be an absolute http:// or https:// URL"
    return None


def category_problem(name: str, subcategory: str | None) -> str | None:
    """Why a category is not on Apple's list, with the nearest valid spelling when there is one."""
    import difflib

    if name not in APPLE_CATEGORIES:
        lowered = {c.lower(): c for c in APPLE_CATEGORIES}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=1, cutoff=0.6)]
        close = close or [c for c in APPLE_CATEGORIES if name and c.lower().startswith(name.lower())]
        parents = [p for p, subs in APPLE_CATEGORIES.items() if name in subs]
        hint = (f"; it is a subcategory, write \"{parents[0]} > {name}\"" if parents
                else f"; did you mean {close[0]!r}?" if close else "")
        return f"{name!r} is not an Apple Podcasts category{hint}"
    if subcategory and subcategory not in APPLE_CATEGORIES[name]:
        subs = APPLE_CATEGORIES[name]
        choices = f"its subcategories are {', '.join(subs)}" if subs else "it has no subcategories"
        return f"{subcategory!r} is not a subcategory of {name!r} in Apple Podcasts ({choices})"
    return None


def show_problems(show: Show, *, path: str | None = None) -> list[Problem]:
    """Apple and Podcasting 2.0 rules on a show's own fields."""
    path = path or str(show.path)
    out: list[Problem] = _text_problems(path, show_text(show))
    if not show.title.strip():
        out.append(_error(path, "title", "is empty; Apple Podcasts requires a show title"))
    description = show.description.strip()
    if not description:
        out.append(_error(path, "description", "is empty; Apple Podcasts requires a show description"))
    size = len(show.description.encode("utf-8"))
    if size > SHOW_DESCRIPTION_MAX_BYTES:
        out.append(_error(path, "description", f"is {size} bytes; Apple Podcasts allows at most "
                                               f"{SHOW_DESCRIPTION_MAX_BYTES} bytes"))
    if not _LANGUAGE.match(show.language or ""):
        out.append(_error(path, "language", f"{show.language!r} is not a language code like fi or fi-FI"))
    if not show.author.strip():
        out.append(_error(path, "author", "is empty; Apple Podcasts shows it as the show's artist"))
    if not show.owner.name.strip():
        out.append(_error(path, "owner.name", "is empty; Apple Podcasts requires the owner's name"))
    if not show.owner.email.strip():
        out.append(_error(path, "owner.email", "is missing; Apple Podcasts requires the owner's email "
                                               "to verify the show"))
    elif not _EMAIL.match(show.owner.email):
        out.append(_error(path, "owner.email", f"{show.owner.email!r} is not an email address"))
    if not show.categories:
        out.append(_error(path, "categories", "is empty; Apple Podcasts requires at least one category"))
    for category in show.categories:
        if reason := category_problem(category.name, category.subcategory):
            out.append(_error(path, "categories", reason))
    if len({str(c) for c in show.categories}) != len(show.categories):
        out.append(warning(path, "categories", "lists the same category twice"))
    if show.link and (reason := url_reason(show.link)):
        out.append(_error(path, "link", reason))
    for key, url in (("apple_podcasts_url", show.apple_podcasts_url), ("spotify_url", show.spotify_url),
                     *(("directory_urls", u) for u in show.directory_urls)):
        if url and (reason := url_reason(url)):
            out.append(_error(path, key, reason))
    if show.show_type not in ("episodic", "serial"):
        out.append(_error(path, "type", f"must be episodic or serial, not {show.show_type!r}"))
    if show.medium not in ALL_MEDIUMS:
        out.append(_error(path, "medium", f"{show.medium!r} is not a Podcasting 2.0 medium "
                                          f"({', '.join(MEDIUMS)})"))
    if show.new_feed_url and (reason := url_reason(show.new_feed_url)):
        out.append(_error(path, "new_feed_url", reason))
    if show.podcast_guid and not _UUID.match(show.podcast_guid):
        out.append(_error(path, "podcast_guid", f"{show.podcast_guid!r} is not a UUID; keep the value the "
                                                "feed was first published with"))
    if show.license_url and not show.license:
        out.append(_error(path, "license", "is missing; license_url needs the license's name "
                                           "(Podcasting 2.0 license)"))
    if show.license_url and (reason := url_reason(show.license_url)):
        out.append(_error(path, "license_url", reason))
    if show.license and len(show.license) > PODCAST_TEXT_MAX:
        out.append(warning(path, "license", f"is longer than {PODCAST_TEXT_MAX} characters; apps may cut it"))
    if show.funding_url and (reason := url_reason(show.funding_url)):
        out.append(_error(path, "funding.url", reason))
    if show.funding_text and not show.funding_url:
        out.append(_error(path, "funding.url", "is missing; funding.text needs the address it links to"))
    if show.funding_url and not show.funding_text:
        out.append(warning(path, "funding.text", "is missing; apps show the show's title as the link text"))
    if show.funding_text and len(show.funding_text) > PODCAST_TEXT_MAX:
        out.append(warning(path, "funding.text", f"is longer than {PODCAST_TEXT_MAX} characters; apps may cut it"))
    out.extend(_person_problems(show.persons, path))
    return out


def episode_problems(show: Show, episode: Episode, *, path: str | None = None) -> list[Problem]:
    """Apple and Podcasting 2.0 rules on one episode's own fields."""
    path = path or str(episode.path)
    out: list[Problem] = _text_problems(path, episode_text(episode))
    if not episode.title.strip():
        out.append(_error(path, "title", "is empty; Apple Podcasts requires an episode title"))
    # Apple: itunes:episode and itunes:season are non-zero integers.
    if episode.number is not None and episode.number < 1:
        out.append(_error(path, "number", f"must be 1 or more, not {episode.number}"))
    if episode.season is not None and episode.season < 1:
        out.append(_error(path, "season", f"must be 1 or more, not {episode.season}"))
    if show.show_type == "serial" and episode.number is None and episode.episode_type == "full":
        out.append(_error(path, "number", "is missing; Apple Podcasts orders a serial show by episode number"))
    if episode.episode_type not in ("full", "trailer", "bonus"):
        out.append(_error(path, "episode_type", f"must be full, trailer or bonus, not {episode.episode_type!r}"))
    if len(episode.notes) > EPISODE_NOTES_MAX_CHARS:
        out.append(_error(path, "notes", f"are {len(episode.notes)} characters; Apple Podcasts allows at most "
                                         f"{EPISODE_NOTES_MAX_CHARS}"))
    if placeholder := placeholder_problem(episode.title, episode.notes):
        out.append(_error(path, *placeholder))
    if _UNSAFE_NOTES.search(episode.notes):
        out.append(warning(path, "notes", "contain a script, an event handler or a javascript: link; "
                                           "they are removed from the feed"))
    out.extend(_person_problems(episode.persons, path))
    if episode.persons and not any(p.role in ("host", "co-host", "guest host") for p in episode.persons):
        # Podcasting 2.0: persons on an episode replace the show's, so the host would disappear.
        out.append(warning(path, "persons", "lists no host; apps show only these persons for the episode, "
                                             "so list the host too"))
    for i, chapter in enumerate(episode.chapters):
        if chapter.url and (reason := url_reason(chapter.url)):
            out.append(_error(path, f"chapters[{i}].url", reason))
    return out


def _person_problems(persons: tuple[Person, ...], path: str) -> list[Problem]:
    out: list[Problem] = []
    for i, person in enumerate(persons):
        where = f"persons[{i}]"
        if len(person.name) > PODCAST_TEXT_MAX:
            out.append(warning(path, f"{where}.name",
                                f"is longer than {PODCAST_TEXT_MAX} characters; apps may cut it"))
        if person.role.lower() not in PERSON_ROLES:
            out.append(warning(path, f"{where}.role", f"{person.role!r} is not a role of the podcast taxonomy "
                                                       "(host, co-host, guest, producer, ...)"))
        if person.group.lower() not in PERSON_GROUPS:
            out.append(warning(path, f"{where}.group", f"{person.group!r} is not a group of the podcast taxonomy "
                                                        "(cast, writing, audio production, ...)"))
        for key in ("href", "img"):
            value = getattr(person, key)
            if value and (reason := url_reason(value)):
                out.append(_error(path, f"{where}.{key}", reason))
    return out


# -- the workspace: files and rules across episodes ------------------------------------------------


def lint(ws: Workspace, catalog: Catalog, *, durations: Mapping[str, float] | None = None,
         publishing: bool = False, sources: bool = True) -> list[Problem]:
    """Every rule on every show and episode of `catalog`, errors and warnings.

    `durations` maps an episode's key (show/slug) to its published length in seconds when known
    (after processing); transcript and chapter times are then checked against it. Otherwise, with
    `sources`, each episode's recording is probed (readable, a usable format, its duration, damage)
    and the times are checked against the recording's length. With `publishing`, artwork
    problems that publishing fixes itself (too large, CMYK, transparency) are left out, and the
    recording is not decoded in full: publishing's analysis pass finds damage anyway.
    """
    durations = dict(durations or {})
    out: list[Problem] = []
    if sources:  # the recordings' half (probing them), kept apart from these rules on the model
        from media_pipeline.feeds.recordings import recording_problems

        found, lengths = recording_problems(ws, catalog, scan=not publishing, known=durations)
        out.extend(found)
        durations.update(lengths)
    for slug, show in catalog.shows.items():
        show_path = display_path(ws, show.path)
        out.extend(show_problems(show, path=show_path))
        if not SAFE_NAME.match(slug):
            out.append(_error(show_path, "file name", f"{slug!r} becomes part of every URL of the show; "
                                                      "use only ASCII letters, digits, '-', '_' and '.'"))
        out.extend(check_artwork(show.artwork, display_path(ws, show.artwork), publishing=publishing))
        if not publishing:  # publishing recognises no speech; check and transcribe refuse the model
            from media_pipeline.transcripts.asr import language_problem

            if reason := language_problem(show.transcript_settings, show.language):
                out.append(_error(show_path, "transcripts.model", reason))
        episodes = catalog.episodes.get(slug, ())
        for episode in episodes:
            out.extend(episode_file_problems(ws, show, episode, durations.get(episode.key), publishing,
                                             scan=sources and not publishing))
        out.extend(_duplicates(ws, episodes))
    return out


def episode_file_problems(ws: Workspace, show: Show, episode: Episode, duration: float | None,
                           publishing: bool = False, *, scan: bool = False) -> list[Problem]:
    path = display_path(ws, episode.path)
    out = episode_problems(show, episode, path=path)
    if episode.notes.strip() and not render_notes(episode.notes).text:
        out.append(warning(path, "notes", "have no text left once unsafe HTML is removed"))
    if len(episode.slug) > SLUG_MAX:
        out.append(_error(path, "file name", f"is {len(episode.slug)} characters; at most {SLUG_MAX} (it names the "
                                             "episode's files and URLs, and a file name holds 255 bytes)"))
    elif not SAFE_NAME.match(episode.slug):
        out.append(_error(path, "file name", f"{episode.slug!r} becomes the media file's name and URL; "
                                             "use only ASCII letters, digits, '-', '_' and '.' (no spaces or ä, ö)"))
    out.extend(transcript_problems(ws, show, episode, duration, path))
    out.extend(description_problems(ws, show, episode, duration, path, scan=scan))
    if duration is not None:
        for i, chapter in enumerate(episode.chapters):
            if chapter.start >= duration:
                out.append(_error(path, f"chapters[{i}].start", f"{chapter.start:g} s is at or after the end of "
                                                                f"the episode ({duration:g} s)"))
            elif chapter.end is not None and chapter.end > duration + 0.5:
                out.append(_error(path, f"chapters[{i}].end", f"{chapter.end:g} s is after the end of "
                                                              f"the episode ({duration:g} s)"))
    if episode.artwork is not None:
        out.extend(check_artwork(episode.artwork, display_path(ws, episode.artwork), publishing=publishing))
    return out


def _duplicates(ws: Workspace, episodes: tuple[Episode, ...]) -> list[Problem]:
    out: list[Problem] = []
    by_guid: dict[str, list[Episode]] = defaultdict(list)
    by_number: dict[tuple[int | None, int], list[Episode]] = defaultdict(list)
    for episode in episodes:
        if episode.guid:
            by_guid[episode.guid].append(episode)
        # Apple: episode numbers identify full episodes within a season; trailers and bonus
        # episodes may share a number with the episode they belong to.
        if episode.number is not None and episode.episode_type == "full":
            by_number[(episode.season, episode.number)].append(episode)
    for guid, same in by_guid.items():
        for episode in same[1:]:
            first = display_path(ws, same[0].path)
            out.append(Problem(display_path(ws, episode.path), "guid",
                               f"{guid!r} is also the guid of {first}; guids must be unique", see=first))
    for (season, number), same in by_number.items():
        for episode in same[1:]:
            where = f"season {season}" if season is not None else "the show"
            first = display_path(ws, same[0].path)
            out.append(Problem(display_path(ws, episode.path), "number",
                               f"{number} is also the number of {first} in {where}", see=first))
    return out
