"""Loudness normalisation by measure-then-apply (EBU R128): one analysis pass, then a plan of gain,
an optional true-peak-safe limiter, silence trim, high-pass, channel and intro/outro handling.

The plan becomes an ffmpeg filter graph that `encode` runs; nothing here holds audio in memory.
"""

from __future__ import annotations

import logging
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from . import ffmpeg, loudness
from .probe import decoder_damage
from .errors import MediaError
from .model import AudioSettings, Loudness, MediaInfo

log = logging.getLogger(__name__)

# Part of every cache key: bump it when a change here alters the audio produced.
CODE_VERSION = "normalise-1"

# Lossy encoders move the numbers (measured on speech, 2-core machine, ffmpeg 9): LAME at 128k
# lowers integrated loudness by about 0.4 LU, ffmpeg's AAC by about 0.2 LU. Aim that much higher.
CODEC_COMPENSATION_LU = {"mp3": 0.4, "aac": 0.2}
# Encoders also raise the true peak above the limiter's sample-peak ceiling (AAC most), so the
# limiter is set this far below the show's true-peak ceiling.
LIMITER_MARGIN_DB = {"mp3": 1.5, "aac": 1.8}
# The analysis pass reads sample peaks (a third of the cost of 4x oversampled true peak); between
# samples speech peaks rise up to about this much, so the limiter is engaged this early.
INTERSAMPLE_MARGIN_DB = 1.0
# limiter_loss(): a first guess of the loudness lost to limiting, which grows with the square of
# the excess (fitted on speech); calibrate() then measures the real loss.
LIMITER_LOSS_PER_DB2 = 0.025
LIMITER_LOSS_CAP_LU = 2.0
# A verified result further than this from the target is encoded once more with the correction.
RETRY_LU = 0.3
# Recordings at least this long are calibrated in two halves at once (one per core).
PARALLEL_CALIBRATION_SECONDS = 600.0
# The lowest limit ffmpeg's alimiter accepts (0.0625 linear).
LIMITER_FLOOR_DB = -24.0


@dataclass(frozen=True)
class Analysis:
    """What the analysis pass found in one input, after high-pass and channel conversion."""

    loudness: Loudness  # true_peak holds the sample peak (dBFS): the analysis pass reads only that
    start: float = 0.0  # seconds of leading silence to trim
    end: float | None = None  # where trailing silence starts (None: keep to the end)
    damage: str | None = None  # the decoder's reason when a packet could not be decoded (probe.decoder_damage)

    @property
    def sample_peak(self) -> float:
        return self.loudness.true_peak


@dataclass(frozen=True)
class Segment:
    """One input of the published programme: the recording, or an intro/outro clip."""

    path: Path
    analysis: Analysis
    gain_db: float  # brings this segment to the target on its own


@dataclass(frozen=True)
class Branch:
    """One encoded output of the graph: its codec and its final gain and limiter settings."""

    codec: str  # "mp3" or "aac"
    trim_db: float  # added to every segment's gain: codec compensation plus any correction
    limiter_db: float | None  # sample-peak ceiling of the limiter, or None: no limiter needed


@dataclass(frozen=True)
class Plan:
    """Everything the encode pass needs to turn the inputs into the published programme."""

    segments: tuple[Segment, ...]  # intro?, main, outro?
    main_index: int
    settings: AudioSettings

    @property
    def main(self) -> Segment:
        return self.segments[self.main_index]

    def branch(self, codec: str) -> Branch:
        """The gain and limiter for one codec, before any verification."""
        trim = CODEC_COMPENSATION_LU[codec]
        ceiling = self.settings.true_peak_db
        loudest_peak = max(s.gain_db + s.analysis.sample_peak for s in self.segments) + trim
        if loudest_peak <= ceiling - INTERSAMPLE_MARGIN_DB:
            return Branch(codec, trim, None)
        # EBU R128: true peak at most the ceiling; alimiter limits sample peaks, so it sits lower.
        limit = max(ceiling - LIMITER_MARGIN_DB[codec], LIMITER_FLOOR_DB)
        return Branch(codec, trim + limiter_loss(loudest_peak - limit), limit)

    def duration(self, info: MediaInfo, clip_durations: tuple[float, ...] = ()) -> float:
        end = self.main.analysis.end if self.main.analysis.end is not None else info.duration
        return max(0.0, end - self.main.analysis.start) + sum(clip_durations)


