"""Speech levelling: a slow gain envelope, computed from the analysis pass's short-term loudness, that
brings a recording's loudness range (EBU Tech 3342 LRA) within a show's maximum without pumping.

The envelope follows the level of the speech only: blocks far below the programme (pauses,
breaths, room tone) get no gain of their own, the gain is held through them, and it changes slowly
(a zero-phase smoothing over seconds), so quiet passages come up and loud ones down the way an
engineer rides a fader, never a compressor's breathing in pauses. Nothing here touches audio: the
envelope becomes `asendcmd` commands to a `volume` filter in the graph that `normalise` builds.
"""

from __future__ import annotations

import logging
import math
import re
from array import array
from dataclasses import dataclass
from typing import Iterable, Sequence

log = logging.getLogger(__name__)

# ebur128's frame log: one line every 100 ms with momentary (400 ms) and short-term (3 s) loudness.
STEP_SECONDS = 0.1
_FRAME = re.compile(r"t: *([\d.]+) +TARGET:.*? M: *(-?[\d.]+) S: *(-?[\d.]+)")
# Short-term blocks this far below the programme's integrated loudness are pauses: they steer
# nothing and the gain is held through them (EBU Tech 3342 gates LRA 20 LU below, the same idea).
SPEECH_GATE_LU = 20.0
# Quiet this long (momentary loudness under that gate) is a pause, not a gap between words.
PAUSE_SECONDS = 1.0
# Time constant of the smoothing, run forwards and backwards (zero phase, no lag behind the speech):
# a ten-dB step between two voices becomes a ramp of about six seconds.
SMOOTHING_SECONDS = 2.0
# ... and the gain never moves faster than this (where speech starts after a long pause, say).
MAX_SLEW_DB_PER_SECOND = 3.0
# The envelope never raises a passage by more or lowers it by more than this.
MAX_BOOST_DB = 20.0
MAX_CUT_DB = 10.0
# Aim this far under the asked range: the prediction and the encoder move the measured LRA a little.
RANGE_MARGIN_LU = 1.0
# The envelope goes to ffmpeg as a linear ramp (in dB) per this many seconds, evaluated on every
# audio frame (about 21 ms), so the gain moves at most 0.07 dB from one frame to the next. Longer
# ramps keep the command list short: asendcmd looks at every command for every frame.
RAMP_SECONDS = 1.0
# BS.1770-4 gates: absolute, and relative for integrated loudness; EBU Tech 3342 for the range.
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE_I = 10.0
_RELATIVE_GATE_LRA = 20.0


@dataclass(frozen=True)
class Frames:
    """The analysis pass's loudness every 100 ms: block end times, momentary and short-term LUFS."""

    times: tuple[float, ...]
    momentary: tuple[float, ...]
    short_term: tuple[float, ...]


@dataclass(frozen=True)
class Levelling:
    """A gain envelope and what it is predicted to give (measured again after encoding)."""

    points: tuple[tuple[float, float], ...]  # (seconds into the input, gain dB), RAMP_SECONDS apart
    integrated: float  # LUFS after the envelope
    lra: float  # LU after the envelope
    strength: float  # 0 (no levelling) to 1 (every passage at the programme's loudness)
    peak_rise_db: float  # how much the loudest short-term block rises: the estimate for the sample peak


def parse_frames(stderr: str) -> Frames:
    """The frame log lines of one ebur128 filter run with `framelog=info`."""
    log = FrameLog()
    for line in stderr.splitlines():
        log(line)
    return log.frames()


class FrameLog:
    """An ebur128 frame log (`framelog=info`) read line by line as ffmpeg writes it
    (`ffmpeg.run(lines=...)`): only its numbers are kept, not the lines. An hour logs 36,000
    lines; kept as text, with the joined copy that was parsed, they took a measuring run's Python
    process from 25 to 38 MB, which it kept through the encode."""

    def __init__(self) -> None:
        self.times, self.momentary, self.short_term = array("d"), array("d"), array("d")

    def __call__(self, line: str) -> bool:
        """Keep the numbers of a frame line; whether it was one."""
        match = _FRAME.search(line)
        if match:
            self.times.append(float(match.group(1)))
            self.momentary.append(float(match.group(2)))
            self.short_term.append(float(match.group(3)))
        return match is not None

    def frames(self) -> Frames:
        return Frames(tuple(self.times), tuple(self.momentary), tuple(self.short_term))


