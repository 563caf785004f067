"""The timed text an episode names, checked against its recording: transcripts (readable, within the
captioning norms, inside the recording's length, a machine draft only where the show allows one)
and description files (the same, plus a slide change with no description nearby, where slide
changes can be found)."""

from __future__ import annotations

import logging

from media_pipeline.errors import ConfigError, MediaError, PipelineError, Problem
from media_pipeline.model import Episode, Show, Workspace
from media_pipeline.util.fsutil import display_path

log = logging.getLogger(__name__)

# Sources whose episode is a video (its page plays it in <video> with captions).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm")


def warning(path: str, field: str | None, reason: str) -> Problem:
    return Problem(path, field, reason, "warning")


def transcript_problems(ws: Workspace, show: Show, episode: Episode, duration: float | None,
                        path: str) -> list[Problem]:
    """The episode's transcripts: present (a draft counts only when the show allows machine
    transcripts), valid, and within the show's captioning norms (docs/feeds.md)."""
    from media_pipeline.transcripts.forms import publishable, text_form
    from media_pipeline.transcripts.norms import check_norms
    from media_pipeline.transcripts.read import load_transcript

    out: list[Problem] = []
    settings = show.transcript_settings
    drafts = [t for t in episode.transcripts if t.draft]
    if not publishable(episode, show):
        if drafts:
            reason = (f"{display_path(ws, drafts[0].path)} is a machine draft, counted as missing: check it and remove "
                      "draft: true, or set allow_machine = true in the show's [transcripts]")
            if show.transcripts_required:
                reason += "; the show requires a transcript for every episode"
        else:
            # The episode's page needs it (law 306/2019, WCAG 1.2.1 and 1.2.2): a full text beside an
            # audio player, same-language captions (the WebVTT made from it) on a video.
            if episode.source.suffix.lower() in VIDEO_SUFFIXES:
                reason = "has none; a video's page needs same-language captions, made from the transcript file"
            else:
                reason = "has none; an audio episode's page needs its full text beside the player"
            if show.transcripts_required:
                reason += " (the show requires a transcript for every episode)"
        out.append(Problem(path, "transcript", reason, "error" if show.transcripts_required else "warning"))
    elif drafts:
        out.append(warning(path, "transcript", f"{display_path(ws, drafts[0].path)} is a machine draft; it is published "
                                                "labelled as one (allow_machine = true)"))
    for _, name, transcript in _loaded(ws, episode.transcripts, load_transcript, duration, path,
                                       lambda i: "transcript", out):
        for breach in check_norms(transcript, settings, duration=duration):
            out.append(Problem(name, breach.where, f"{breach.reason} [{breach.rule}]",
                               "error" if breach.rule == "duration"
                               else "warning" if breach.rule == "empty" else settings.norms))
    for item in episode.text_transcripts:
        if item.path.is_file():
            try:
                text_form(show, episode, item, display=lambda p: display_path(ws, p))
            except ConfigError as exc:
                out.append(Problem(path, "text_transcript", f"{display_path(ws, item.path)}: {exc.reason}"))
    for i, bite in enumerate(episode.soundbites):
        if duration and bite.start + bite.duration > duration + 0.5:
            out.append(Problem(path, f"soundbites[{i}]", f"ends at {bite.start + bite.duration:g} s, after the "
                                                         f"recording's end ({duration:.1f} s)"))
    return out


def description_problems(ws: Workspace, show: Show, episode: Episode, duration: float | None, path: str, *,
                         scan: bool = False) -> list[Problem]:
    """The episode's audio description (WCAG 1.2.5): each description file valid as captions are;
    a video's descriptions in the show's language, which the described version speaks; and, with
    `scan` (decoding the video), each slide change with no description cue near it, unless the
    episode says its speakers describe the slides aloud (docs/formats.md, Audio description)."""
    from media_pipeline.transcripts.descriptions import (
        AFTER_SECONDS,
        BEFORE_SECONDS,
        in_language,
        load_descriptions,
        undescribed,
    )

    out: list[Problem] = []
    cues = []
    for item, _, told in _loaded(ws, episode.descriptions, load_descriptions, duration, path,
                                 lambda i: f"descriptions[{i}]", out):
        if (item.language or show.language) == show.language:
            cues = list(told.cues)
    video = episode.source.suffix.lower() in VIDEO_SUFFIXES
    if episode.descriptions and not video:
        out.append(warning(path, "descriptions", "describe a picture, and the recording is not a video; "
                                                  "nothing is published from them but the descriptive transcript"))
    elif episode.descriptions and in_language(episode, show, show.language) is None:
        out.append(warning(path, "descriptions", f"none is in the show's language ({show.language}), so no "
                                                  "described version is made; only their descriptive transcripts"))
    if scan and video and not episode.slides_described_aloud and episode.source.is_file():
        from media_pipeline.video.slides import slide_changes

        try:
            changes = slide_changes(episode.source)
        except PipelineError as exc:
            log.debug("%s: slide changes not detected: %s", path, exc)
            changes = ()
        severity = show.transcript_settings.undescribed_slides
        for t in undescribed(changes, cues):
            minutes, seconds = divmod(int(t), 60)
            out.append(Problem(path, "descriptions", f"the slide changes at {minutes}:{seconds:02d} with no "
                                                     f"description cue from {BEFORE_SECONDS:g} s before to {AFTER_SECONDS:g} s after; describe "
                                                     "it, or say slides_described_aloud: true if the speaker does",
                               severity))
    return out


def _loaded(ws: Workspace, items, load, duration: float | None, path: str, key, out: list[Problem]):
    """(item, its name as shown, what `load` read) for each timed-text file of `items` that
    exists; one that does not load is a problem under `key(index)`, with the field the reader
    names, and is skipped (a missing file is reported where the episode's files are checked)."""
    for i, item in enumerate(items):
        if not item.path.is_file():
            continue
        name = display_path(ws, item.path)
        try:
            found = load(item.path, duration=duration)
        except MediaError as exc:
            out.append(Problem(path, f"{key(i)}: {exc.field}" if exc.field else key(i), f"{name}: {exc.reason}"))
            continue
        yield item, name, found