def prefilter(settings: AudioSettings) -> str:
    """High-pass and channel conversion: the same chain in the analysis and the encode pass."""
    parts = []
    if settings.highpass_hz:
        parts.append(f"highpass=f={settings.highpass_hz:g}")
    layout = "mono" if settings.channels == 1 else "stereo"
    parts.append(f"aformat=channel_layouts={layout}")
    return ",".join(parts)


def analyse(path: Path, settings: AudioSettings, *, trim: bool = False, duration: float | None = None,
            progress: ffmpeg.Progress | None = None) -> Analysis:
    """One streaming pass: integrated loudness, range and sample peak; leading/trailing silence."""
    chain = prefilter(settings)
    if trim:
        chain += f",silencedetect=n={settings.silence_threshold_db:g}dB:d={settings.silence_min_seconds:g}"
    result = ffmpeg.run(["-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn", "-af",
                         f"{chain},ebur128=peak=sample:{ffmpeg.ebur128_log()}", "-f", "null", "-"],
                        what=path, duration=duration, progress=progress)
    measured = loudness.parse_summary(result.stderr, path)
    start, end = _silence_bounds(result.stderr, duration) if trim else (0.0, None)
    if end is not None and end - start < 1.0:
        raise MediaError("no audible programme: the recording is silent once silence is trimmed", path=path)
    log.info("analysed %s: %s; sample peak %.1f dBFS%s", path, loudness.describe(measured).split(", true")[0],
             measured.true_peak, f"; trim {start:.2f} s to {end if end is not None else 'end'}" if trim else "")
    # The analysis pass decodes every packet anyway: damage is found here at no extra cost.
    return Analysis(measured, start, end, damage=decoder_damage(result.stderr))


_SILENCE_START = re.compile(r"silence_start: (-?[\d.]+)")
_SILENCE_END = re.compile(r"silence_end: (-?[\d.]+)")


def _silence_bounds(stderr: str, duration: float | None) -> tuple[float, float | None]:
    """Leading silence ends and trailing silence starts, from silencedetect's log lines.

    A little of each silence is kept (0.25 s) so speech does not start or stop abruptly.
    """
    events = sorted([(float(m.group(1)), "start") for m in _SILENCE_START.finditer(stderr)]
                    + [(float(m.group(1)), "end") for m in _SILENCE_END.finditer(stderr)])
    pad = 0.25
    start, end = 0.0, None
    if events and events[0][1] == "start" and events[0][0] <= 0.05:
        first_end = next((t for t, kind in events if kind == "end"), None)
        start = max(0.0, first_end - pad) if first_end is not None else 0.0
    if events and events[-1][1] == "start":  # silence that runs to the end of the file
        end = events[-1][0] + pad
    elif events and events[-1][1] == "end" and duration and events[-1][0] >= duration - 0.05:
        last_start = max(t for t, kind in events if kind == "start")
        end = last_start + pad
    return start, end


def plan(info: MediaInfo, settings: AudioSettings, *, video: bool = False,
         progress: ffmpeg.Progress | None = None) -> Plan:
    """Analyse the recording and the intro/outro clips and decide each one's gain.

    Video keeps its timing: no silence trim and no clips, so the copied picture stays in sync.
    """
    main = analyse(info.path, settings, trim=settings.trim_silence and not video, duration=info.duration,
                   progress=progress)
    segments = [Segment(info.path, main, settings.target_lufs - main.loudness.integrated)]
    main_index = 0
    if not video:
        for role, clip in (("intro", settings.intro), ("outro", settings.outro)):
            if clip is None:
                continue
            found = analyse(clip, settings)
            segment = Segment(Path(clip), found, settings.target_lufs - found.loudness.integrated)
            if role == "intro":
                segments.insert(0, segment)
                main_index = 1
            else:
                segments.append(segment)
    result = Plan(tuple(segments), main_index, settings)
    log.info("plan for %s: gain %+.1f dB to reach %.1f LUFS", info.path, result.main.gain_db, settings.target_lufs)
    return result


