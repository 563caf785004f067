"""Cues as captions show them: the speaker named at each change, a machine draft labelled, and
lines re-wrapped (a cue split when it must) to the show's norms, measured with what is added."""

# Captioning guides name a new speaker in the text because players do not show WebVTT voice names
# (Chromium, Firefox) and mov_text in MP4 has none: the BBC Subtitle Guidelines ("a dash at the
# start of the line" or the name) and the Netflix Timed Text Style Guide (a hyphen, speaker IDs).

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from media_pipeline.text import strings
from media_pipeline.transcripts.cues import TAG, VOICE, Cue, Transcript

if TYPE_CHECKING:
    from media_pipeline.model import TranscriptSettings

# A word with the tags inside or around it (a voice span's name has spaces; "<" is always a tag,
# since a "<" in the words is escaped)
_WORD = re.compile(r"(?:<[^>]*>|[^\s<])+")
# How a change of speaker is shown in caption text (the show's `speaker_label`)
LABELS = ("name", "dash")
DASH = "\u2013 "  # an en dash and a space, as Finnish and Swedish captions write it


def label_speakers(t: Transcript, style: str = "name") -> Transcript:
    """Each cue line that starts a new speaker's turn (`<v Name>` naming someone other than the
    last speaker) begins with "Name: " or a dash; the voice span stays for players that read it."""
    cues, current = [], None
    for cue in t.cues:
        lines = []
        for line in cue.text.split("\n"):
            match = VOICE.match(line)
            name = html.unescape(match.group(1).strip()) if match else None
            if name and name != current:
                label = DASH if style == "dash" else f"{_escape(name)}: "
                line = line[:match.end()] + label + line[match.end():]
                current = name
            lines.append(line)
        cues.append(Cue(cue.start, cue.end, "\n".join(lines), cue.identifier, cue.line))
    return Transcript(t.path, tuple(cues), t.source_format)


def label_draft(t: Transcript, language: str, *, min_duration: float) -> Transcript:
    """A machine draft says so in its first cue: a cue of its own before the first words when there
    is time for one, else a cue taking the first cue's opening share of time, by characters."""
    if not t.cues:
        return t
    note = _escape(strings.text(language, "draft_caption"))
    first = t.cues[0]
    if first.start >= min_duration:
        return Transcript(t.path, (Cue(0.0, first.start, note), *t.cues), t.source_format)
    words = sum(visible_length(x) for x in first.text.split("\n"))
    cut = round(first.start + (first.end - first.start) * len(note) / (len(note) + max(words, 1)), 3)
    head = (Cue(first.start, cut, note), Cue(cut, first.end, first.text, first.identifier, first.line))
    return Transcript(t.path, (*head, *t.cues[1:]), t.source_format)


def fit_norms(t: Transcript, settings: "TranscriptSettings") -> Transcript:
    """Every cue's lines at most `max_line_chars` visible characters and at most `max_lines` lines:
    a cue that fits is kept as written; one that does not is re-wrapped between words, and split
    into consecutive cues (its time shared by characters) when the words need more lines. A single
    word longer than a line stays whole (`check` names it)."""
    out: list[Cue] = []
    for cue in t.cues:
        lines = [line for line in cue.text.split("\n") if line.strip()]
        if len(lines) <= settings.max_lines and all(visible_length(x) <= settings.max_line_chars for x in lines):
            out.append(cue)
            continue
        wrapped = _wrap_turns(lines, settings.max_line_chars)
        pieces = [wrapped[i:i + settings.max_lines] for i in range(0, len(wrapped), settings.max_lines)]
        out.extend(_share_time(cue, pieces))
    return Transcript(t.path, tuple(out), t.source_format)


def visible_length(line: str) -> int:
    """Characters a viewer sees on the line: tags left out, references as the one character each is."""
    return len(html.unescape(TAG.sub("", line)).strip())


def wrapped_lines(cue: Cue, width: int) -> int:
    """How many lines of at most `width` characters the cue's words need (each turn on its own lines)."""
    return len(_wrap_turns([x for x in cue.text.split("\n") if x.strip()], width))


def _wrap_turns(lines: list[str], width: int) -> list[str]:
    """The words re-flowed into lines of at most `width` visible characters; a line that starts a
    speaker's turn (a voice span or a dash) always starts a new line, as the guides ask."""
    turns: list[list[str]] = []
    for line in lines:
        if not turns or VOICE.match(line) or html.unescape(TAG.sub("", line)).startswith(DASH.strip()):
            turns.append([])
        turns[-1].extend(_WORD.findall(line))
    out: list[str] = []
    for words in turns:
        current: list[str] = []
        for word in words:
            if current and visible_length(" ".join([*current, word])) > width:
                out.append(" ".join(current))
                current = []
            current.append(word)
        if current:
            out.append(" ".join(current))
    return out


def _share_time(cue: Cue, pieces: list[list[str]]) -> list[Cue]:
    """Consecutive cues over the original cue's time, each as long as its share of the characters;
    a piece continuing a speaker's turn reopens the voice span, so every piece names its speaker."""
    sizes = [max(1, sum(visible_length(x) for x in piece)) for piece in pieces]
    total, start, done, voice = sum(sizes), cue.start, 0, None
    out = []
    for i, (piece, size) in enumerate(zip(pieces, sizes)):
        done += size
        end = cue.end if i == len(pieces) - 1 else round(cue.start + (cue.end - cue.start) * done / total, 3)
        text = "\n".join(piece)
        if voice and not VOICE.match(text):
            text = voice + text
        for line in piece:
            if found := re.match(VOICE.pattern, line):
                voice = found.group(0)
        out.append(Cue(start, end, text, None, cue.line))
        start = end
    return out


def captions(t: Transcript, settings: "TranscriptSettings", *, language: str, draft: bool) -> Transcript:
    """The cues every timed form publishes (WebVTT, SRT, the MP4's subtitle tracks): cleaned, the
    speaker named at each change, a draft labelled, and fitted to the norms."""
    from media_pipeline.transcripts.sanitise import clean

    labelled = label_speakers(clean(t), settings.speaker_label)
    if draft:
        labelled = label_draft(labelled, language, min_duration=settings.min_duration)
    return fit_norms(labelled, settings)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
