"""Loudness normalisation by measure-then-apply (EBU R128): one analysis pass, then a plan of gain,
an optional true-peak-safe limiter, silence trim, high-pass, channel and intro/outro handling.

The plan becomes an ffmpeg filter graph that `encode` runs; nothing here holds audio in memory.
"""

from __future__ import annotations

import logging
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from media_pipeline.audio import ffmpeg, levelling, loudness
from media_pipeline.audio.probe import decoder_damage
from media_pipeline.errors import MediaError
from media_pipeline.model import AudioSettings, Loudness, MediaInfo

log = logging.getLogger(__name__)

# Part of every cache key: bump it when a change here alters the audio produced. Webinars have
# their own (see VIDEO_LIMITER_MARGIN_DB), so a change to them alone leaves audio episodes cached.
CODE_VERSION = "normalise-1"
VIDEO_CODE_VERSION = "normalise-video-2"

# Lossy encoders move the numbers (measured on speech, 2-core machine, ffmpeg 9): LAME at 128k
# lowers integrated loudness by about 0.4 LU, ffmpeg's AAC by about 0.2 LU. Aim that much higher.
CODEC_COMPENSATION_LU = {"mp3": 0.4, "aac": 0.2}
# Encoders also raise the true peak above the limiter's sample-peak ceiling (AAC most), so the
# limiter is set this far below the show's true-peak ceiling.
LIMITER_MARGIN_DB = {"mp3": 1.5, "aac": 1.8}
# A webinar's sound has been through a lossy codec once already, and its encoded true peaks
# overshoot more (60 minutes measured -1.0 dBTP with the margins above): 0.3 dB more, and the two
# chosen so that trim minus limit is the same for both codecs, which lets one limiter serve the
# MP4's AAC and the MP3 (they differ by a linear gain after it: half the limiting work).
VIDEO_LIMITER_MARGIN_DB = {"mp3": 1.8, "aac": 2.0}
# The analysis pass reads sample peaks (a third of the cost of 4x oversampled true peak); between
# samples speech peaks rise up to about this much, so the limiter is engaged this early.
INTERSAMPLE_MARGIN_DB = 1.0
# limiter_loss(): a first guess of the loudness lost to limiting, which grows with the square of
# the excess (fitted on speech); calibrate() then measures the real loss.
LIMITER_LOSS_PER_DB2 = 0.025
LIMITER_LOSS_CAP_LU = 2.0
# A verified result further than this from the target is encoded once more with the correction.
RETRY_LU = 0.3
# Recordings at least this long are analysed as two halves at once, one per core (shorter ones:
# a second process start-up costs more than the half pass saves).
PARALLEL_ANALYSIS_SECONDS = 600.0
# The calibration measures the limiter on a sample of the programme: CALIBRATION_CHUNK_SECONDS out of
# every period, a tenth of the programme but at least CALIBRATION_MIN_SECONDS of it (speech is
# uniform enough that the loss on an evenly spread tenth is the loss on the whole; the verification
# after encoding is exact whatever this estimate misses). Short programmes are measured whole.
CALIBRATION_CHUNK_SECONDS = 3.0
CALIBRATION_FRACTION = 0.1
CALIBRATION_MIN_SECONDS = 30.0
# ... at this much above and below the guessed gain.
CALIBRATION_STEP_DB = 0.3
# The lowest limit ffmpeg's alimiter accepts (0.0625 linear).
LIMITER_FLOOR_DB = -24.0


@dataclass(frozen=True)
class Analysis:
    """What the analysis pass found in one input, after high-pass and channel conversion."""

    loudness: Loudness  # true_peak holds the sample peak (dBFS): the analysis pass reads only that
    start: float = 0.0  # seconds of leading silence to trim
    end: float | None = None  # where trailing silence starts (None: keep to the end)
    damage: str | None = None  # the decoder's reason when a packet could not be decoded (probe.decoder_damage)
    levelling: levelling.Levelling | None = None  # the speech-levelling envelope, when one is needed
    # the calibration's sample of this input, kept by the analysis pass (see `analyse`): files of
    # the prefiltered audio on the input's own timeline, in order; empty: the calibration reads it
    sample: tuple[Path, ...] = ()

    @property
    def sample_peak(self) -> float:
        """The sample peak (after levelling: an estimate, which the calibration does not depend on)."""
        return self.loudness.true_peak + (self.levelling.peak_rise_db if self.levelling else 0.0)

    @property
    def integrated(self) -> float:
        """Integrated loudness after levelling (predicted from the envelope), else as measured."""
        return self.levelling.integrated if self.levelling else self.loudness.integrated


