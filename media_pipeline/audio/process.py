"""The audio path as one flow: an episode's recording is probed once, then measured, planned,
calibrated, encoded and verified (`render`), into the build cache (untagged renditions).

Reads top to bottom as the stages it runs; an unchanged episode is a cache hit and does no audio
work. What the probe found travels down with the work (`render` takes the `MediaInfo`, and a clip
is probed through the same memo), so no step probes the recording again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from media_pipeline.audio import cache, calibration, ffmpeg, planning, stamps
from media_pipeline.audio.encode import MAX_COPY_SHORT_SIDE, Output, copies_video, encode
from media_pipeline.audio.planning import Branch
from media_pipeline.audio.probe import damaged, describe_damage, probe
from media_pipeline.errors import MediaError
from media_pipeline.layout import content_type_for
from media_pipeline.model import AudioSettings, Episode, Loudness, MediaInfo, Rendition, Show, Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessResult:
    """The renditions of one episode in the cache (video first for webinars), and its source's facts."""

    renditions: tuple[Rendition, ...]
    info: MediaInfo
    cached: bool  # True when no audio work was done


def process_episode(ws: Workspace, show: Show, episode: Episode, *,
                    progress: Callable[[float], None] | None = None) -> ProcessResult:
    """Renditions of `episode` normalised to `show.audio`, from the cache when nothing changed.

    What is known of unchanged files (their digests, what probe found) comes from the build
    cache's stamps (`stamps.py`), so a cache hit reads no recording."""
    known = stamps.stamps_for(ws.build_dir)
    info = known.probe(episode.source)
    accept_damage = episode.accept_damaged_source
    shown = _shown(ws, episode.source)
    if reason := known.header_damage(episode.source):
        if not accept_damage:
            raise damaged(shown, reason)
        log.warning("%s: %s; published anyway (accept_damaged_source)", shown, reason)
    video = info.has_video
    settings = show.audio
    video_codec = info.video.codec if info.video else None
    extra = {"video": video}
    short_side = min(info.video.width, info.video.height) if info.video and info.video.width and info.video.height else None
    if video and not copies_video(video_codec, short_side):
        extra["video_codec"] = "h264"  # re-encoded (encode.video_args); copied video keeps its old keys
        if short_side and short_side > MAX_COPY_SHORT_SIDE:
            extra["video_short_side"] = MAX_COPY_SHORT_SIDE
    version = planning.VIDEO_CODE_VERSION if video else planning.CODE_VERSION
    key = cache.key(episode.source, settings, code_version=version, extra=extra, digest=known.digest,
                    ffmpeg=ffmpeg.identity())
    entry = cache.folder(ws.build_dir, show.slug, episode.slug, key)
    manifest = cache.use(entry)
    if manifest is not None:
        log.info("cache hit: %s, renditions from %s", episode.key, entry)
        cache.prune(entry)
        if progress:
            progress(1.0)
        return ProcessResult(_renditions(entry, manifest), info, cached=True)
    log.info("audio work: %s from %s", episode.key, episode.source)
    with cache.building(entry) as staging:
        outputs = _outputs(staging, episode.slug, settings, video, video_codec, short_side)
        measured, durations = render(info, settings, outputs, video=video, progress=progress,
                                     accept_damage=accept_damage, shown=shown, probe_clip=known.probe,
                                     memo_dir=analysis_memo(ws))
        cache.write_manifest(staging, {
            "episode": episode.key,
            "source": str(episode.source),
            "renditions": [
                # The storage layer's content types: plain media types, the enclosure types Apple checks.
                {"file": o.path.name, "mime_type": content_type_for(o.path.name),
                 "role": "video" if o.kind == "mp4" else "audio", "duration": d, "loudness": vars(m)}
                for o, m, d in zip(outputs, measured, durations)],
        })
    manifest = cache.load(entry)
    assert manifest is not None
    cache.prune(entry)
    return ProcessResult(_renditions(entry, manifest), info, cached=False)


def _outputs(folder: Path, slug: str, settings: AudioSettings, video: bool,
             video_codec: str | None = None, short_side: int | None = None) -> tuple[Output, ...]:
    """What to write: for video the MP4 first (the primary enclosure), then always the MP3."""
    outputs = []
    if video:
        outputs.append(Output(folder / f"{slug}.mp4", "mp4", settings.video_audio_bitrate_kbps, video_codec, short_side))
    outputs.append(Output(folder / f"{slug}.mp3", "mp3", settings.bitrate_kbps))
    if "m4a" in settings.formats and not video:
        outputs.append(Output(folder / f"{slug}.m4a", "m4a", settings.bitrate_kbps))
    return tuple(outputs)


