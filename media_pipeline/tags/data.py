"""What an episode's media files say about it: the logical tag fields in their final form, gathered
from the show and episode files, and the one place mutagen's errors are translated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import mutagen

from media_pipeline.errors import MediaError
from media_pipeline.model import Episode, Show
from media_pipeline.tags import chapters
from media_pipeline.tags.chapters import ChapterMark
from media_pipeline.text.notes import render_notes


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


def mutagen_call(what: str, path: Path, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into mutagen: any error it raises becomes one MediaError line, "cannot WHAT: reason",
    naming the file (`path`), the one place mutagen's errors are translated."""
    try:
        return func(*args, **kwargs)
    except mutagen.MutagenError as exc:
        raise MediaError(f"cannot {what}: {exc}", path=path) from exc


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