@dataclass(frozen=True)
class Segment:
    """One input of the published programme: the recording, or an intro/outro clip."""

    path: Path
    analysis: Analysis
    gain_db: float  # brings this segment to the target on its own
    prepared: bool = False  # `path` is a kept sample: already prefiltered and sampled


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
    video: bool = False  # a webinar: its own limiter margins

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
        limit = max(ceiling - self.limiter_margin(codec), LIMITER_FLOOR_DB)
        return Branch(codec, trim + limiter_loss(loudest_peak - limit), limit)

    def limiter_margin(self, codec: str) -> float:
        return (VIDEO_LIMITER_MARGIN_DB if self.video else LIMITER_MARGIN_DB)[codec]

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
            level: bool = False, progress: ffmpeg.Progress | None = None, sample_dir: Path | None = None) -> Analysis:
    """One streaming pass: integrated loudness, range and sample peak; leading/trailing silence.

    With `level` (and the show's `max_loudness_range`), ebur128 also logs its loudness every
    100 ms, from which the levelling envelope is planned: no extra pass over the audio.

    With `sample_dir`, the same pass also keeps the limiter calibration's sample of the programme
    there (`calibration_sample`; 32-bit float in NUT, which keeps the input's timestamps for the
    levelling envelope and the silence trim), so the calibration does not decode the recording a
    second time: for a webinar's AAC that decode was most of the calibration's time.
    """
    # The encode graph follows the prefilter with `volume`, and how ffmpeg negotiates the stereo to
    # mono downmix depends on the filters after `aformat`: measured on ffmpeg 5.1, a stereo source
    # read 3 dB quieter through the bare prefilter than through the encode graph's chain (ffmpeg 9
    # agrees either way). So the analysis measures through that same chain.
    chain = prefilter(settings) + ",volume=0dB:precision=float"
    if trim:
        chain += f",silencedetect=n={settings.silence_threshold_db:g}dB:d={settings.silence_min_seconds:g}"
    level = level and settings.max_loudness_range is not None
    sample = calibration_sample(duration) if sample_dir is not None else None
    kept: tuple[Path, ...] = ()
    halves = None if trim or not duration or duration < PARALLEL_ANALYSIS_SECONDS else \
        _analyse_halves(path, chain, duration, progress, sample, sample_dir)
    if halves is not None:
        measured, frames, log_text, kept = halves
        start, end = 0.0, None
    else:
        framelog = "framelog=info" if level else ffmpeg.ebur128_log()
        part = sample_dir / "sample-0.nut" if sample and sample_dir else None
        result = ffmpeg.run(["-i", path, *_measuring(chain, f"ebur128=peak=sample:{framelog}", sample, part)],
                            what=path, duration=duration, progress=progress, writes=part)
        kept = (part,) if part else ()
        log_text = result.stderr
        measured = loudness.parse_summary(log_text, path)
        frames = levelling.parse_frames(log_text) if level else None
        start, end = _silence_bounds(log_text, duration) if trim else (0.0, None)
    if end is not None and end - start < 1.0:
        raise MediaError("no audible programme: the recording is silent once silence is trimmed", path=path)
    log.info("analysed %s: %s; sample peak %.1f dBFS%s", path, loudness.describe(measured).split(", true")[0],
             measured.true_peak, f"; trim {start:.2f} s to {end if end is not None else 'end'}" if trim else "")
    envelope = None
    if level:
        assert settings.max_loudness_range is not None and frames is not None
        envelope = levelling.plan_levelling(frames, measured.integrated, settings.max_loudness_range)
    # The analysis pass decodes every packet anyway: damage is found here at no extra cost.
    return Analysis(measured, start, end, damage=decoder_damage(log_text), levelling=envelope, sample=kept)