def render(info: MediaInfo, settings: AudioSettings, outputs: tuple[Output, ...], *, video: bool = False,
           progress: Callable[[float], None] | None = None,
           accept_damage: bool = False, shown: Path | None = None,
           probe_clip: Callable[[Path], MediaInfo] = probe,
           memo_dir: Path | None = None) -> tuple[tuple[Loudness, ...], tuple[float, ...]]:
    """Measure, then encode every output in one pass with its loudness verified; correct once if needed.

    A recording the analysis pass could not decode in full is refused before encoding, unless
    `accept_damage` (the episode's accept_damaged_source) says to publish it as it is.

    `probe_clip` is how an intro or outro clip is probed (the episode's stamps: unchanged clips
    are not read again); `memo_dir` where the recording's analysis is kept between runs
    (`analysis.recording`). Returns each output's measured loudness and duration. Outside the show's tolerance after the
    correction it is an error: a file that misses the target is never passed on silently.
    """
    the_plan = planning.plan(info, settings, video=video, progress=_scaled(progress, 0.0, 0.15), memo_dir=memo_dir)
    if the_plan.main.analysis.damage:
        reason = describe_damage(info.path, the_plan.main.analysis.damage)
        if not accept_damage:
            raise damaged(shown or info.path, reason)
        log.warning("%s: %s; published anyway (accept_damaged_source)", shown or info.path, reason)
    clip_durations = tuple(probe_clip(s.path).duration for i, s in enumerate(the_plan.segments)
                           if i != the_plan.main_index)
    duration = the_plan.duration(info, clip_durations)
    branches = calibration.calibrate(the_plan, tuple(the_plan.branch(o.codec) for o in outputs), duration=duration,
                                     progress=_scaled(progress, 0.15, 0.3), workdir=outputs[0].path.parent)
    measured = list(encode(the_plan, outputs, branches, duration=duration, progress=_scaled(progress, 0.3, 1.0)))
    # Aim tighter than the tolerance: one more encode is cheaper than a programme that drifts.
    aim = min(planning.RETRY_LU, settings.tolerance_lu)
    tries: dict[int, list[tuple[Branch, Loudness]]] = {i: [(branches[i], m)] for i, m in enumerate(measured)}
    # The encoder's offset (LU between the graph's output and the encoded file), first as fitted
    # on speech, then as the encodes of that output measured it: bright content (cymbals above the
    # encoder's lowpass) loses more in the encoder, and its true peak overshoots the limiter more.
    # Where the encodes disagree the mean of what they measured is aimed at: on a hi-hat's noise,
    # ffmpeg's AAC encoder took 0.9 LU at one gain and 0.3 at another (a thousandth of a dB apart
    # at first: its true peak moved from 0.5 to 2.2 dBTP), and aiming at the last alone swung the
    # correction from one side of the target to the other.
    aimed = {i: planning.CODEC_COMPENSATION_LU[b.codec] for i, b in enumerate(branches)}
    offsets: dict[int, list[float]] = {i: [] for i in aimed}
    for _ in range(planning.MAX_CORRECTIONS):
        retry = [i for i, m in enumerate(measured) if not planning.within(m, settings, aim)
                 and planning.reachable(tries[i], settings)]
        if not retry:
            break
        again = []
        for i in retry:
            branch, last = tries[i][-1]
            offsets[i].append(aimed[i] + settings.target_lufs - last.integrated)
            aimed[i] = sum(offsets[i]) / len(offsets[i])
            stepped = planning.corrected(tries[i], settings)
            if stepped.limiter_db is not None:
                # the limiter moved or works harder: what it takes is measured again, for the
                # offset this encoder showed (a correction never just steps the gain past a limiter)
                stepped = calibration.recalibrate(the_plan, stepped, offset=aimed[i], duration=duration,
                                                  workdir=outputs[0].path.parent)
            again.append(stepped)
        for i, branch in zip(retry, again):
            log.info("correcting %s: measured %.1f LUFS, %.1f dBTP; gain now %+.2f dB, limiter %s",
                     outputs[i].path.name, measured[i].integrated, measured[i].true_peak, branch.trim_db,
                     "off" if branch.limiter_db is None else f"{branch.limiter_db:.1f} dBFS")
        # encoded beside the first, and kept only when it is closer: a correction never makes it worse
        trial = tuple(replace(outputs[i], path=outputs[i].path.with_name(".retry-" + outputs[i].path.name))
                      for i in retry)
        fixed = encode(the_plan, trial, tuple(again), duration=duration)
        for i, branch, out, m in zip(retry, again, trial, fixed):
            tries[i].append((branch, m))
            if planning.distance(m, settings) < planning.distance(measured[i], settings):
                os.replace(out.path, outputs[i].path)
                measured[i] = m
            else:
                out.path.unlink(missing_ok=True)
    for i, (output, m) in enumerate(zip(outputs, measured)):
        if not planning.within(m, settings):
            raise MediaError(f"{output.path.name} {planning.out_of_reach(tries[i], settings)}", path=info.path)
        log.info("%s: %.1f LUFS, range %.1f LU, true peak %.1f dBTP", output.path.name, m.integrated, m.lra,
                 m.true_peak)
    durations = tuple(probe(o.path).duration for o in outputs)
    return tuple(measured), durations


def analysis_memo(ws: Workspace) -> Path | None:
    """Where recordings' analyses are kept between runs (`analysis.recording`): in the build cache
    when it exists, else nowhere (`check` creates nothing outside it). "_analysis": no show's
    folder can have that name (lint.SAFE_NAME)."""
    return ws.build_dir / "_analysis" if ws.build_dir.is_dir() else None


def _shown(ws: Workspace, path: Path) -> Path:
    """`path` as messages show it: relative to the workspace when inside it."""
    try:
        return Path(path).resolve().relative_to(ws.root.resolve())
    except ValueError:
        return Path(path)


def _scaled(progress: Callable[[float], None] | None, low: float, high: float) -> Callable[[float], None] | None:
    if progress is None:
        return None
    return lambda fraction: progress(low + (high - low) * fraction)


def _renditions(entry: Path, manifest: dict) -> tuple[Rendition, ...]:
    return tuple(Rendition(path=entry / r["file"], mime_type=r["mime_type"], role=r["role"], duration=r["duration"],
                           loudness=Loudness(**r["loudness"])) for r in manifest["renditions"])


__all__ = ["ProcessResult", "analysis_memo", "process_episode", "render"]
