"""Step 4 of the audio path, calibrating the limiter: the gain at which the encode's own graph,
limiter included, gives the target loudness, found on the whole programme.

Why the whole programme: how much a limiter takes depends on how often and how far the peaks
exceed its limit, and that is a property of every second of the recording. A sample (earlier: 3 s
of every 30 s) estimates it well from speech that is uniform, and badly from a recording whose
loud passages fall between the sampled seconds, most of all one whose level changes repeat with
a period the sample's own divides: a 3-minute programme looped to 20 minutes, sampled every 30 s,
is read at the same six places of each loop (measured: 1.8 LU off, a second encode). Measured on
every sample of the programme, through the very graph the encode runs (the same prefilter,
levelling envelope, gains, limiter and resampling; only the encoder is missing), the loudness
differs from the encoded result only by the encoder's own offset, `CODEC_COMPENSATION_LU`.

How the gain is found: the loudness after the limiter rises with the gain, at most dB for dB
(the limiter only ever takes away), so it is a root-finding on a rising curve, each point of which
costs one pass over the programme. The first pass is at the plan's guess; the next step follows
the slope, a secant through the points measured, or interpolates between two points that bracket
the target. It stops when a bracket is narrow or the last point is close (0.15 LU after one
pass, 0.3 LU once the slope is measured), where the remaining step is short: one pass when the
guess was good, two when it was not, at most four. A long
programme's pass is run as two halves at once, one per core, and the loudness gated over both
halves' 400 ms blocks, so every pass costs half the wall time and the next gain can already use
the last result.
"""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from media_pipeline.audio import ffmpeg, levelling, reading
from media_pipeline.audio.graph import _limiter_key, filter_graph, write_commands
from media_pipeline.audio.planning import CODEC_COMPENSATION_LU, Branch, Plan
from media_pipeline.errors import MediaError

log = logging.getLogger(__name__)

# Passes over the programme per limiter, at most.
MAX_PASSES = 4
# A last point this close to the target (LU) needs no further pass: the short step from it is
# taken on the slope. After one pass the slope is assumed (FIRST_SLOPE, off by up to half: the
# step then misses by half of at most 0.15 LU); after two it is the secant of the last two, whose
# error over a step of under a dB is second order (hundredths of a LU on measured curves).
CLOSE_LU = 0.15
CLOSE_SECANT_LU = 0.3
# Two points that bracket the target and are at most this far apart (dB of gain) are interpolated
# without a further pass (the curve's slope changes by about 0.05 per dB: a few hundredths of a LU).
NARROW_DB = 1.5
# The first step's slope (LU of loudness per dB of gain) when there is only one point and no
# prediction: what a limiter working a dozen dB deep gives (measured 0.43 to 0.56 on badly levelled
# speech); where it works less the slope is steeper, the step overshoots into a bracket and is
# interpolated.
FIRST_SLOPE = 0.5
# With the slope `limiting` predicts (within a tenth on the recordings it was fitted on), a first
# point this close needs no second pass: the step misses by a tenth of it.
CLOSE_PREDICTED_LU = 0.3
# Programmes at least this long (one segment, no trim or levelling) are measured as two halves.
HALVES_SECONDS = 60.0


@dataclass(frozen=True)
class Point:
    trim_db: float  # the branch's trim
    error: float  # measured loudness through the graph minus the loudness to reach (LU)


