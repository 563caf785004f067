"""Step 2 of the audio path, measuring: one streaming analysis pass per input, with the same
high-pass and channel conversion as the encode (integrated loudness, range, sample peak, silence
at either end, decoder damage, the levelling envelope's frame log).
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg, levelling, loudness
from media_pipeline.audio.probe import DamageWatch
from media_pipeline.errors import MediaError
from media_pipeline.model import AudioSettings, Loudness

log = logging.getLogger(__name__)

# Recordings at least this long are analysed as two halves at once, one per core (shorter ones:
# a second process start-up costs more than the half pass saves).
PARALLEL_ANALYSIS_SECONDS = 600.0

@dataclass(frozen=True)
class Analysis:
    """What the analysis pass found in one input, after high-pass and channel conversion."""

    loudness: Loudness  # true_peak holds the sample peak (dBFS): the analysis pass reads only that
    start: float = 0.0  # seconds of leading silence to trim
    end: float | None = None  # where trailing silence starts (None: keep to the end)
    damage: str | None = None  # the decoder's reason when a packet could not be decoded (probe.decoder_damage)
    levelling: levelling.Levelling | None = None  # the speech-levelling envelope, when one is needed

    @property
    def sample_peak(self) -> float:
        """The sample peak (after levelling: an estimate, which the calibration does not depend on)."""
        return self.loudness.true_peak + (self.levelling.peak_rise_db if self.levelling else 0.0)

    @property
    def integrated(self) -> float:
        """Integrated loudness after levelling (predicted from the envelope), else as measured."""
        return self.levelling.integrated if self.levelling else self.loudness.integrated


def prefilter(settings: AudioSettings) -> str:
    """High-pass and channel conversion: the same chain in the analysis and the encode pass."""
    parts = []
    if settings.highpass_hz:
        parts.append(f"highpass=f={settings.highpass_hz:g}")
    layout = "mono" if settings.channels == 1 else "stereo"
    parts.append(f"aformat=channel_layouts={layout}")
    return ",".join(parts)


def analyse(path: Path, settings: AudioSettings, *, trim: bool = False, duration: float | None = None,
            level: bool = False, progress: ffmpeg.Progress | None = None) -> Analysis:
    """One streaming pass: integrated loudness, range and sample peak; leading/trailing silence.

    With `level` (and the show's `max_loudness_range`), ebur128 also logs its loudness every
    100 ms, from which the levelling envelope is planned: no extra pass over the audio.
    """
    # The encode graph follows the prefilter with `volume`, and how ffmpeg negotiates the stereo to
    # mono downmix depends on the filters after `aformat`: measured on ffmpeg 5.1, a stereo source
    # read 3 dB quieter through the bare prefilter than through the encode graph's chain (ffmpeg 9
    # agrees either way). So the analysis measures through that same chain.
    chain = prefilter(settings) + ",volume=0dB:precision=float"
    if trim:
        chain += f",silencedetect=n={settings.silence_threshold_db:g}dB:d={settings.silence_min_seconds:g}"
    level = level and settings.max_loudness_range is not None
    halves = None if trim or not duration or duration < PARALLEL_ANALYSIS_SECONDS else \
        _analyse_halves(path, chain, duration, progress)
    if halves is not None:
        measured, frames, damage = halves
        start, end = 0.0, None
    else:
        framelog = "framelog=info" if level else ffmpeg.ebur128_log()
        read = _Read()
        result = ffmpeg.run(["-i", path, *_measuring(chain, f"ebur128=peak=sample:{framelog}")],
                            what=path, duration=duration, progress=progress, lines=read)
        measured = loudness.parse_summary(result.stderr, path)
        frames = read.frames() if level else None
        start, end = _silence_bounds(read.text(), duration) if trim else (0.0, None)
        damage = read.damage.found
    if end is not None and end - start < 1.0:
        raise MediaError("no audible programme: the recording is silent once silence is trimmed", path=path)
    log.info("analysed %s: %s; sample peak %.1f dBFS%s", path, loudness.describe(measured).split(", true")[0],
             measured.true_peak, f"; trim {start:.2f} s to {end if end is not None else 'end'}" if trim else "")
    envelope = None
    if level:
        assert settings.max_loudness_range is not None and frames is not None
        envelope = levelling.plan_levelling(frames, measured.integrated, settings.max_loudness_range)
    # The analysis pass decodes every packet anyway: damage is found here at no extra cost.
    return Analysis(measured, start, end, damage=damage, levelling=envelope)


# What an analysis pass reads from the middle of ffmpeg's stderr (the run keeps only its ends):
# ebur128's frame log and silencedetect's events.
_WANTED = re.compile(r"\] t: *[\d.]+ +TARGET:|silence_(?:start|end): ")


class _Read:
    """The lines an analysis pass reads, kept as they arrive (`ffmpeg.run(lines=...)`), and the
    decoder's first complaint (`probe.DamageWatch`); the summary is in the run's kept tail."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.damage = DamageWatch()

    def __call__(self, line: str) -> None:
        self.damage(line)
        if _WANTED.search(line):
            self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines)

    def frames(self) -> levelling.Frames:
        return levelling.parse_frames(self.text())


def _measuring(chain: str, meter: str) -> list:
    """The analysis pass's filters and output: `chain` into `meter`, nothing written."""
    return ["-map", "0:a:0", "-vn", "-sn", "-dn", "-af", f"{chain},{meter}", "-f", "null", "-"]


def _analyse_halves(path: Path, chain: str, duration: float, progress: ffmpeg.Progress | None,
                    ) -> tuple[Loudness, levelling.Frames, str | None] | None:
    """The analysis of a long recording as two halves at once, one per core.

    Integrated loudness and range are gated over the whole programme, so they cannot be combined
    from the halves' summaries: ebur128 logs its 400 ms and 3 s blocks every 100 ms, and the BS.1770
    and Tech 3342 gating is done here over both halves' blocks (the 3 s after the seek lack their
    short-term blocks: a few hundredths of a per cent of the programme). None: a half failed (for
    example it is all silence); the caller then measures the whole in one pass.
    """
    middle = duration / 2

    def half(seek: float | None, length: float | None, report: ffmpeg.Progress | None) -> tuple[Loudness, _Read]:
        where = ["-ss", f"{seek:.3f}"] if seek else []
        until = ["-t", f"{length:.3f}"] if length else []
        read = _Read()
        result = ffmpeg.run([*where, *until, "-i", path, *_measuring(chain, "ebur128=peak=sample:framelog=info")],
                            what=path, duration=middle, progress=report, lines=read)
        return loudness.parse_summary(result.stderr, path), read

    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analyse") as pool:
            runs = [pool.submit(half, None, middle, progress), pool.submit(half, middle, None, None)]
            (first, first_read), (second, second_read) = [run.result() for run in runs]
    except MediaError:
        return None
    a, b = first_read.frames(), second_read.frames()
    frames = levelling.Frames(a.times + tuple(t + middle for t in b.times), a.momentary + b.momentary,
                              a.short_term + b.short_term)
    integrated = levelling.integrated(frames.momentary)
    # rounded as ebur128's own summary is, so the gain is the one a single pass would give
    measured = Loudness(integrated=round(integrated, 1), lra=round(levelling.loudness_range(frames.short_term), 1),
                        true_peak=max(first.true_peak, second.true_peak),
                        threshold=round(levelling.integrated_gate(frames.momentary), 1))
    damage = first_read.damage.found or second_read.damage.found
    return measured, frames, damage


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
