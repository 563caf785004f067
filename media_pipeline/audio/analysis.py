"""Step 2 of the audio path, measuring: one streaming analysis pass per input, with the same
high-pass and channel conversion as the encode (integrated loudness, range, sample peak, silence
at either end, decoder damage, the levelling envelope's frame log).

An episode's recording is measured once per run (`recording`): the pre-check before publishing
(`feeds.recordings.audibility`) runs the very analysis processing needs, and processing takes it
from there instead of decoding the recording again.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import threading
from array import array
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg, levelling, limiting, loudness
from media_pipeline.audio.reading import BATCH, OUT_BATCH, filter_value, in_graph, input_options, source, span_options
from media_pipeline.audio.probe import DamageWatch
from media_pipeline.errors import FFmpegError, MediaError
from media_pipeline.model import AudioSettings, Loudness
from media_pipeline.util import filememo, fsutil

log = logging.getLogger(__name__)

# Recordings at least this long are analysed as two halves at once, one per core. Measured with
# ffmpeg 9 (medians of eight): a 3-minute WAV in 125 ms instead of 179, a 3-minute webinar in 161
# instead of 324, 2.5 minutes of speech in 65 instead of 94; even 45 s gain a little. Not shorter:
# the 400 ms after the seek lack their blocks, a share of the programme that grows as it shortens.
PARALLEL_ANALYSIS_SECONDS = 120.0
# A programme shorter than this once silence is trimmed is refused: nothing to publish.
MIN_PROGRAMME_SECONDS = 1.0
# How many recordings' analyses one process keeps for the run's later steps (`recording`).
KEPT_IN_PROCESS = 16
MEMO_FORMAT = 2  # bump when what an Analysis holds changes: every kept analysis is measured again


class Inaudible(MediaError):
    """The analysis found nothing to normalise: no EBU R128 block above the absolute gate (-70
    LUFS), or, with silence trimmed, less than `MIN_PROGRAMME_SECONDS` of programme left."""

    def __init__(self, reason: str, *, path, sample_peak: float | None = None, trimmed: bool = False) -> None:
        super().__init__(reason, path=path)
        self.sample_peak = sample_peak  # dBFS; None: every sample is zero (digital silence)
        self.trimmed = trimmed


@dataclass(frozen=True)
class Analysis:
    """What the analysis pass found in one input, after high-pass and channel conversion."""

    loudness: Loudness  # true_peak holds the sample peak (dBFS): the analysis pass reads only that
    start: float = 0.0  # seconds of leading silence to trim
    end: float | None = None  # where trailing silence starts (None: keep to the end)
    damage: str | None = None  # the decoder's reason when a packet could not be decoded (probe.decoder_damage)
    levelling: levelling.Levelling | None = None  # the speech-levelling envelope, when one is needed
    blocks: limiting.Blocks | None = None  # every 400 ms block's loudness and peak: the limiter's first guess

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
    """One streaming pass: integrated loudness, range and sample peak; leading/trailing silence;
    the loudness and peak of every 400 ms block (`limiting.Blocks`, the limiter's first guess).

    With `level` (and the show's `max_loudness_range`), the levelling envelope is planned from
    the same blocks' log: no extra pass over the audio.
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
        measured, frames, blocks, damage = halves
        start, end = 0.0, None
    else:
        result, read = _run_pass(path, chain, duration, progress)
        try:
            measured = loudness.parse_summary(result.stderr, path)
        except MediaError as exc:
            raise Inaudible(exc.reason, path=path, sample_peak=_summary_peak(result.stderr)) from None
        frames = read.frames()
        blocks = limiting.blocks(frames.momentary, read.peaks)
        start, end = _silence_bounds(read.text(), duration) if trim else (0.0, None)
        damage = read.damage.found
    if end is not None and end - start < MIN_PROGRAMME_SECONDS:
        raise Inaudible("no audible programme: the recording is silent once silence is trimmed", path=path,
                        sample_peak=measured.true_peak, trimmed=True)
    log.info("analysed %s: %s; sample peak %.1f dBFS%s", path, loudness.describe(measured).split(", true")[0],
             measured.true_peak, f"; trim {start:.2f} s to {end if end is not None else 'end'}" if trim else "")
    envelope = None
    if level:
        assert settings.max_loudness_range is not None
        envelope = levelling.plan_levelling(frames, measured.integrated, settings.max_loudness_range)
    # The analysis pass decodes every packet anyway: damage is found here at no extra cost.
    return Analysis(measured, start, end, damage=damage, levelling=envelope, blocks=blocks)


def recording(path: Path, settings: AudioSettings, *, video: bool = False, duration: float | None = None,
              memo_dir: Path | None = None, progress: ffmpeg.Progress | None = None) -> Analysis:
    """The analysis processing needs of an episode's recording, `analyse(path, settings, trim=...,
    level=True)` (silence trimmed as the show asks, never for video), decoded once for as long as
    the file is unchanged.

    Kept two ways, both by the file's stat stamp (`util.filememo.stamp`) and what shapes the
    analysis (`identity`): in this process, for the run's later steps (the pre-check measures, the
    audio work takes it: the run already relies on the recording staying put between its digest
    and its encode, and a stamp that moved in between means measuring again); and with `memo_dir`
    (in the build cache) for later runs, only once the stamp is settled (git's racy rule,
    `filememo.settled`), so a `check` before `publish` leaves publish nothing to decode. A memo
    is a saving, never a failure. An `Inaudible` recording raises each time (the verdict is kept
    by the caller: `feeds.recordings.audibility`).
    """
    trim = settings.trim_silence and not video
    where = os.path.abspath(path)
    what = identity(settings, video=video)
    before = filememo.stamp(path)
    with _kept_lock:
        kept = _kept.get((where, what))
    if kept is not None and before is not None and kept[0] == before:
        return kept[1]
    memo = filememo.Memo(memo_dir / filememo.memo_name(where, what, MEMO_FORMAT, _code()) if memo_dir else None)
    found = _from_json(memo.get(before))
    if found is None:
        found = analyse(path, settings, trim=trim, duration=duration, level=True, progress=progress)
        after = filememo.stamp(path)
        if after is None or after != before:
            return found  # changed while read: nothing kept
        if filememo.settled(after):
            memo.put(after, _to_json(found))
    else:
        log.info("analysis of %s kept from an earlier run: %s", path, loudness.describe(found.loudness).split(", true")[0])
    with _kept_lock:
        _kept[(where, what)] = (before, found)
        _kept.move_to_end((where, what))
        while len(_kept) > KEPT_IN_PROCESS:
            _kept.popitem(last=False)
    return found


def identity(settings: AudioSettings, *, video: bool = False) -> str:
    """What shapes `recording`'s analysis: the chain (high-pass, channels), silence trimming and
    its thresholds, the levelling's range, and the ffmpeg binary that decodes."""
    caps = ffmpeg.checked()
    trim = settings.trim_silence and not video
    parts = [prefilter(settings), f"trim={settings.silence_threshold_db:g}dB/{settings.silence_min_seconds:g}s"
             if trim else "trim=no", f"range={settings.max_loudness_range}", caps.path, caps.version]
    return " ".join(str(p) for p in parts)


_kept: OrderedDict[tuple[str, str], tuple[filememo.Stamp, Analysis]] = OrderedDict()
_kept_lock = threading.Lock()


def _code() -> str:
    """The code as installed (the levelling envelope is planned by it): a kept analysis does not
    outlive it."""
    from media_pipeline.audio import stamps

    return stamps.code_digest()


def _to_json(found: Analysis) -> dict:
    envelope = found.levelling
    return {"loudness": vars(found.loudness), "start": found.start, "end": found.end, "damage": found.damage,
            "blocks": None if found.blocks is None else limiting.to_text(found.blocks),
            "levelling": None if envelope is None else {
                "points": [list(p) for p in envelope.points], "integrated": envelope.integrated,
                "lra": envelope.lra, "strength": envelope.strength, "peak_rise_db": envelope.peak_rise_db}}


def _from_json(raw) -> Analysis | None:
    """A kept analysis, or None when there is none or it does not read back."""
    if not isinstance(raw, dict):
        return None
    try:
        envelope = raw["levelling"]
        return Analysis(Loudness(**raw["loudness"]), float(raw["start"]),
                        None if raw["end"] is None else float(raw["end"]), raw["damage"],
                        None if envelope is None else levelling.Levelling(
                            points=tuple((float(t), float(g)) for t, g in envelope["points"]),
                            integrated=float(envelope["integrated"]), lra=float(envelope["lra"]),
                            strength=float(envelope["strength"]), peak_rise_db=float(envelope["peak_rise_db"])),
                        limiting.from_text(raw["blocks"]))
    except (KeyError, TypeError, ValueError):
        return None


_PEAK = re.compile(r"Peak:\s+(-?[\d.]+|-?inf) dBFS")


def _summary_peak(stderr: str) -> float | None:
    """The sample peak in ebur128's summary (dBFS), or None for none or -inf: digital silence."""
    found = _PEAK.findall(stderr[stderr.rfind("Summary:"):])
    if not found or found[-1].endswith("inf"):
        return None
    return float(found[-1])


# the folder a pass writes its logs to, in the system's temporary folder
SCRATCH_PREFIX = "media-pipeline-analysis-"

# The analysis pass's log of every 100 ms: ebur128 (metadata=1: frames of 100 ms, each carrying
# the loudness of the 400 ms and 3 s blocks that end with it), then the highest sample of the frame
# (`astats`), each written to a file of its own by `ametadata`. In stderr, as ebur128's frame log,
# the same numbers took a 20-minute pass 0.15 s longer, and Python 0.1 s per 20 minutes to read.
_LOGGED = {"momentary": "lavfi.r128.M", "short_term": "lavfi.r128.S", "peaks": "lavfi.astats.Overall.Peak_level"}
_TIME = re.compile(r"pts_time:(\S+)")

# What an analysis pass keeps of the middle of ffmpeg's stderr (the run keeps only its ends):
# silencedetect's events as lines.
_SILENCE_EVENT = re.compile(r"silence_(?:start|end): ")


def _meter(files: dict[str, Path]) -> str:
    """The analysis pass's meter, its log of every 100 ms written to `files` (see `_LOGGED`)."""
    def logged(name: str) -> str:
        return f"ametadata=mode=print:key={_LOGGED[name]}:file={filter_value(files[name])}"

    return (f"ebur128=peak=sample:{ffmpeg.ebur128_log()}:metadata=1,{logged('momentary')},{logged('short_term')},"
            f"astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level,{logged('peaks')}")


class _Read:
    """What an analysis pass reads: as the lines arrive (`ffmpeg.run(lines=...)`), silencedetect's
    lines and the decoder's first complaint (`probe.DamageWatch`), the summary being in the run's
    kept tail; after it, the log of every 100 ms (`_meter`)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.damage = DamageWatch()
        self.logged: dict[str, tuple[array, array]] = {}

    def __call__(self, line: str) -> None:
        self.damage(line)
        if _SILENCE_EVENT.search(line):
            self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines)

    def read_logs(self, files: dict[str, Path]) -> None:
        """Each file's numbers, line by line (an hour's three files are 6 MB of text: read whole,
        with their parsed copies, they took the process's peak 5 MB higher for the rest of the run)."""
        for name, file in files.items():
            times, values = array("d"), array("d")
            try:
                with open(file, encoding="ascii", errors="replace") as lines:
                    time = None
                    for line in lines:
                        if line.startswith("frame:"):
                            found = _TIME.search(line)
                            time = float(found.group(1)) if found else None
                        elif time is not None and "=" in line:
                            times.append(time)
                            values.append(float(line.rpartition("=")[2]))
                            time = None
            except (OSError, ValueError):
                times, values = array("d"), array("d")
            self.logged[name] = (times, values)

    def frames(self) -> levelling.Frames:
        """The loudness every 100 ms, as ebur128's frame log gives it: the time each block ends."""
        times, momentary = self.logged.get("momentary", (array("d"), array("d")))
        short_term = self.logged.get("short_term", (times, momentary))[1]
        count = min(len(momentary), len(short_term))
        return levelling.Frames(tuple(t + 0.1 for t in times[:count]), tuple(momentary[:count]),
                                tuple(short_term[:count]))

    @property
    def peaks(self) -> array:
        return self.logged.get("peaks", (array("d"), array("d")))[1]


def _run_pass(path: Path, chain: str, duration: float | None, progress: ffmpeg.Progress | None, *,
              start: float | None = None, end: float | None = None) -> tuple[subprocess.CompletedProcess, _Read]:
    """One analysis pass over `path` (`start` to `end` seconds, for a half): `chain` into the
    meter, nothing written, and what it logged. Decoded inside the filter graph where that is
    cheaper (`reading.in_graph`); there a packet the decoder refuses stops the run, so a failure
    is read once more the usual way, which decodes past bad packets and names the first
    (`_Read.damage`), or fails for its own reason."""
    # a killed run's folder is removed by the next analysis (`scratch_folder`)
    with fsutil.scratch_folder(Path(tempfile.gettempdir()), SCRATCH_PREFIX) as folder:
        files = {name: Path(folder) / f"{name}.txt" for name in _LOGGED}
        meter = _meter(files)
        result, read = None, _Read()
        if in_graph():
            graph = f"{source(path, start=start, end=end)},{BATCH},{chain},{meter},{OUT_BATCH}[m]"
            try:
                result = ffmpeg.run(["-filter_complex", graph, "-map", "[m]", "-f", "null", "-"], what=path,
                                    duration=duration, progress=progress, lines=read)
            except FFmpegError as exc:
                log.info("%s: decoding inside the filter graph failed (%s); reading it again", path, exc.reason)
                read = _Read()
        if result is None:
            result = ffmpeg.run([*span_options(start, end), *input_options(path), "-i", path, "-map", "0:a:0", "-vn",
                                 "-sn", "-dn", "-af", f"{BATCH},{chain},{meter}", "-f", "null", "-"],
                                what=path, duration=duration, progress=progress, lines=read)
        read.read_logs(files)
    return result, read


def _analyse_halves(path: Path, chain: str, duration: float, progress: ffmpeg.Progress | None,
                    ) -> tuple[Loudness, levelling.Frames, limiting.Blocks | None, str | None] | None:
    """The analysis of a long recording as two halves at once, one per core.

    Integrated loudness and range are gated over the whole programme, so they cannot be combined
    from the halves' summaries: ebur128 logs its 400 ms and 3 s blocks every 100 ms, and the BS.1770
    and Tech 3342 gating is done here over both halves' blocks (the 3 s after the seek lack their
    short-term blocks: a few hundredths of a per cent of the programme). None: a half failed (for
    example it is all silence); the caller then measures the whole in one pass.
    """
    middle = duration / 2

    def half(start: float | None, end: float | None, report: ffmpeg.Progress | None) -> tuple[Loudness, _Read]:
        result, read = _run_pass(path, chain, middle, report, start=start, end=end)
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
    blocks = limiting.joined([limiting.blocks(part.frames().momentary, part.peaks) for part in (first_read, second_read)])
    return measured, frames, blocks, damage


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