def integrated(momentary: Iterable[float]) -> float:
    """BS.1770-4 integrated loudness from 400 ms blocks at 100 ms steps (what ebur128 logs as M)."""
    blocks = [m for m in momentary if m > _ABSOLUTE_GATE]
    if not blocks:
        return -math.inf
    gate = _power_mean(blocks) - _RELATIVE_GATE_I
    return _power_mean([m for m in blocks if m > gate])


def integrated_gate(momentary: Iterable[float]) -> float:
    """The relative gate of BS.1770-4 integrated loudness (10 LU under the absolute-gated blocks)."""
    blocks = [m for m in momentary if m > _ABSOLUTE_GATE]
    return _power_mean(blocks) - _RELATIVE_GATE_I if blocks else _ABSOLUTE_GATE


def loudness_range(short_term: Iterable[float]) -> float:
    """EBU Tech 3342 loudness range from 3 s blocks: 95th minus 10th percentile above the gates."""
    blocks = [s for s in short_term if s > _ABSOLUTE_GATE]
    if not blocks:
        return 0.0
    gate = _power_mean(blocks) - _RELATIVE_GATE_LRA
    kept = sorted(s for s in blocks if s > gate)
    if len(kept) < 2:
        return 0.0
    return _percentile(kept, 0.95) - _percentile(kept, 0.10)


def plan_levelling(frames: Frames, programme_lufs: float, max_range: float) -> Levelling | None:
    """The gentlest envelope whose predicted loudness range is RANGE_MARGIN_LU under `max_range`.

    None when the recording is within the range already (it is then left exactly as it is).
    """
    now = loudness_range(frames.short_term)
    aim = max(1.0, max_range - RANGE_MARGIN_LU)
    if not frames.times or now <= aim:
        log.info("levelling: loudness range %.1f LU is within %.1f LU already", now, max_range)
        return None
    # S(t) covers the 3 s before t, M(t) the 400 ms before: each gain is taken at its block's centre.
    level = _speech_level(frames, programme_lufs)

    def gains(strength: float) -> list[float]:
        return _slew_limited([max(-MAX_CUT_DB, min(MAX_BOOST_DB, strength * (programme_lufs - x))) for x in level])

    def levelled(g: list[float]) -> list[float]:
        return [s + _at(g, frames, t - 1.5) for s, t in zip(frames.short_term, frames.times)]

    def predicted(strength: float) -> tuple[list[float], float]:
        g = gains(strength)
        return g, loudness_range(levelled(g))

    low, high = 0.0, 1.0
    g, lra = predicted(high)
    if lra > aim:
        log.warning("levelling: the strongest envelope predicts %.1f LU, %.1f LU under the asked %.1f LU at best",
                    lra, max_range - lra, max_range)
    else:
        for _ in range(12):
            middle = (low + high) / 2
            _, candidate = predicted(middle)
            if candidate <= aim:
                high = middle
            else:
                low = middle
        g, lra = predicted(high)
    momentary = [m + _at(g, frames, t - 0.2) for m, t in zip(frames.momentary, frames.times)]
    # speech has a fairly steady crest factor, so the sample peak moves with the loudest block
    rise = max(levelled(g)) - max(frames.short_term)
    result = Levelling(points=tuple(_points(g, frames)), integrated=integrated(momentary), lra=lra, strength=high,
                       peak_rise_db=rise)
    log.info("levelling: loudness range %.1f LU to %.1f LU predicted (strength %.2f, gain %+.1f to %+.1f dB)",
             now, lra, high, min(g), max(g))
    return result


