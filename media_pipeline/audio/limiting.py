"""The limiter calibration's first guess (step 4): how loud the programme comes out of the limiter
at a given gain, predicted from what the analysis pass logged of every 400 ms block.

The analysis pass logs each block's momentary loudness (ebur128's M, 400 ms every 100 ms) and the
highest sample of every 100 ms (`astats`). A limiter takes from a block in proportion to how far
its peaks stand over the limit: a block whose peak exceeds the limit by `e` dB is taken to lose
`LOSS_SCALE * e ** LOSS_POWER` dB, and the programme's loudness is the BS.1770 gating of the
blocks so lowered. Fitted on ten recordings (synthetic, badly levelled and adversarial speech,
espeak-ng speech in two languages; 3 to 60 minutes; each through the encode graph at its answer and
3 dB either side, mono and stereo): 0.07 LU root mean square from the measured loudness, 0.2 at
most, and the slope (LU per dB of gain) within a tenth. The guess it replaced, from the loudest
sample alone, missed two of those recordings by 1.5 LU: a long programme whose loudest sample
stood 3 dB over the rest lost less to the limiter than its looped 3-minute cut, not more. On
recordings it was not fitted on (`tests/test_first_encode.py`'s: very short, silence-heavy,
repeating level changes, one loud transient, deep limiting) the first pass landed within 0.15 LU;
a music bed's hi-hat (bursts of noise) loses more than the model says, 0.5 to 1 LU, and takes
the passes it took before.

Only a guess: the calibration then measures the whole programme through the encode graph, and
the guess decides where it measures first, never where the search stops.
"""

from __future__ import annotations

import base64
import binascii
import math
from array import array
from dataclasses import dataclass
from typing import Callable, Sequence

from media_pipeline.audio import levelling

LOSS_SCALE = 0.24
LOSS_POWER = 1.4
# Blocks whose peak is further below the limit than this cannot be reached by any gain asked.
_NEVER_DB = -300.0


@dataclass(frozen=True)
class Blocks:
    """Every 400 ms block of a programme (100 ms apart): its momentary loudness (LUFS) and the
    highest sample in it (dBFS), both to 0.01 dB: numbers a memo keeps exactly."""

    momentary: array
    peaks: array

    def loudness(self, gain_db: float, drive_db: float) -> float:
        """The integrated loudness after `gain_db` of the blocks, each lowered as a limiter would
        take from it when its peak is raised `drive_db` relative to the limit."""
        lowered = [m + gain_db - (LOSS_SCALE * (p + drive_db) ** LOSS_POWER if p + drive_db > 0 else 0.0)
                   for m, p in zip(self.momentary, self.peaks)]
        return levelling.integrated(lowered)


def blocks(momentary: Sequence[float], frame_peaks: Sequence[float]) -> Blocks | None:
    """The blocks of one pass: each momentary block (ending 100 ms after the one before) with the
    highest of the four 100 ms peaks it spans (-inf or NaN, digital silence, as -300 dBFS). None
    when the logs do not line up (a peak and a loudness per frame; one frame apart at most)."""
    if not momentary or not -1 <= len(frame_peaks) - len(momentary) <= 1:
        return None
    peaks = [round(p, 2) if p > _NEVER_DB else _NEVER_DB for p in frame_peaks]
    count = min(len(momentary), len(peaks))
    window = array("d", (max(peaks[max(0, i - 3):i + 1]) for i in range(count)))
    return Blocks(array("d", (round(m, 2) if m == m else -120.0 for m in momentary[:count])), window)


def joined(parts: Sequence[Blocks | None]) -> Blocks | None:
    """The blocks of a programme measured in parts (the analysis's halves), in order."""
    if not parts or any(p is None for p in parts):
        return None
    momentary, peaks = array("d"), array("d")
    for part in parts:
        momentary.extend(part.momentary)
        peaks.extend(part.peaks)
    return Blocks(momentary, peaks)


def take(found: Blocks, *, gain_db: float, drive_db: float, target: float) -> tuple[float, float] | None:
    """What the limiter takes (dB of make-up gain) where `gain_db` brings the programme to `target`
    and its peaks stand `drive_db` over the limit before the make-up, and the predicted slope there
    (LU of loudness per dB of gain); None when the prediction finds nothing audible.

    Outputs that share a limiter (the same drive) get the same answer to the last digit, whatever
    their codec's compensation: it is not in the sum. The predicted loudness rises with the
    make-up by at most 1 LU per dB, so a secant search from none converges in a few steps."""
    def error(make_up: float) -> float:
        return found.loudness(gain_db + make_up, drive_db + make_up) - target

    return _secant(error, start=0.0)


def _secant(error: Callable[[float], float], *, start: float) -> tuple[float, float] | None:
    """The root of a rising `error` (slope between 0 and 1) from `start`, and the slope there."""
    a = start
    ea = error(a)
    if not math.isfinite(ea):
        return None
    b = a - ea / 0.5
    for _ in range(12):
        eb = error(b)
        if not math.isfinite(eb):
            return None
        slope = (eb - ea) / (b - a) if b != a else 0.5
        slope = min(1.0, max(0.05, slope))
        if abs(eb) < 0.005:
            return b, slope
        a, ea, b = b, eb, b - eb / slope
    return b, slope


def to_text(found: Blocks) -> dict:
    """The blocks for a JSON memo: hundredths of a dB as 16-bit integers, base64."""
    def packed(values: array) -> str:
        hundredths = array("h", (max(-32768, min(32767, round(v * 100))) for v in values))
        return base64.b64encode(hundredths.tobytes()).decode("ascii")

    return {"momentary": packed(found.momentary), "peaks": packed(found.peaks)}


def from_text(raw) -> Blocks | None:
    """`to_text`'s blocks, or None when there are none or they do not read back."""
    if not isinstance(raw, dict):
        return None
    try:
        values = []
        for key in ("momentary", "peaks"):
            numbers = array("h")
            numbers.frombytes(base64.b64decode(raw[key], validate=True))
            values.append(array("d", (v / 100 for v in numbers)))
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None
    if len(values[0]) != len(values[1]):
        return None
    return Blocks(*values)


__all__ = ["LOSS_POWER", "LOSS_SCALE", "Blocks", "blocks", "from_text", "joined", "take",
           "to_text"]