def _measuring(chain: str, meter: str, sample: str | None, part: Path | None, offset: float = 0.0) -> list:
    """The analysis pass's filters and outputs: `chain` into `meter`; with `part`, also the
    `sample` of the chain's output into that file, its timestamps moved by `offset` seconds (the
    second half starts at its seek point) so that they are the input's own."""
    if part is None or sample is None:
        return ["-map", "0:a:0", "-vn", "-sn", "-dn", "-af", f"{chain},{meter}", "-f", "null", "-"]
    shift = f"asetpts=PTS+{offset:.6f}/TB," if offset else ""
    graph = f"[0:a:0]{chain},asplit=2[m][s];[m]{meter}[measured];[s]{shift}aselect={sample}[sample]"
    return ["-filter_complex", graph, "-map", "[measured]", "-f", "null", "-",
            "-map", "[sample]", "-c:a", "pcm_f32le", "-y", "-f", "nut", part]


def _analyse_halves(path: Path, chain: str, duration: float, progress: ffmpeg.Progress | None,
                    sample: str | None = None, sample_dir: Path | None = None,
                    ) -> tuple[Loudness, levelling.Frames, str, tuple[Path, ...]] | None:
    """The analysis of a long recording as two halves at once, one per core.

    Integrated loudness and range are gated over the whole programme, so they cannot be combined
    from the halves' summaries: ebur128 logs its 400 ms and 3 s blocks every 100 ms, and the BS.1770
    and Tech 3342 gating is done here over both halves' blocks (the 3 s after the seek lack their
    short-term blocks: a few hundredths of a per cent of the programme). None: a half failed (for
    example it is all silence); the caller then measures the whole in one pass.
    """
    middle = duration / 2
    parts = tuple(sample_dir / f"sample-{k}.nut" for k in range(2)) if sample and sample_dir else (None, None)

    def half(seek: float | None, length: float | None, report: ffmpeg.Progress | None,
             part: Path | None) -> tuple[Loudness, str]:
        where = ["-ss", f"{seek:.3f}"] if seek else []
        until = ["-t", f"{length:.3f}"] if length else []
        # the seek is exact (audio is decoded from before it), so the offset is the seek point
        result = ffmpeg.run([*where, *until, "-i", path,
                             *_measuring(chain, "ebur128=peak=sample:framelog=info", sample, part, seek or 0.0)],
                            what=path, duration=middle, progress=report, writes=part)
        return loudness.parse_summary(result.stderr, path), result.stderr

    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analyse") as pool:
            runs = [pool.submit(half, None, middle, progress, parts[0]),
                    pool.submit(half, middle, None, None, parts[1])]
            (first, first_log), (second, second_log) = [run.result() for run in runs]
    except MediaError:
        return None
    a, b = levelling.parse_frames(first_log), levelling.parse_frames(second_log)
    frames = levelling.Frames(a.times + tuple(t + middle for t in b.times), a.momentary + b.momentary,
                              a.short_term + b.short_term)
    integrated = levelling.integrated(frames.momentary)
    # rounded as ebur128's own summary is, so the gain is the one a single pass would give
    measured = Loudness(integrated=round(integrated, 1), lra=round(levelling.loudness_range(frames.short_term), 1),
                        true_peak=max(first.true_peak, second.true_peak),
                        threshold=round(levelling.integrated_gate(frames.momentary), 1))
    return measured, frames, first_log + second_log, tuple(p for p in parts if p is not None)


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
         progress: ffmpeg.Progress | None = None, sample_dir: Path | None = None) -> Plan:
    """Analyse the recording and the intro/outro clips and decide each one's gain.

    Video keeps its timing: no silence trim and no clips, so the copied picture stays in sync.
    `sample_dir`: where the analysis keeps the calibration's sample of the recording (see `analyse`).
    """
    main = analyse(info.path, settings, trim=settings.trim_silence and not video, duration=info.duration,
                   level=True, progress=progress, sample_dir=sample_dir)
    segments = [Segment(info.path, main, settings.target_lufs - main.integrated)]
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
    result = Plan(tuple(segments), main_index, settings, video)
    log.info("plan for %s: gain %+.1f dB to reach %.1f LUFS", info.path, result.main.gain_db, settings.target_lufs)
    return result


