"""What publishing would refuse in an episode's recording, found before any audio work: missing,
unreadable, not a usable recording, damaged, too short to measure, or silent (digital silence, or
too quiet for EBU R128's absolute gate). The probing half of the rules, beside `lint`'s rules on
the model; what is learnt of an unchanged recording is kept in the build cache's stamps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from media_pipeline.errors import ConfigError, MediaError, Problem
from media_pipeline.feeds import lint
from media_pipeline.model import Catalog, Episode, MediaInfo, Show, Workspace
from media_pipeline.util.fsutil import display_path

# EBU R128 (ITU-R BS.1770-4) measures loudness over 400 ms blocks: a shorter programme has none,
# so its loudness cannot be measured, nor normalised.
MEASURABLE_SECONDS = 0.4


def recording_problems(ws: Workspace, catalog: Catalog, *, scan: bool = True,
                       known: Mapping[str, float] = {}) -> tuple[list[Problem], dict[str, float]]:
    """Every episode's recording probed (`scan`: decoded in full for damage), except those whose
    length is `known`: the problems and each recording's length in seconds."""
    out: list[Problem] = []
    lengths: dict[str, float] = {}
    for slug, episodes in catalog.episodes.items():
        show = catalog.shows.get(slug)
        for episode in episodes:
            if episode.key not in known:
                found, length = source_problems(ws, episode, scan=scan, show=show)
                out.extend(found)
                if length is not None:
                    lengths[episode.key] = length
    return out, lengths


def source_problems(ws: Workspace, episode: Episode, *, scan: bool = True,
                    show: Show | None = None) -> tuple[list[Problem], float | None]:
    """What publishing would refuse in the episode's recording, before any audio work: missing,
    unreadable, not a usable recording, or damaged (`scan` decodes it in full to find that; the
    header is read either way); with its `show`, also too short or too quiet to normalise
    (`audibility`). Returns the problems and the recording's duration when known."""
    from media_pipeline.audio import probe, stamps

    path = display_path(ws, episode.path)
    known = stamps.stamps_for(ws.build_dir)  # an unchanged recording is not probed again
    try:
        info = known.probe(episode.source)
    except MediaError as exc:
        return [Problem(path, "source", f"{display_path(ws, episode.source)}: {exc.reason}")], None
    damage = known.header_damage(episode.source)
    if damage is None and scan:
        try:
            # Kept in the build cache only where processing made one: check itself creates nothing.
            # "_scan": no show's folder can have that name (SAFE_NAME).
            memo = ws.build_dir / "_scan" if ws.build_dir.is_dir() else None
            damage = probe.scan(episode.source, memo_dir=memo)
        except MediaError as exc:
            damage = exc.reason
    if damage and not episode.accept_damaged_source:
        reason = probe.damaged(Path(display_path(ws, episode.source)), damage).reason
        return [Problem(path, "source", f"{display_path(ws, episode.source)}: {reason}")], info.duration
    if damage:
        return [Problem(path, "source", f"{display_path(ws, episode.source)}: {damage}; published as it is "
                                        "(accept_damaged_source)", "warning")], info.duration
    if show is not None and (reason := audibility(ws, show, episode, info)):
        return [Problem(path, "source", f"{display_path(ws, episode.source)}: {reason}")], info.duration
    return [], info.duration


def source_refusal(ws: Workspace, show: Show, episode: Episode) -> ConfigError | None:
    """For publish, per episode before its audio work: the first error `check` would report about
    its recording (probed, not decoded: the analysis pass finds decoder damage) or about chapter
    and transcript times past the recording's end, as the error that fails this episode alone."""
    found, duration = source_problems(ws, episode, scan=False, show=show)
    if duration is not None:
        found += [p for p in lint.episode_file_problems(ws, show, episode, duration, publishing=True)
                  if p.field and (p.field.startswith(("chapters[", "transcript")))]
    errors = [p for p in found if p.severity == "error"]
    if not errors:
        return None
    return ConfigError(errors[0].reason, path=errors[0].path, field=errors[0].field)


def audibility(ws: Workspace, show: Show, episode: Episode, info: MediaInfo) -> str | None:
    """Why the recording has nothing to normalise, or None: shorter than one EBU R128 block, below
    the absolute gate (-70 LUFS) through the show's own analysis chain, or silent once the show's
    silence trimming is done. Read off the very analysis publishing's audio work uses
    (`analysis.recording`: the same chain, silencedetect when the show trims silence, the frame
    log when it levels), which is kept for that work, so the recording is decoded once. The
    answer is kept in the build cache's stamps until the file changes."""
    from media_pipeline.audio import analysis, process, stamps

    duration = info.duration
    if duration is not None and duration < MEASURABLE_SECONDS:
        return (f"is {duration:.3f} s long, too short to measure its loudness: EBU R128 measures 400 ms "
                f"blocks, so a recording needs at least {MEASURABLE_SECONDS:g} s")

    def measure() -> str | None:
        try:
            analysis.recording(episode.source, show.audio, video=info.has_video, duration=duration,
                               memo_dir=process.analysis_memo(ws))
            return None
        except analysis.Inaudible as exc:
            if exc.trimmed:
                return (f"is silent once silence is trimmed: less than {analysis.MIN_PROGRAMME_SECONDS:g} s of "
                        f"programme is louder than {show.audio.silence_threshold_db:g} dB (trim_silence)")
            if exc.sample_peak is None:
                return "is digital silence: every sample is zero, so there is nothing to normalise"
            return (f"is too quiet to measure: its programme stays below -70 LUFS, EBU R128's absolute gate "
                    f"(sample peak {exc.sample_peak:.1f} dBFS); check the recording's input level")

    known = stamps.stamps_for(ws.build_dir)
    return known.fact(episode.source, f"audible {analysis.identity(show.audio, video=info.has_video)}", measure)
