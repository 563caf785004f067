"""Chapters proposed from a webinar's slides: one chapter per slide, titled by its number, with the
slide's picture as the chapter image, written into the episode file as a draft the producer edits.

The draft is the `chapters:` block under the DRAFT_MARK comment line. `propose_chapters` replaces
only such a block (or an empty `chapters:`); chapters the producer wrote, or a draft whose mark
the producer deleted to keep it, are never overwritten.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.config.frontmatter import edit_front_matter
from media_pipeline.errors import ConfigError, MediaError
from media_pipeline.model import Episode, Show, Workspace
from media_pipeline.text import strings
from media_pipeline.video import picture as pictures
from media_pipeline.video.slides import Slide, slide_changes, slide_images

log = logging.getLogger(__name__)

DRAFT_MARK = "# chapters: proposed from the slides by `media-pipeline chapters`; title them, and delete this line to keep them"
_CHAPTERS_KEY = re.compile(r"^chapters:[^\r\n]*(?:\r?\n(?:[ \t]+[^\r\n]*|-[^\r\n]*|[ \t]*))*", re.M)


@dataclass(frozen=True)
class Proposal:
    episode: Episode
    slides: tuple[Slide, ...]
    titles: tuple[str, ...]
    folder: Path  # where the slide pictures are (or would be) written
    replaced_draft: bool  # an earlier draft block was replaced


def images_folder(ws: Workspace, episode: Episode) -> Path:
    """chapters/SHOW/SLUG/ in the workspace, beside transcripts/SHOW/."""
    return ws.root / "chapters" / episode.show / episode.slug


def propose_chapters(ws: Workspace, show: Show, episode: Episode, *, dry_run: bool = False) -> Proposal:
    """Detect the slides of the episode's video and, unless `dry_run`, write their pictures and the
    draft `chapters:` block. ConfigError when the episode has chapters of the producer's own;
    MediaError when the recording has no picture."""
    text = episode.path.read_text(encoding="utf-8")
    draft = DRAFT_MARK in text
    if episode.chapters and not draft:
        raise ConfigError("has chapters of its own, which are never replaced; remove them (or run with --dry-run "
                          "to see the proposal)", path=str(episode.path), field="chapters")
    picture = pictures.read(episode.source)
    if picture is None:
        raise MediaError("has no video stream, so no slides to take chapters from", path=episode.source)
    starts = (0.0, *slide_changes(episode.source))
    word = strings.text(show.language, "slide")
    titles = tuple(f"{word} {i + 1}" for i in range(len(starts)))
    folder = images_folder(ws, episode)
    if dry_run:
        slides = tuple(Slide(s) for s in starts)
    else:
        slides = slide_images(episode.source, starts, folder, duration=picture.duration)
        for old in folder.glob("slide-*.jpg"):  # pictures of an earlier draft with more slides
            if old not in {s.image for s in slides}:
                old.unlink()
        _write_draft(ws, episode, slides, titles)
    log.info("%s: %d slides", episode.key, len(slides))
    return Proposal(episode, slides, titles, folder, draft)


def _write_draft(ws: Workspace, episode: Episode, slides: tuple[Slide, ...], titles: tuple[str, ...]) -> None:
    def entry(slide: Slide, title: str) -> str:
        image = slide.image.relative_to(ws.root).as_posix() if slide.image else None
        return (f'  - {{start: "{_hms(slide.start)}", title: {title}'
                + (f", image: {image}}}" if image else "}"))

    def put(front: str) -> str:
        newline = "\r\n" if "\r\n" in front else "\n"
        block = newline.join((DRAFT_MARK, "chapters:", *(entry(s, t) for s, t in zip(slides, titles))))
        # the old draft (its mark and its block) or an empty `chapters:` gives way; else the end
        front = front.replace(DRAFT_MARK + newline, "")
        found = _CHAPTERS_KEY.search(front)
        if found:
            kept = found.group(0)
            tail = kept[len(kept.rstrip()):]
            return front[:found.start()] + block + tail + front[found.end():]
        return front.rstrip("\r\n") + newline + block

    edit_front_matter(episode.path, put, "write the proposed chapters into")


def _hms(seconds: float) -> str:
    """HH:MM:SS, with .mmm when not whole: the episode file's way of writing a chapter's start."""
    ms = round(seconds * 1000)
    whole, millis = divmod(ms, 1000)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return text + (f".{millis:03d}" if millis else "")
