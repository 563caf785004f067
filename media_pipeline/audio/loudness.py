"""EBU R128 / ITU-R BS.1770-4 measurement with ffmpeg's ebur128 filter (gated, true peak oversampled).

The verifiers, which measure every encoded rendition, read the true peak another way
(`peak="resampled"`): the sound resampled to 192 kHz (four times 48 kHz, as BS.1770-4's Annex 2
asks) by libswresample and its highest sample read by `astats`, beside `ebur128` for the loudness.
In frames of 9600 samples it takes a verifier 2.2 s of CPU per 20 minutes of an encoded MP3 or AAC
where `ebur128=peak=true` took 2.6 s (ffmpeg 9.0.2, medians of two; in the decoder's own frames of
1024 samples it took 3.5 s): CPU that a webinar's two encoders want. On 21 encodes (MP3, AAC, mono
MP3; speech, pink and white noise, tones at 11 to 15 kHz, square waves, sweeps) it read at most
0.005 dB under ebur128's true peak, and up to 1 dB over it on a sweep near the top of the band,
where ebur128's interpolation reads low: it may ask for a correction ebur128 would not, never let
a peak over the ceiling pass.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict
from typing import Sequence

from media_pipeline.audio import ffmpeg, reading
from media_pipeline.errors import MediaError
from media_pipeline.model import Loudness

_NUMBER = r"(-?[\d.]+|-?inf|nan)"
_FIELDS = {
    "integrated": re.compile(rf"I:\s+{_NUMBER} LUFS"),
    "threshold": re.compile(rf"Threshold:\s+{_NUMBER} LUFS"),
    "lra": re.compile(rf"LRA:\s+{_NUMBER} LU(?!FS)"),
    "true_peak": re.compile(rf"Peak:\s+{_NUMBER} dBFS"),
}
_CHANNEL_PEAK = re.compile(rf"Peak level dB:\s+{_NUMBER}")
# The verifiers' true peak meter (see the module's note): 4x oversampling of 48 kHz.
TRUE_PEAK_RATE = 192000
_CONTEXT = re.compile(r"\[([^\s\[\]]+) @ 0x[0-9a-fA-F]+\] ")


def measure(path: str | os.PathLike, *, what: str | os.PathLike | None = None, audio_filter: str | None = None,
            progress: ffmpeg.Progress | None = None, duration: float | None = None, peak: str = "true",
            input_args: Sequence[str] = (), nice: int = 0) -> Loudness:
    """Integrated loudness, loudness range and true peak of the first audio stream of `path`.

    `audio_filter` is applied before measuring (for example the gain a normaliser intends).
    `peak="sample"` reports the sample peak in `true_peak` instead: about three times cheaper,
    for analysis passes that only need a bound (BS.1770-4 true peak oversamples 4x at 48 kHz).
    `peak="resampled"`: the true peak read at 192 kHz beside ebur128, as the verifiers do (see
    the module's note).
    `input_args` go before `-i` (for example `-f mp3` to read a pipe). `nice` lowers its
    priority (see `ffmpeg.run`).
    """
    chain = f"{audio_filter}," if audio_filter else ""
    result = ffmpeg.run(
        [*input_args, "-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", f"{chain}{meter(peak)}", "-f", "null", "-"],
        what=what or path, progress=progress, duration=duration, nice=nice,
    )
    return parse_summary(result.stderr, what or path, peak=peak)


def measure_stream(path: str | os.PathLike, demuxer: str, *, what: str | os.PathLike, nice: int = 0) -> Loudness:
    """`measure` of an encoded stream that has no name to guess its format from (a pipe):
    `demuxer` names it. Decoded inside the filter graph where ffmpeg's threads make that cheaper
    (`reading.in_graph`): a verifier beside an encode takes a third less CPU from it. The true peak
    is the verifiers' (`peak="resampled"`)."""
    if not reading.in_graph():
        return measure(path, what=what, input_args=["-f", demuxer], nice=nice, peak="resampled")
    # as a lavfi input, not in -filter_complex: ffmpeg configures a complex graph once to learn its
    # outputs and again to run it, and the first opening would take the pipe's head and close it.
    # -xerror: a packet the decoder refuses stops the run with an error, never a short measurement.
    result = ffmpeg.run(["-xerror", "-f", "lavfi", "-i",
                         f"{reading.source(path, demuxer=demuxer)},{meter('resampled')},{reading.OUT_BATCH}",
                         "-f", "null", "-"], what=what, nice=nice)
    return parse_summary(result.stderr, what, peak="resampled")


def meter(peak: str = "true") -> str:
    """The filters that measure a stream (one input, one output): ebur128 with its own `peak`
    mode ("true", "sample" or "none"), or, for "resampled", ebur128 for the loudness beside the
    true peak read at `TRUE_PEAK_RATE`."""
    if peak != "resampled":
        return f"ebur128=peak={peak}:{ffmpeg.ebur128_log()}"
    # in frames of 9600 samples (`reading.BATCH`): split, resampled and read in the decoder's own
    # frames (1024 samples of AAC), the same meter took 3.5 s of CPU per 20 minutes, not 2.2
    return (f"{reading.BATCH},asplit=2[loudness][peak];[peak]aresample={TRUE_PEAK_RATE},"
            "astats=measure_perchannel=Peak_level:measure_overall=none,anullsink;"
            f"[loudness]ebur128=peak=none:{ffmpeg.ebur128_log()}")


def parse_summary(stderr: str, what: str | os.PathLike, *, peak: str = "true") -> Loudness:
    """Read the Summary block ebur128 prints at the end of its run (and, for `peak="resampled"`,
    the per-channel peaks astats prints: the highest is the true peak)."""
    start = stderr.rfind("Summary:")
    values = {}
    if peak == "resampled":
        peaks = [float(v) for v in _CHANNEL_PEAK.findall(stderr)]
        if not peaks:
            raise MediaError("could not measure the true peak: the resampled stream's peak meter printed nothing",
                             path=str(what))
        values["true_peak"] = max(peaks)
    for name, pattern in _FIELDS.items():
        if name in values:
            continue
        match = pattern.search(stderr, start) if start >= 0 else None
        if not match:
            last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "nothing")
            raise MediaError(f"could not measure loudness: the ebur128 filter printed no summary "
                             f"(ffmpeg's last words: {last[:200]})", path=str(what))
        values[name] = float(match.group(1))
    integrated = values["integrated"]
    if integrated != integrated or integrated <= -70.0:  # NaN or below the absolute gate
        raise MediaError("no audible programme: the audio is digital silence or too quiet to measure",
                         path=str(what))
    return Loudness(**values)


