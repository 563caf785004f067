"""Step 4 of the audio path, calibrating the limiter: what it takes away at the planned gain,
measured through the encode's own graph over the whole programme, added back to each limited
branch's gain.

Why the whole programme: how much a limiter takes depends on how often and how far the peaks
exceed its limit, and that is a property of every second of the recording. A sample (earlier: 3 s
of every 30 s) estimates it well from speech that is uniform, and badly from a recording whose
loud passages fall between the sampled seconds, most of all one whose level changes repeat with
a period the sample's own divides: a 3-minute programme looped to 20 minutes, sampled every 30 s,
is read at the same six places of each loop (measured: 1.8 LU off, a second encode). Measured on
every sample of the programme, through the very graph the encode runs (the same prefilter,
levelling envelope, gains, limiter and resampling; only the encoder is missing), the estimate
differs from the encoded result only by the encoder's own offset, `CODEC_COMPENSATION_LU`.
"""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Mapping

from media_pipeline.audio import ffmpeg, loudness
from media_pipeline.audio.graph import _limiter_key, filter_graph, write_commands
from media_pipeline.audio.planning import CODEC_COMPENSATION_LU, Branch, Plan
from media_pipeline.model import Loudness

log = logging.getLogger(__name__)

# The gains tried: this much above and below the guess; when the balance lies further than this
# from every gain tried (the guess was far off), another round is measured around it, at most
# CALIBRATION_ROUNDS in all.
CALIBRATION_STEP_DB = 0.3
CALIBRATION_ROUNDS = 3


def calibrate(the_plan: Plan, branches: tuple[Branch, ...], *, duration: float | None = None,
              progress: ffmpeg.Progress | None = None, workdir: Path | None = None) -> tuple[Branch, ...]:
    """Measure what each limiter really takes away and add it back to that branch's gain.

    Only branches with a limiter need it. The encode pass's own graph runs into ebur128 (no
    encoder, sample peaks only) over the whole programme at two gains around the guess: the
    loudness after each limiter against the loudness before any trim or limiter gives that
    limiter's loss. Each gain tried is an ffmpeg run of its own, two at once (in one graph, ffmpeg
    runs every filter on one thread); the loudness before is the same for both and is measured by
    the first. Linear gain alone needs no such pass: its effect is exact.
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
    guesses = {first: branches[first].trim_db - CODEC_COMPENSATION_LU[branches[first].codec]
               for first in measuring.values()}
    points: dict[int, list[tuple[float, float]]] = {first: [] for first in measuring.values()}
    # the levelling commands live in `workdir` (the outputs' cache staging folder), so a killed
    # run's are swept with it; one copy serves every run
    with tempfile.TemporaryDirectory(prefix=".calibrate-", dir=workdir) as folder:
        commands = write_commands(the_plan, Path(folder))
        before: Loudness | None = None
        for _ in range(CALIBRATION_ROUNDS):
            candidates = [(i, replace(branches[i], trim_db=CODEC_COMPENSATION_LU[branches[i].codec] + extra))
                          for i, guess in guesses.items() for extra in _extra_gains(guess)]
            # one run per candidate, two at a time (one per core: each run's filters share one
            # thread, and a third at once would only add its memory)
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="calibrate") as pool:
                runs = [pool.submit(measure, the_plan, c, duration=duration, commands=commands,
                                    before=before is None and k == 0,
                                    progress=progress if before is None and k == 0 else None)
                        for k, (_, c) in enumerate(candidates)]
                found = [run.result() for run in runs]
            before = before or found[0][1]
            assert before is not None
            for k, (i, c) in enumerate(candidates):
                # (extra gain, what the limiter took at that gain) on the whole programme
                points[i].append((c.trim_db - CODEC_COMPENSATION_LU[c.codec],
                                  before.integrated + c.trim_db - found[k][0].integrated))
            # a balance found far outside the gains tried is an extrapolation: measure around it
            balances = {i: _balance(sorted(points[i])) for i in guesses}
            far = {i: b for i, b in balances.items() if abs(b - _nearest(points[i], b)) > CALIBRATION_STEP_DB}
            if not far:
                break
            guesses = far
    calibrated = list(branches)
    for i in limited:
        codec = branches[i].codec
        first = measuring[_limiter_key(branches[i])]
        measured = sorted(points[first])
        extra = _balance(measured)
        calibrated[i] = replace(branches[i], trim_db=CODEC_COMPENSATION_LU[codec] + extra)
        log.info("limiter calibration (%s%s): %s; gain now %+.2f dB", codec, ", levelled" if levelled else "",
                 ", ".join(f"{loss:.1f} LU lost at {e:+.1f} dB" for e, loss in measured), calibrated[i].trim_db)
    return tuple(calibrated)


def measure(the_plan: Plan, branch: Branch, *, duration: float | None = None, workdir: Path | None = None,
            commands: Mapping[int, Path] | None = None, before: bool = True,
            progress: ffmpeg.Progress | None = None) -> tuple[Loudness, Loudness | None]:
    """The loudness of the whole programme through the encode graph of `branch` and, with
    `before`, before it (no trim, no limiter), in one pass (sample peaks only). `commands`: the
    levelling command files of the plan (`write_commands`), else written into `workdir`."""
    if commands is None:
        with tempfile.TemporaryDirectory(prefix=".calibrate-", dir=workdir) as folder:
            return measure(the_plan, branch, duration=duration, before=before,
                           commands=write_commands(the_plan, Path(folder)), progress=progress)
    args: list = []
    for segment in the_plan.segments:
        args += ["-i", segment.path]
    meter = f"peak=sample:{ffmpeg.ebur128_log()}"
    names = ["through", "before"] if before else ["through"]
    measured = (branch, Branch(branch.codec, 0.0, None)) if before else (branch,)
    graph = filter_graph(the_plan, measured, the_plan.settings.sample_rate, commands=commands)
    graph += "".join(f";[out{k}]ebur128@{name}={meter}[m{k}]" for k, name in enumerate(names))
    args += ["-filter_complex", graph]
    for k in range(len(names)):
        args += ["-map", f"[m{k}]", "-f", "null", "-"]
    result = ffmpeg.run(args, what=the_plan.main.path, duration=duration, progress=progress)
    found = loudness.parse_named_summaries(result.stderr, names, the_plan.main.path)
    return found["through"], found.get("before")


def _extra_gains(guess: float) -> list[float]:
    """The extra gains the calibration tries: either side of the guess."""
    guess = max(CALIBRATION_STEP_DB, guess)
    return [round(guess - CALIBRATION_STEP_DB, 3), round(guess + CALIBRATION_STEP_DB, 3)]


def _nearest(points: list[tuple[float, float]], extra: float) -> float:
    """The gain tried nearest to `extra`."""
    return min((e for e, _ in points), key=lambda e: abs(e - extra))


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