def calibrate(the_plan: Plan, branches: tuple[Branch, ...], *, duration: float | None = None,
              progress: ffmpeg.Progress | None = None, workdir: Path | None = None) -> tuple[Branch, ...]:
    """Find, for each branch with a limiter, the trim at which the whole programme through the
    encode graph is as loud as the target plus the codec's compensation.

    Only branches with a limiter need it: linear gain alone is exact. Branches that share a
    limiter (the same trim minus limit) are measured once, by the first of them, and take the same
    extra gain."""
    limited = [i for i, b in enumerate(branches) if b.limiter_db is not None]
    if not limited:
        return branches
    measuring: dict[float | None, int] = {}
    for i in limited:
        measuring.setdefault(_limiter_key(branches[i]), i)
    firsts = list(measuring.values())
    # the levelling commands live in `workdir` (the outputs' cache staging folder), so a killed
    # run's are swept with it; one copy serves every run
    with tempfile.TemporaryDirectory(prefix=".calibrate-", dir=workdir) as folder:
        commands = write_commands(the_plan, Path(folder))
        halves = len(firsts) == 1 and _halves_allowed(the_plan, duration)
        if len(firsts) == 1:
            found = {firsts[0]: _solve(the_plan, branches[firsts[0]], commands, duration, progress, halves)}
        else:  # limiters of their own (an MP3 and an M4A): one at a time each, side by side
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="calibrate") as pool:
                runs = {i: pool.submit(_solve, the_plan, branches[i], commands, duration,
                                       progress if i == firsts[0] else None, False) for i in firsts}
                found = {i: run.result() for i, run in runs.items()}
    calibrated = list(branches)
    for i in limited:
        first = measuring[_limiter_key(branches[i])]
        trim, points = found[first]
        extra = trim - branches[first].trim_db
        calibrated[i] = replace(branches[i], trim_db=branches[i].trim_db + extra)
        if i == first:
            log.info("limiter calibration (%s%s): %s; gain now %+.2f dB", branches[i].codec,
                     ", levelled" if any(s.analysis.levelling for s in the_plan.segments) else "",
                     _described(points), calibrated[i].trim_db)
    return tuple(calibrated)


def recalibrate(the_plan: Plan, branch: Branch, *, offset: float, duration: float | None = None,
                workdir: Path | None = None) -> Branch:
    """`branch` (a correction's: its limiter lowered) with the trim at which the whole programme
    through its graph is `offset` LU louder than the target: the encoder's offset as the encode
    before measured it, where `CODEC_COMPENSATION_LU` is the offset fitted on speech. A correction
    that lowers the limiter also changes how much it takes: measured, not stepped."""
    if branch.limiter_db is None:
        return branch
    with tempfile.TemporaryDirectory(prefix=".calibrate-", dir=workdir) as folder:
        trim, points = _solve(the_plan, branch, write_commands(the_plan, Path(folder)), duration, None,
                              _halves_allowed(the_plan, duration), offset=offset)
    log.info("limiter calibration (%s, limiter %.1f dBFS, encoder offset %+.2f LU): %s; gain now %+.2f dB",
             branch.codec, branch.limiter_db, offset, _described(points), trim)
    return replace(branch, trim_db=trim)


def _described(points: list[Point]) -> str:
    """The passes as the log shows them: where each landed, at which trim."""
    return ", ".join(f"{p.error:+.2f} LU at {p.trim_db:+.2f} dB" for p in points)


def _solve(the_plan: Plan, branch: Branch, commands: Mapping[int, Path], duration: float | None,
           progress: ffmpeg.Progress | None, halves: bool, *, offset: float | None = None) -> tuple[float, list[Point]]:
    """The trim that brings the programme through `branch`'s graph to the target plus the encoder's
    offset (`CODEC_COMPENSATION_LU` unless given), and the points measured on the way."""
    goal = the_plan.settings.target_lufs + (CODEC_COMPENSATION_LU[branch.codec] if offset is None else offset)
    points: list[Point] = []
    predicted = the_plan.predicted(branch, offset)
    trim = branch.trim_db if offset is None or predicted is None else predicted[0]
    for k in range(MAX_PASSES):
        through = measure(the_plan, replace(branch, trim_db=trim), commands=commands, duration=duration,
                          halves=halves, progress=progress if k == 0 else None)
        points.append(Point(trim, through - goal))
        trim, done = next_trim(points, predicted[1] if predicted else None)
        if done:
            break
    return trim, points


def next_trim(points: list[Point], predicted_slope: float | None = None) -> tuple[float, bool]:
    """Where to measure next, from the points so far, and whether that is the answer already.

    The loudness rises with the trim by at most 1 LU per dB (a limiter only takes away), so the
    error is a rising curve: two points either side of zero bracket the answer, interpolated;
    otherwise the step follows the secant of the last two points (or, after one, the slope
    `limiting` predicted, else `FIRST_SLOPE`)."""
    last = points[-1]
    below = [p for p in points if p.error < 0]
    above = [p for p in points if p.error >= 0]
    if below and above:
        a = max(below, key=lambda p: p.trim_db)
        b = min(above, key=lambda p: p.trim_db)
        if b.trim_db > a.trim_db:
            root = a.trim_db - a.error * (b.trim_db - a.trim_db) / (b.error - a.error)
            return root, b.trim_db - a.trim_db <= NARROW_DB or min(abs(a.error), abs(b.error)) <= CLOSE_LU
    slope = FIRST_SLOPE
    close = CLOSE_LU
    if len(points) == 1 and predicted_slope:
        slope, close = predicted_slope, CLOSE_PREDICTED_LU
    if len(points) >= 2:
        close = CLOSE_SECANT_LU
        p, q = points[-2], points[-1]
        if abs(q.trim_db - p.trim_db) >= 0.05:
            slope = min(1.0, max(0.1, (q.error - p.error) / (q.trim_db - p.trim_db)))
    step = max(-6.0, min(6.0, -last.error / slope))
    return last.trim_db + step, abs(last.error) <= close


