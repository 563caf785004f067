"""Step 4 of the audio path, calibrating the limiter: what it takes away at the planned gain,
measured through the encode's own graph, added back to each limited branch's gain.
"""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Mapping

from media_pipeline.audio import ffmpeg, loudness
from media_pipeline.audio.analysis import calibration_sample
from media_pipeline.audio.graph import _limiter_key, filter_graph, write_commands
from media_pipeline.audio.planning import CODEC_COMPENSATION_LU, Branch, Plan
from media_pipeline.model import Loudness

log = logging.getLogger(__name__)

# ... at this much above and below the guessed gain.
CALIBRATION_STEP_DB = 0.3


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
