"""The captioning norms a show sets (`[transcripts]`), checked cue by cue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from media_pipeline.transcripts.captions import label_speakers
from media_pipeline.transcripts.cues import DURATION_TOLERANCE, Cue, Transcript, format_time

if TYPE_CHECKING:
    from media_pipeline.model import TranscriptSettings


@dataclass(frozen=True)
class NormBreach:
    cue: int  # 1-based
    start: float
    rule: str  # the settings key that sets the norm
    reason: str

    @property
    def where(self) -> str:
        return f"cue {self.cue} at {format_time(self.start)}"


def check_norms(t: Transcript, settings: "TranscriptSettings", *, duration: float | None = None) -> list[NormBreach]:
    """Every cue against the show's captioning norms (see TranscriptSettings for their sources)."""
    out: list[NormBreach] = []
    any_speaker = settings.speakers and any(c.speaker for c in t.cues)
    previous: Cue | None = None
    # measured as captions show it: with the speaker named where the speaker changes
    for n, cue in enumerate(label_speakers(t, settings.speaker_label).cues, 1):
        def breach(rule: str, reason: str) -> None:
            out.append(NormBreach(n, cue.start, rule, reason))

        lines = [line for line in cue.plain.split("\n") if line.strip()]
        length = cue.end - cue.start
        if not lines:
            # WebVTT allows a cue without text, but here it is most likely words lost in editing
            breach("empty", "has no words; it is left out of the published forms (give it its words or remove it)")
            continue
        if len(lines) > settings.max_lines:
            breach("max_lines", f"has {len(lines)} lines; at most {settings.max_lines}")
        for i, line in enumerate(lines, 1):
            if len(line.strip()) > settings.max_line_chars:
                breach("max_line_chars", f"line {i} has {len(line.strip())} characters; at most "
                                         f"{settings.max_line_chars}")
        chars = sum(len(line.strip()) for line in lines)
        if length > 0 and chars / length > settings.max_cps:
            breach("max_cps", f"{chars / length:.1f} characters a second; at most {settings.max_cps:g} "
                              "(lengthen the cue or shorten the text)")
        if length < settings.min_duration:
            breach("min_duration", f"on screen {length:.2f} s; at least {settings.min_duration:g} s")
        if length > settings.max_duration:
            breach("max_duration", f"on screen {length:.2f} s; at most {settings.max_duration:g} s")
        if previous is not None and not settings.allow_overlap and cue.start < previous.end:
            breach("allow_overlap", f"starts before cue {n - 1} ends ({format_time(previous.end)})")
        if duration is not None and cue.end > duration + DURATION_TOLERANCE:
            breach("duration", f"ends at {format_time(cue.end)}, after the end of the audio ({format_time(duration)})")
        if any_speaker and cue.speaker is None:
            breach("speakers", "names no speaker (<v Name>) while other cues do; mark who speaks on every change")
        previous = cue
    return out