def _halves_allowed(the_plan: Plan, duration: float | None) -> bool:
    """Two halves measure what one pass does only for one untrimmed, unlevelled input (the trim
    and the levelling envelope run on the input's own timeline)."""
    if len(the_plan.segments) != 1 or duration is None or duration < HALVES_SECONDS:
        return False
    analysis = the_plan.segments[0].analysis
    return analysis.levelling is None and analysis.start == 0 and analysis.end is None


def measure(the_plan: Plan, branch: Branch, *, commands: Mapping[int, Path], duration: float | None = None,
            halves: bool = False, progress: ffmpeg.Progress | None = None) -> float:
    """The integrated loudness (LUFS, unrounded) of the whole programme through the encode graph of
    `branch`: BS.1770 gating over ebur128's 400 ms blocks, so it is not rounded to 0.1 LU as the
    summary is. `commands`: the plan's levelling command files (`graph.write_commands`). `halves`:
    as two runs at once, gated over both halves' blocks."""
    path = the_plan.main.path
    if not halves or duration is None:
        return _gated([_blocks(_pass(the_plan, branch, commands), path, duration, progress)], path)
    middle = duration / 2
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="calibrate") as pool:
        runs = [pool.submit(_blocks, _pass(the_plan, branch, commands, end=middle), path, middle, progress),
                pool.submit(_blocks, _pass(the_plan, branch, commands, start=middle), path, middle, None)]
        return _gated([run.result() for run in runs], path)


def _pass(the_plan: Plan, branch: Branch, commands: Mapping[int, Path], *, start: float | None = None,
          end: float | None = None) -> list:
    """The arguments of one measuring pass over the programme (`start` to `end` seconds of its one
    segment, for a half): the encode graph into ebur128, nothing written. Decoded inside the graph
    where that is cheaper (`reading.in_graph`), unless the analysis found a segment damaged."""
    meter = ";[out0]ebur128=peak=none:framelog=info"
    if reading.in_graph() and not any(s.analysis.damage for s in the_plan.segments):
        sources = tuple(reading.source(s.path, start=start, end=end) for s in the_plan.segments)
        graph = filter_graph(the_plan, (branch,), the_plan.settings.sample_rate, commands=commands, batched=True,
                             sources=sources)
        return ["-filter_complex", f"{graph}{meter},{reading.OUT_BATCH}[m]", "-map", "[m]", "-f", "null", "-"]
    args: list = reading.span_options(start, end)
    for segment in the_plan.segments:
        args += [*reading.input_options(segment.path), "-i", segment.path]
    graph = filter_graph(the_plan, (branch,), the_plan.settings.sample_rate, commands=commands, batched=True)
    return [*args, "-filter_complex", f"{graph}{meter}[m]", "-map", "[m]", "-f", "null", "-"]


def _blocks(args: list, path: Path, duration: float | None, progress: ffmpeg.Progress | None) -> tuple[float, ...]:
    """The momentary loudness of every 400 ms block (100 ms apart) that ebur128 logs in one run."""
    log = levelling.FrameLog()
    ffmpeg.run(args, what=path, duration=duration, progress=progress, lines=log)
    return tuple(log.momentary)


def _gated(runs: list[tuple[float, ...]], path: Path) -> float:
    value = levelling.integrated([m for blocks in runs for m in blocks])
    if value == float("-inf"):
        raise MediaError("the limiter calibration measured nothing above -70 LUFS", path=path)
    return value


__all__ = ["MAX_PASSES", "calibrate", "measure", "next_trim", "recalibrate"]