def filter_graph(the_plan: Plan, branches: tuple[Branch, ...], sample_rate: int, *, sample: str | None = None,
                 commands: Mapping[int, Path] | None = None, keep: tuple[int, ...] | None = None) -> str:
    """The -filter_complex text: segments in, gains, concat, split, limiter per branch, `[outN]` out.

    Gain is linear (`volume`), so the speech keeps its natural loudness range; the limiter only
    touches the few peaks the gain would push over the ceiling. `sample` (an `aselect` expression)
    keeps only part of each input that is not a prepared sample already (for the calibration).
    `commands` holds the levelling command file of each levelled segment (from `write_commands`):
    its envelope runs on the input's own timeline. `keep`: only these branches get an output,
    `[out0]` on in that order, each computed as the graph of all would (a run of its own per
    output gives the very samples one run for all gives).
    """
    keep = tuple(range(len(branches))) if keep is None else keep
    pre = prefilter(the_plan.settings)
    layout = "mono" if the_plan.settings.channels == 1 else "stereo"
    lines, labels = [], []
    for i, segment in enumerate(the_plan.segments):
        chain = [] if segment.prepared else [pre]
        if sample and not segment.prepared:
            # first, so the rest of the chain (the levelling envelope too) runs on the sample
            # alone; aselect keeps the timestamps, so the envelope's commands and its ramps still
            # follow the input's own timeline (measured: the same loudness either way, in half the time)
            chain.append(f"aselect={sample}")
        if segment.analysis.levelling is not None:
            if not commands or i not in commands:
                raise ValueError(f"segment {i} is levelled: filter_graph needs its command file")
            first = segment.analysis.levelling.points[0][1]
            chain.append(f"asendcmd=f={_filter_value(commands[i])},"
                         f"volume@level{i}={first:.3f}dB:eval=frame:precision=float")
        analysis = segment.analysis
        if analysis.start > 0 or analysis.end is not None:
            bounds = f"start={analysis.start:.3f}" + (f":end={analysis.end:.3f}" if analysis.end is not None else "")
            chain.append(f"atrim={bounds},asetpts=PTS-STARTPTS")
        chain.append(f"volume={segment.gain_db:.3f}dB:precision=float")
        chain.append(f"aresample={sample_rate}")
        chain.append(f"aformat=sample_fmts=fltp:channel_layouts={layout}[s{i}]")
        lines.append(f"[{i}:a:0]" + ",".join(chain))
        labels.append(f"[s{i}]")
    if len(labels) > 1:
        lines.append(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[prog]")
        joined = "[prog]"
    else:
        joined = labels[0]
    shared = len(branches) > 1 and len({_limiter_key(b) for b in branches}) == 1 and branches[0].limiter_db is not None
    heads = [f"[b{k}]" for k in range(len(keep))] if len(keep) > 1 else [joined]
    if shared:
        # one limiter for every branch; each then takes its own linear gain (limiting g*x at L is
        # g times limiting x at L/g: the peak limiter is scale-invariant)
        first = branches[0]
        limited = f"{joined}volume={first.trim_db:.3f}dB:precision=float,{_limiter(first.limiter_db)}"
        if len(keep) > 1:
            lines.append(f"{limited},asplit={len(keep)}" + "".join(heads))
        else:
            heads = [f"{limited},"]
        for k, i in enumerate(keep):
            lines.append(f"{heads[k]}volume={branches[i].trim_db - first.trim_db:.3f}dB:precision=float[out{k}]")
        return ";".join(lines)
    if len(keep) > 1:
        lines.append(f"{joined}asplit={len(keep)}" + "".join(heads))
    for k, (head, branch) in enumerate(zip(heads, (branches[i] for i in keep))):
        chain = [f"{head}volume={branch.trim_db:.3f}dB:precision=float"]
        if branch.limiter_db is not None:
            chain.append(_limiter(branch.limiter_db))
        lines.append(",".join(chain) + f"[out{k}]")
    return ";".join(lines)


def _limiter(limit_db: float) -> str:
    # level=false: no auto make-up gain; latency=true (where ffmpeg has it): no delay, so video
    # stays in sync
    return f"alimiter=limit={10 ** (limit_db / 20):.5f}:attack=5:release=50:level=false{ffmpeg.alimiter_latency()}"


def _limiter_key(branch: Branch) -> float | None:
    """How hard the branch drives its limiter (trim minus limit): equal keys can share one limiter."""
    return None if branch.limiter_db is None else round(branch.trim_db - branch.limiter_db, 6)


def calibrate(the_plan: Plan, branches: tuple[Branch, ...], *, duration: float | None = None,
              progress: ffmpeg.Progress | None = None, workdir: Path | None = None) -> tuple[Branch, ...]:
    """Measure what each limiter really takes away and add it back to that branch's gain.

    Only branches with a limiter need it. The encode pass's own graph runs into ebur128 (no
    encoder, sample peaks only) on an evenly spread sample of the programme (see
    `calibration_sample`; the recording's own sample as the analysis kept it), at a few gains
    around the guess: the loudness after each limiter against the loudness before any trim or
    limiter, on the same sample, gives that limiter's loss. Each gain tried is an ffmpeg run of its
    own, two at once (in one graph, ffmpeg runs every filter on one thread); the loudness before is
    the same for all of them and is measured by the first. Linear gain alone needs no such pass:
    its effect is exact.
    """
    levelled = any(s.analysis.levelling is not None for s in the_plan.segments)
    limited = [i for i, b in enumerate(branches) if b.limiter_db is not None]
    if not limited:
        return branches
    # Each limited branch is measured at a few gains around the guess; the one whose limiter takes
    # exactly the extra gain it was given is found between them. Branches that share a limiter
    # (the same trim minus limit) are measured once, by the first of them.
    measuring = {}
    for i in limited:
        measuring.setdefault(_limiter_key(branches[i]), i)
    candidates = [(i, replace(branches[i], trim_db=CODEC_COMPENSATION_LU[branches[i].codec] + extra))
                  for i in measuring.values() for extra in _extra_gains(branches[i])]
    sample = calibration_sample(duration)
    sampled = _sampled(the_plan)
    # the levelling commands live in `workdir` (the outputs' cache staging folder), so a killed
    # run's are swept with it; one copy serves every run
    with tempfile.TemporaryDirectory(prefix=".calibrate-", dir=workdir) as folder:
        commands = write_commands(sampled, Path(folder))
        # one run per candidate, two at a time (one per core: each run's filters share one
        # thread, and a third at once would only add its memory)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="calibrate") as pool:
            runs = [pool.submit(measure_sample, sampled, c, sample=sample, duration=duration, commands=commands,
                                before=k == 0, progress=progress if k == 0 else None)
                    for k, (_, c) in enumerate(candidates)]
            found = [run.result() for run in runs]
    before = found[0][1]
    assert before is not None
    calibrated = list(branches)
    for i in limited:
        codec = branches[i].codec
        first = measuring[_limiter_key(branches[i])]
        # (extra gain, what the limiter took at that gain) on the sample
        measured = sorted((c.trim_db - CODEC_COMPENSATION_LU[c.codec],
                           before.integrated + c.trim_db - found[k][0].integrated)
                          for k, (j, c) in enumerate(candidates) if j == first)
        extra = _balance(measured)
        calibrated[i] = replace(branches[i], trim_db=CODEC_COMPENSATION_LU[codec] + extra)
        log.info("limiter calibration (%s%s): %s; gain now %+.2f dB", codec, ", levelled" if levelled else "",
                 ", ".join(f"{loss:.1f} LU lost at {e:+.1f} dB" for e, loss in measured), calibrated[i].trim_db)
    return tuple(calibrated)


def measure_sample(the_plan: Plan, branch: Branch, *, sample: str | None, duration: float | None = None,
                   workdir: Path | None = None, commands: Mapping[int, Path] | None = None, before: bool = True,
                   progress: ffmpeg.Progress | None = None) -> tuple[Loudness, Loudness | None]:
    """The loudness of the programme's calibration sample through the encode graph of `branch`
    and, with `before`, before it (no trim, no limiter), in one pass (sample peaks only); read from
    the sample the analysis kept where it kept one. `commands`: the levelling command files of
    the plan as it is read (`write_commands` of `_sampled(the_plan)`), else written into `workdir`."""
    sampled = _sampled(the_plan)
    if commands is None:
        with tempfile.TemporaryDirectory(prefix=".calibrate-", dir=workdir) as folder:
            return measure_sample(the_plan, branch, sample=sample, duration=duration, before=before,
                                  commands=write_commands(sampled, Path(folder)), progress=progress)
    # -copyts: a kept sample's timestamps are the recording's own (ffmpeg would otherwise move each
    # file's to start at 0, and the second half's envelope would run from the first half's start)
    args: list = ["-copyts"] if any(s.prepared for s in sampled.segments) else []
    for segment in sampled.segments:
        args += ["-i", segment.path]
    meter = f"peak=sample:{ffmpeg.ebur128_log()}"
    names = ["through", "before"] if before else ["through"]
    measured = (branch, Branch(branch.codec, 0.0, None)) if before else (branch,)
    graph = filter_graph(sampled, measured, the_plan.settings.sample_rate, sample=sample, commands=commands)
    graph += "".join(f";[out{k}]ebur128@{name}={meter}[m{k}]" for k, name in enumerate(names))
    args += ["-filter_complex", graph]
    for k in range(len(names)):
        args += ["-map", f"[m{k}]", "-f", "null", "-"]
    result = ffmpeg.run(args, what=the_plan.main.path, duration=duration, progress=progress)
    found = loudness.parse_named_summaries(result.stderr, names, the_plan.main.path)
    return found["through"], found.get("before")


def _sampled(the_plan: Plan) -> Plan:
    """The plan with the recording read from the sample its analysis kept (its parts in order)."""
    main = the_plan.main
    if not main.analysis.sample:
        return the_plan
    parts = tuple(replace(main, path=part, analysis=replace(main.analysis, sample=()), prepared=True)
                  for part in main.analysis.sample)
    i = the_plan.main_index
    return replace(the_plan, segments=(*the_plan.segments[:i], *parts, *the_plan.segments[i + 1:]))


def _extra_gains(branch: Branch) -> list[float]:
    """The extra gains the calibration tries: either side of the guess."""
    guess = max(CALIBRATION_STEP_DB, branch.trim_db - CODEC_COMPENSATION_LU[branch.codec])
    return [round(guess - CALIBRATION_STEP_DB, 3), round(guess + CALIBRATION_STEP_DB, 3)]


def _balance(measured: list[tuple[float, float]]) -> float:
    """The extra gain that equals the loss it causes, interpolated (or extrapolated) linearly
    between the two measured points nearest to balance. `measured` is (extra gain, loss), sorted."""
    if len(measured) == 1:
        return measured[0][1]
    surplus = [(e, e - loss) for e, loss in measured]  # grows with the extra gain
    pairs = list(zip(surplus, surplus[1:]))
    (e0, s0), (e1, s1) = next(((a, b) for a, b in pairs if a[1] <= 0 <= b[1]),
                              pairs[0] if surplus[0][1] > 0 else pairs[-1])
    if s1 == s0:  # the measurements are 0.1 LU apart at best: fall back on the nearer point
        return measured[0][1] if abs(s0) < abs(s1) else measured[-1][1]
    return max(0.0, e0 - s0 * (e1 - e0) / (s1 - s0))


def write_commands(the_plan: Plan, folder: Path) -> dict[int, Path]:
    """Write each levelled segment's envelope as an `asendcmd` file in `folder`: segment index -> file."""
    files = {}
    for i, segment in enumerate(the_plan.segments):
        if segment.analysis.levelling is not None:
            files[i] = folder / f"level{i}.cmd"
            files[i].write_text(levelling.commands(segment.analysis.levelling, f"volume@level{i}"), encoding="ascii")
    return files


def _filter_value(path: Path) -> str:
    """A file name as an option value inside -filter_complex: escaped for the option parser, then
    for the graph parser (ffmpeg-filters(1), "Notes on filtergraph escaping")."""
    text = str(path)
    for char in "\\':":
        text = text.replace(char, "\\" + char)
    for char in "\\'[],;":
        text = text.replace(char, "\\" + char)
    return text


def calibration_sample(duration: float | None) -> str | None:
    """The `aselect` expression for the calibration's sample of a programme, or None: all of it."""
    if not duration:
        return None
    seconds = max(CALIBRATION_MIN_SECONDS, CALIBRATION_FRACTION * duration)
    if seconds >= duration / 2:
        return None
    period = CALIBRATION_CHUNK_SECONDS * duration / seconds
    return f"lt(mod(t\\,{period:.3f})\\,{CALIBRATION_CHUNK_SECONDS:g})"


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