def filter_graph(the_plan: Plan, branches: tuple[Branch, ...], sample_rate: int) -> str:
    """The -filter_complex text: segments in, gains, concat, split, limiter per branch, `[outN]` out.

    Gain is linear (`volume`), so the speech keeps its natural loudness range; the limiter only
    touches the few peaks the gain would push over the ceiling.
    """
    pre = prefilter(the_plan.settings)
    layout = "mono" if the_plan.settings.channels == 1 else "stereo"
    lines, labels = [], []
    for i, segment in enumerate(the_plan.segments):
        chain = [f"[{i}:a:0]{pre}"]
        analysis = segment.analysis
        if analysis.start > 0 or analysis.end is not None:
            bounds = f"start={analysis.start:.3f}" + (f":end={analysis.end:.3f}" if analysis.end is not None else "")
            chain.append(f"atrim={bounds},asetpts=PTS-STARTPTS")
        chain.append(f"volume={segment.gain_db:.3f}dB:precision=float")
        chain.append(f"aresample={sample_rate}")
        chain.append(f"aformat=sample_fmts=fltp:channel_layouts={layout}[s{i}]")
        lines.append(",".join(chain))
        labels.append(f"[s{i}]")
    if len(labels) > 1:
        lines.append(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[prog]")
        joined = "[prog]"
    else:
        joined = labels[0]
    if len(branches) > 1:
        lines.append(f"{joined}asplit={len(branches)}" + "".join(f"[b{i}]" for i in range(len(branches))))
        heads = [f"[b{i}]" for i in range(len(branches))]
    else:
        heads = [joined]
    for i, (head, branch) in enumerate(zip(heads, branches)):
        chain = [f"{head}volume={branch.trim_db:.3f}dB:precision=float"]
        if branch.limiter_db is not None:
            # level=false: no auto make-up gain; latency=true (where ffmpeg has it): no delay, so
            # video stays in sync
            chain.append(f"alimiter=limit={10 ** (branch.limiter_db / 20):.5f}:attack=5:release=50"
                         f":level=false{ffmpeg.alimiter_latency()}")
        lines.append(",".join(chain) + f"[out{i}]")
    return ";".join(lines)


def calibrate(the_plan: Plan, branches: tuple[Branch, ...], *, duration: float | None = None,
              progress: ffmpeg.Progress | None = None) -> tuple[Branch, ...]:
    """Measure what each limiter really takes away and add it back to that branch's gain.

    Only branches with a limiter need it, and they share one streaming pass over the programme
    that runs the encode pass's own graph into ebur128 (no encoder, sample peaks only: about a fifth
    of an encode). Linear gain alone needs no such pass: its effect on loudness is exact. A long
    recording is measured as two halves at once, one per core, and the halves' loudness combined
    by energy; the verification after encoding is exact whatever this estimate misses.
    """
    limited = [i for i, b in enumerate(branches) if b.limiter_db is not None]
    if not limited:
        return branches
    chosen = tuple(branches[i] for i in limited)
    names = [f"m{k}" for k in range(len(chosen))]
    parts = _halves(the_plan, duration)
    try:
        with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="calibrate") as pool:
            runs = [pool.submit(_limited_loudness, part, seek, chosen, names, seconds, progress if n == 0 else None)
                    for n, (part, seek, seconds) in enumerate(parts)]
            results = [run.result() for run in runs]
    except MediaError:
        if len(parts) == 1:
            raise
        parts = [(the_plan, None, duration)]  # a half that is all silence: measure the whole instead
        results = [_limited_loudness(the_plan, None, chosen, names, duration, progress)]
    calibrated = list(branches)
    for k, i in enumerate(limited):
        branch = branches[i]
        if len(results) == 1:
            level = results[0][names[k]].integrated
        else:
            energy = sum(seconds * 10 ** (r[names[k]].integrated / 10) for r, (_, _, seconds) in zip(results, parts))
            level = 10 * math.log10(energy / sum(seconds for _, _, seconds in parts))
        aimed = the_plan.settings.target_lufs + CODEC_COMPENSATION_LU[branch.codec]
        shortfall = aimed - level
        # more gain drives the limiter a little harder: add a tenth more than the shortfall
        calibrated[i] = replace(branch, trim_db=branch.trim_db + shortfall * 1.1)
        log.info("limiter calibration (%s): %.2f LU short, gain now %+.2f dB", branch.codec, shortfall,
                 calibrated[i].trim_db)
    return tuple(calibrated)


