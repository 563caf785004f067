"""What publishing would refuse in an episode's recording, found before any audio work: missing,
unreadable, not a usable recording, damaged, too short to measure, or silent (digital silence, or
too quiet for EBU R128's absolute gate). The probing half of the rules, beside `lint`'s rules on
the model; what is learnt of an unchanged recording is kept in the build cache's stamps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from media_pipeline.errors import ConfigError, MediaError, Problem
from media_pipeline.feeds import lint
from media_pipeline.model import Catalog, Episode, Show, Workspace
from media_pipeline.util.fsutil import display_path

# EBU R128 (ITU-R BS.1770-4) measures loudness over 400 ms blocks: a shorter programme has none,
# so its loudness cannot be measured, nor normalised.
MEASURABLE_SECONDS = 0.4
_PEAK = re.compile(r"Peak:\s+(-?[\d.]+|-?inf) dBFS")


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
    if show is not None and (reason := audibility(ws, show, episode, info.duration)):
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


def audibility(ws: Workspace, show: Show, episode: Episode, duration: float | None) -> str | None:
    """Why the recording has nothing to normalise, or None: shorter than one EBU R128 block, or
    below the absolute gate (-70 LUFS) through the show's own analysis chain (high-pass, channels)
    as publishing's analysis pass measures it. Decoded once per recording and settings: the answer
    is kept in the build cache's stamps until the file changes."""
    from media_pipeline.audio import analysis, ffmpeg, loudness, stamps

    if duration is not None and duration < MEASURABLE_SECONDS:
        return (f"is {duration:.3f} s long, too short to measure its loudness: EBU R128 measures 400 ms "
                f"blocks, so a recording needs at least {MEASURABLE_SECONDS:g} s")
    chain = analysis.prefilter(show.audio) + ",volume=0dB:precision=float"

    def measure() -> str | None:
        result = ffmpeg.run(["-i", episode.source, "-map", "0:a:0", "-vn", "-sn", "-dn", "-af",
                             f"{chain},ebur128=peak=sample:{ffmpeg.ebur128_log()}", "-f", "null", "-"],
                            what=episode.source, duration=duration, nice=5)
        try:
            loudness.parse_summary(result.stderr, episode.source)
            return None
        except MediaError:
            found = _PEAK.findall(result.stderr[result.stderr.rfind("Summary:"):])
            if not found or found[-1].endswith("inf"):
                return "is digital silence: every sample is zero, so there is nothing to normalise"
            return (f"is too quiet to measure: its programme stays below -70 LUFS, EBU R128's absolute gate "
                    f"(sample peak {float(found[-1]):.1f} dBFS); check the recording's input level")

    known = stamps.stamps_for(ws.build_dir)
    caps = ffmpeg.checked()
    return known.fact(episode.source, f"audible {chain} {caps.path} {caps.version}", measure)
