"""How a pass that only measures reads its input: the sound alone, in large frames, and, where
ffmpeg gives every decoder a thread of its own, decoded inside the filter graph.

ffmpeg 7 and later run each decoder, filter graph, encoder and muxer on a thread of its own and
hand every frame from one to the next. A measuring pass moves little data per frame, so the handing
costs as much as the work: a 20-minute MP3 decoded, and nothing else done, took 0.9 s of user and
1.0 s of system time, nearly all of the system time in futex calls. Decoded inside the graph
(`amovie`, the source filter that demuxes and decodes on the filter graph's own thread), with large
frames handed to the null output, the same pass takes 0.8 s and 0.2 s; a verifier's true peak meter
on an encoded 20-minute MP3, 2.8 s of CPU instead of 4.2 (ffmpeg 9.0.2).

Only where ffmpeg is threaded (`in_graph`): there a decoder's failure inside the graph stops the
run with an error (exit 183), where ffmpeg 5.1 ends it quietly with the audio cut short, and 5.1
gains nothing (it decodes on the main thread). A source the analysis found damaged is read the
usual way, which decodes past its bad packets.
"""

from __future__ import annotations

import os

from media_pipeline.audio import ffmpeg

# Input options of a pass that reads only the sound: the demuxer skips the picture's packets
# instead of reading and dropping them (a webinar's measuring pass took 7 % less).
AUDIO_ONLY = ("-vn", "-sn", "-dn")
# The first filter of a pass that only measures: a decoder's frames (1024 samples of AAC) regrouped
# into frames of 9600, so the frames handed between ffmpeg's threads after it (filter, encoder,
# muxer: each a thread since ffmpeg 7) are a tenth as many. The numbers are the same (every filter
# after it works sample by sample); a webinar's calibration pass took 1.4 s instead of 2.1 s for
# 20 minutes, most of the difference system time. Not in the encode: its encoders take frames of
# their own size whatever comes.
BATCH = "asetnsamples=n=9600:p=0"
# The last filter of a pass that decodes inside the graph: what leaves the graph for the null
# output goes in frames of 65536 samples.
OUT_BATCH = "asetnsamples=n=65536:p=0"
# WAV packets of 4 kB (ffmpeg's default) become 64 kB for a measuring pass: a sixteenth as many
# packets handed from the demuxer's thread on (a 60-minute pass took 0.2 s less of 2.2 s).
WAV_PACKET_BYTES = 65536


def input_options(path: str | os.PathLike) -> tuple[str, ...]:
    """The input options of a pass that only measures `path`: the audio alone (`AUDIO_ONLY`) and,
    for a RIFF/RF64 WAVE file, larger packets (`-max_size` is the wav demuxer's own option, which
    every other demuxer refuses, so it is given only where the file's header says WAVE)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        head = b""
    wave = head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE"
    return (*AUDIO_ONLY, *(("-max_size", str(WAV_PACKET_BYTES)) if wave else ()))


def in_graph() -> bool:
    """Whether measuring passes decode inside the filter graph (see the module's note)."""
    caps = ffmpeg.checked()
    return caps.threaded_outputs and "amovie" in caps.filters


def source(path: str | os.PathLike, *, demuxer: str | None = None, start: float | None = None,
           end: float | None = None) -> str:
    """Filter-graph text that decodes the first audio stream of `path` inside the graph, from
    `start` to `end` seconds of its own timeline (exactly: the seek lands on a packet before it),
    its timestamps from zero, as `-ss START -t LENGTH -i PATH` gives them. `demuxer` forces the
    format (a pipe has no name to guess it from)."""
    options = [f"filename={filter_value(path)}", "s=a\\\\:0"]
    if demuxer:
        options.append(f"f={demuxer}")
    if start:
        options.append(f"sp={start:.3f}")
    bounds = [f"start={start:.3f}"] if start else []
    bounds += [f"end={end:.3f}"] if end is not None else []
    trim = f",atrim={':'.join(bounds)}" if bounds else ""
    return f"amovie={':'.join(options)}{trim},asetpts=PTS-STARTPTS"


def span_options(start: float | None = None, end: float | None = None) -> list[str]:
    """The input options that read `start` to `end` seconds the usual way (`-ss`, `-t`): what
    `source` reads inside the graph."""
    return [*(["-ss", f"{start:.3f}"] if start else []), *(["-t", f"{end - (start or 0):.3f}"] if end else [])]


def filter_value(path: str | os.PathLike) -> str:
    """A file name as an option value inside -filter_complex: escaped for the option parser, then
    for the graph parser (ffmpeg-filters(1), "Notes on filtergraph escaping")."""
    text = os.fspath(path)
    for char in "\\':":
        text = text.replace(char, "\\" + char)
    for char in "\\'[],;":
        text = text.replace(char, "\\" + char)
    return text


__all__ = ["AUDIO_ONLY", "BATCH", "OUT_BATCH", "WAV_PACKET_BYTES", "filter_value", "in_graph", "input_options",
           "source", "span_options"]