def _halves(the_plan: Plan, duration: float | None) -> list[tuple[Plan, float | None, float | None]]:
    """(plan, input seek, seconds) for each part the calibration measures: halves when it pays."""
    if len(the_plan.segments) != 1 or not duration or duration < PARALLEL_CALIBRATION_SECONDS:
        return [(the_plan, None, duration)]
    segment = the_plan.main
    analysis = segment.analysis
    middle = analysis.start + duration / 2
    first = replace(segment, analysis=replace(analysis, end=middle))
    # the second half is read from a seek to the middle, so its times start there
    second = replace(segment, analysis=replace(analysis, start=0.0,
                                               end=None if analysis.end is None else analysis.end - middle))
    return [(replace(the_plan, segments=(first,)), None, duration / 2),
            (replace(the_plan, segments=(second,)), middle, duration / 2)]


def _limited_loudness(the_plan: Plan, seek: float | None, chosen: tuple[Branch, ...], names: list[str],
                      seconds: float | None, progress: ffmpeg.Progress | None) -> dict[str, Loudness]:
    args: list = []
    for segment in the_plan.segments:
        args += [*(["-ss", f"{seek:.3f}"] if seek else []), "-i", segment.path]
    graph = filter_graph(the_plan, chosen, the_plan.settings.sample_rate)
    graph += "".join(f";[out{k}]ebur128@{name}=peak=sample:{ffmpeg.ebur128_log()}[cal{k}]" for k, name in enumerate(names))
    args += ["-filter_complex", graph]
    for k in range(len(chosen)):
        args += ["-map", f"[cal{k}]", "-f", "null", "-"]
    result = ffmpeg.run(args, what=the_plan.main.path, duration=seconds, progress=progress)
    return loudness.parse_named_summaries(result.stderr, names, the_plan.main.path)


def limiter_loss(excess_db: float) -> float:
    """Integrated loudness (LU) the limiter takes away when peaks exceed its limit by `excess_db`.

    Fitted on speech (ffmpeg's alimiter, 5 ms attack, 50 ms release): about 0.3 LU at 3.7 dB of
    excess, 0.9 at 5.7, 1.8 at 7.7. The make-up gain raises the peaks again, so it is iterated.
    Real recordings differ; the verification measurement catches what this misses.
    """
    loss = 0.0
    for _ in range(6):
        loss = min(LIMITER_LOSS_CAP_LU, LIMITER_LOSS_PER_DB2 * max(0.0, excess_db + loss) ** 2)
    return loss


def corrected(branch: Branch, measured: Loudness, settings: AudioSettings) -> Branch:
    """The branch for a second encode, from what the first one measured on its encoded output."""
    correction = settings.target_lufs - measured.integrated
    over = measured.true_peak - settings.true_peak_db
    limit = branch.limiter_db
    if over > 0:
        start = limit if limit is not None else settings.true_peak_db - LIMITER_MARGIN_DB[branch.codec]
        limit = max(start - over - 0.3, LIMITER_FLOOR_DB)
    return Branch(branch.codec, branch.trim_db + correction, limit)


def within(measured: Loudness, settings: AudioSettings, tolerance: float | None = None) -> bool:
    """EBU R128 compliance as the show sets it: integrated within tolerance, true peak at the ceiling."""
    tolerance = settings.tolerance_lu if tolerance is None else tolerance
    return (abs(measured.integrated - settings.target_lufs) <= tolerance
            and measured.true_peak <= settings.true_peak_db)