def parse_named_summaries(stderr: str, names: list[str], what: str | os.PathLike) -> dict[str, Loudness]:
    """Summaries of several ebur128 filters in one graph, each named `ebur128@NAME`.

    ffmpeg prefixes a log line with `[CONTEXT @ 0x...]` whenever the previous output ended a line,
    so a summary interrupted by another thread's output continues under a repeated prefix. Each
    filter's text is therefore every chunk under its own prefix, joined in order.
    """
    chunks: dict[str, list[str]] = {}
    marks = list(_CONTEXT.finditer(stderr))
    for mark, following in zip(marks, [*marks[1:], None]):
        end = following.start() if following else len(stderr)
        chunks.setdefault(mark.group(1), []).append(stderr[mark.end():end])
    found = {}
    for name in names:
        text = chunks.get(f"ebur128@{name}")
        if not text:
            raise MediaError(f"could not measure loudness: no summary from ebur128@{name}", path=str(what))
        found[name] = parse_summary("".join(text), what)
    return found


def as_dict(value: Loudness) -> dict:
    """The measurement as plain JSON-ready numbers (keys: integrated, lra, true_peak, threshold)."""
    return asdict(value)


def describe(value: Loudness) -> str:
    """One human line: `-16.0 LUFS integrated, range 7.2 LU, true peak -1.4 dBTP`."""
    return (f"{value.integrated:.1f} LUFS integrated, range {value.lra:.1f} LU, "
            f"true peak {value.true_peak:.1f} dBTP")

