"""Audio description files (WebVTT, each cue a description of what is shown and not said, WCAG
1.2.5): what the described version speaks, and the descriptive transcript, the captions and the
descriptions interleaved in time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from media_pipeline.model import Description, DescriptionFile
from media_pipeline.transcripts.cues import Cue, Transcript
from media_pipeline.transcripts.read import load_transcript
from media_pipeline.transcripts.sanitise import clean

if TYPE_CHECKING:
    from media_pipeline.model import Episode, Show

# What a producer's recording of a description may be, tried in this order for a cue's identifier.
CLIP_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a")
# A slide change counts as described when a description cue starts from BEFORE seconds before it
# (the describer announcing the next slide) to AFTER seconds after it (a description waiting for a
# pause).
BEFORE_SECONDS = 2.0
AFTER_SECONDS = 3.0


def load_descriptions(path: Path, *, duration: float | None) -> Transcript:
    """A description file read and validated as captions are (`read.load_transcript`)."""
    return load_transcript(path, duration=duration)


def in_language(episode: "Episode", show: "Show", language: str) -> DescriptionFile | None:
    """The episode's description file in `language`, if it has one."""
    return next((d for d in episode.descriptions if (d.language or show.language) == language), None)


def spoken(episode: "Episode", show: "Show", *, duration: float | None = None) -> tuple[Description, ...]:
    """What the described version speaks: the cues of the description file in the show's language
    (one voice, the programme's language), each with the producer's recording where the clips
    folder has one named by the cue's identifier. Empty when there is no such file."""
    item = in_language(episode, show, show.language)
    if item is None:
        return ()
    out = []
    for cue in clean(load_descriptions(item.path, duration=duration)).cues:
        words = " ".join(cue.plain.split())
        if words:
            out.append(Description(cue.start, cue.end, words, clip_for(item, cue)))
    return tuple(out)


def clip_for(item: DescriptionFile, cue: Cue) -> Path | None:
    """The producer's recording of `cue`: `<clips>/<cue identifier>.wav` (or .flac, .mp3, .m4a)."""
    if item.clips is None or not cue.identifier or "/" in cue.identifier or cue.identifier.startswith("."):
        return None
    return next((item.clips / f"{cue.identifier}{s}" for s in CLIP_SUFFIXES
                 if (item.clips / f"{cue.identifier}{s}").is_file()), None)


@dataclass(frozen=True)
class Entry:
    """One line of a descriptive transcript: a caption (with its speaker) or a description."""

    start: float
    end: float
    text: str  # plain words
    description: bool = False
    speaker: str | None = None


def interleave(captions: Sequence[Cue], descriptions: Sequence[Cue]) -> list[Entry]:
    """Captions and descriptions in one list in time order; at the same start a description comes
    first, as it tells what is on screen before the words about it."""
    entries = [Entry(c.start, c.end, " ".join(c.plain.split()), False, c.speaker) for c in captions]
    entries += [Entry(d.start, d.end, " ".join(d.plain.split()), True) for d in descriptions]
    return sorted((e for e in entries if e.text), key=lambda e: (e.start, not e.description))


def undescribed(changes: Sequence[float], cues: Sequence[Cue]) -> list[float]:
    """The slide changes (seconds) with no description cue starting near them (from BEFORE_SECONDS
    before to AFTER_SECONDS after)."""
    return [t for t in changes if not any(-BEFORE_SECONDS <= c.start - t <= AFTER_SECONDS for c in cues)]