def commands(levelling: Levelling, target: str) -> str:
    """The `asendcmd` file that drives the `volume` filter named `target` (with `eval=frame`) along
    the envelope: from each point a linear ramp in dB to the next, then the last gain held."""
    lines = []
    points = levelling.points
    for (t0, g0), (t1, g1) in zip(points, points[1:]):
        slope = (g1 - g0) / (t1 - t0)
        lines.append(f"{t0:.2f} {target} volume 'pow(10,({g0:.3f}{slope:+.4f}*(t-{t0:.2f}))/20)';\n")
    t, g = points[-1]
    lines.append(f"{t:.2f} {target} volume '{10 ** (g / 20):.6f}';\n")
    return "".join(lines)


def _speech_level(frames: Frames, programme_lufs: float) -> list[float]:
    """The loudness of the speech around each block: short-term loudness smoothed over the speech
    blocks only, so a pause takes the level of the speech on either side of it.

    A 3 s block that overlaps a pause (PAUSE_SECONDS or more of momentary loudness under the gate)
    by more than half a second reads low for the silence in it, so it does not steer either.
    """
    gate = max(programme_lufs - SPEECH_GATE_LU, _ABSOLUTE_GATE)
    short_term = frames.short_term
    quiet = [m <= gate for m in frames.momentary]
    in_pause = [False] * len(quiet)
    run = 0
    for i, q in enumerate(quiet + [False]):
        if q:
            run += 1
            continue
        if run * STEP_SECONDS >= PAUSE_SECONDS:
            for j in range(i - run, i):
                in_pause[j] = True
        run = 0
    window = round(3.0 / STEP_SECONDS)
    paused = [0] * (len(in_pause) + 1)  # running count, to count pause steps inside each 3 s block
    for i, p in enumerate(in_pause):
        paused[i + 1] = paused[i] + p
    weights = [1.0 if s > gate and (paused[i + 1] - paused[max(0, i + 1 - window)]) * STEP_SECONDS <= 0.5 else 0.0
               for i, s in enumerate(short_term)]
    values = [s * w for s, w in zip(short_term, weights)]
    decay = math.exp(-STEP_SECONDS / SMOOTHING_SECONDS)
    numerator = _zero_phase(values, decay)
    denominator = _zero_phase(weights, decay)
    level, last = [], programme_lufs
    for n, d in zip(numerator, denominator):
        if d > 1e-9:
            last = n / d
        level.append(last)
    return level


def _slew_limited(gains: list[float]) -> list[float]:
    """At most MAX_SLEW_DB_PER_SECOND between neighbours: clamped forwards, then backwards."""
    step = MAX_SLEW_DB_PER_SECOND * STEP_SECONDS
    out = list(gains)
    for i in range(1, len(out)):
        out[i] = min(max(out[i], out[i - 1] - step), out[i - 1] + step)
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(max(out[i], out[i + 1] - step), out[i + 1] + step)
    return out


def _zero_phase(values: Sequence[float], decay: float) -> list[float]:
    """A one-pole low-pass run forwards, then backwards over the result (no lag either way)."""
    out, state = [], 0.0
    for v in values:
        state = decay * state + (1 - decay) * v
        out.append(state)
    state = 0.0
    for i in range(len(out) - 1, -1, -1):
        state = decay * state + (1 - decay) * out[i]
        out[i] = state
    return out


def _at(gains: Sequence[float], frames: Frames, t: float) -> float:
    """The gain at time `t` (the envelope is sampled at the short-term blocks' centres)."""
    index = round((t + 1.5 - frames.times[0]) / STEP_SECONDS)
    return gains[min(max(index, 0), len(gains) - 1)]


def _points(gains: Sequence[float], frames: Frames) -> list[tuple[float, float]]:
    """The envelope every RAMP_SECONDS from 0 s (the gains are sampled at the blocks' centres)."""
    points = []
    every = max(1, round(RAMP_SECONDS / STEP_SECONDS))
    for i in range(0, len(gains), every):
        centre = frames.times[i] - 1.5
        if not points:
            points.append((0.0, gains[i]))
        elif centre > points[-1][0] + STEP_SECONDS / 2:
            points.append((centre, gains[i]))
    return points


def _power_mean(levels: Sequence[float]) -> float:
    return 10 * math.log10(sum(10 ** (x / 10) for x in levels) / len(levels))


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
