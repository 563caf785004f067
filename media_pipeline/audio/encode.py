"""The encode pass: one ffmpeg run that applies a normalisation plan and writes every rendition
(one run per rendition, at once, on an ffmpeg older than 7, which encodes on one thread), while a
second ffmpeg measures each encoded stream as it is written (EBU R128, true peak).

Each output goes through ffmpeg's tee muxer to its file and to a named pipe that a verifier reads,
so the verification costs a second core rather than a second pass over the file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg, loudness
from media_pipeline.audio.graph import filter_graph, write_commands
from media_pipeline.audio.planning import Branch, Plan
from media_pipeline.errors import PipelineError
from media_pipeline.model import Loudness

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Output:
    """One file the encode pass writes: where, what role, which codec."""

    path: Path
    kind: str  # "mp3", "m4a" or "mp4" (video copied, or re-encoded when MP4 cannot carry it)
    bitrate_kbps: int
    video_codec: str | None = None  # the source's video codec, for "mp4"
    video_short_side: int | None = None  # the source picture's short side, for "mp4"

    @property
    def codec(self) -> str:
        return "mp3" if self.kind == "mp3" else "aac"

    @property
    def stream_format(self) -> str:
        """How the encoded audio travels through the verification pipe."""
        return "mp3" if self.kind == "mp3" else "adts"

    @property
    def pipe_demuxer(self) -> str:
        return "mp3" if self.kind == "mp3" else "aac"


def encode(the_plan: Plan, outputs: tuple[Output, ...], branches: tuple[Branch, ...], *,
           duration: float, progress: ffmpeg.Progress | None = None) -> tuple[Loudness, ...]:
    """Run the plan into `outputs` (one branch each) and return each one's measured loudness.

    ffmpeg 7 and later run each encoder on a thread of its own, so one run for all outputs uses a
    core per output. Older ones (the 5.1 and 6.1 of Debian and Ubuntu) encode every output of a run
    on one thread, where a webinar's AAC and MP3 took their sum: there each output gets a run of
    its own, at once.
    """
    settings = the_plan.settings
    separate = len(outputs) > 1 and not ffmpeg.checked().threaded_outputs
    inputs: list[str | os.PathLike] = []
    for segment in the_plan.segments:
        inputs += ["-i", segment.path]
    # the pipes and the levelling commands live beside the outputs (a cache staging folder), so a
    # killed run's are swept with it
    folder = outputs[0].path.parent
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=folder) as pipes:
        commands = write_commands(the_plan, Path(pipes))
        fifos = _make_fifos(Path(pipes), len(outputs))
        groups = [(i,) for i in range(len(outputs))] if separate else [tuple(range(len(outputs)))]
        paced = _costliest(outputs) if separate else 0
        runs = []
        for group in groups:
            # each run's graph has only its own outputs (`[out0]` on), computed as in one run for all
            args = [*inputs, "-filter_complex", filter_graph(the_plan, branches, settings.sample_rate,
                                                             commands=commands, keep=group)]
            for k, i in enumerate(group):
                args += _output_args(k, outputs[i], settings.channels, fifos[i] if fifos else None)
            runs.append((args, outputs[group[0]].path if len(group) == 1 else folder))
        if not fifos:
            _run_all(runs, paced, the_plan, duration, progress)
            return tuple(_measure_file(o) for o in outputs)
        encoded = threading.Event()
        with ThreadPoolExecutor(max_workers=len(outputs), thread_name_prefix="verify") as pool:
            verifiers = [pool.submit(_verify, fifo, o, encoded) for fifo, o in zip(fifos, outputs)]
            try:
                _run_all(runs, paced, the_plan, duration, progress)
            finally:
                encoded.set()
                for fifo, verifier in zip(fifos, verifiers):
                    _release(fifo, verifier)
            return tuple(_result(v, o) for v, o in zip(verifiers, outputs))


def _run_all(runs: list[tuple[list, Path]], paced: int, the_plan: Plan, duration: float,
             progress: ffmpeg.Progress | None) -> None:
    """Run each (arguments, file written) at once. `paced` is the one that takes longest: it reports
    the progress (the outputs share one timeline) and keeps the usual priority, the others run
    SIDE_RUN_NICE steps lower. Every run is waited for, then the first failure is raised."""
    if len(runs) == 1:
        args, writes = runs[0]
        ffmpeg.run(args, what=the_plan.main.path, duration=duration, progress=progress, writes=writes)
        return
    with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="encode") as pool:
        done = [pool.submit(ffmpeg.run, args, what=the_plan.main.path, duration=duration,
                            progress=progress if k == paced else None, writes=writes,
                            nice=0 if k == paced else SIDE_RUN_NICE)
                for k, (args, writes) in enumerate(runs)]
        for future in done:
            future.result()


# Where each output has a run of its own, the costliest sets the pace: the one with video, else
# one with AAC (ffmpeg's AAC encoder takes about 1.7 times LAME's time). The others run this much
# lower, so the scheduler gives it a core of its own: a 10-minute webinar on ffmpeg 5.1 and 2 cores
# took 14.0 to 14.7 s with all at one priority, 13.0 to 13.4 s with the MP3 5 steps lower.
SIDE_RUN_NICE = 5


def _costliest(outputs: tuple[Output, ...]) -> int:
    return max(range(len(outputs)), key=lambda i: (outputs[i].kind == "mp4", outputs[i].codec == "aac", -i))


def _output_args(i: int, output: Output, channels: int, fifo: Path | None) -> list[str | os.PathLike]:
    args: list[str | os.PathLike] = []
    if output.kind == "mp4":
        args += ["-map", "0:v:0", *video_args(output.video_codec, output.video_short_side)]
    args += ["-map", f"[out{i}]", "-ac", str(channels), "-map_metadata", "-1", "-map_chapters", "-1"]
    if output.codec == "mp3":
        # CBR: Apple and most apps estimate MP3 duration and seek positions from the bitrate.
        args += ["-c:a", "libmp3lame", "-b:a", f"{output.bitrate_kbps}k"]
        muxer, options = "mp3", {"id3v2_version": "0"}  # untagged: the tag stage writes the tags
    else:
        args += ["-c:a", "aac", "-b:a", f"{output.bitrate_kbps}k"]
        # moov first, so podcast apps can start playing before the whole file has arrived
        muxer, options = ("mp4" if output.kind == "mp4" else "ipod"), {"movflags": "+faststart"}
    if fifo is None:
        return [*args, "-f", muxer, *[a for k, v in options.items() for a in (f"-{k}", v)], output.path]
    to_file = ":".join([f"f={muxer}", *(f"{k}={v}" for k, v in options.items())])
    # onfail=ignore: should the verifier stop reading, the file is still written in full
    to_pipe = f"f={output.stream_format}:onfail=ignore" + (":select=\\'a\\'" if output.kind == "mp4" else "")
    return [*args, "-f", "tee", f"[{to_file}]{_tee_escape(output.path)}|[{to_pipe}]{_tee_escape(fifo)}"]


# Video codecs that podcast apps play from an MP4 (Apple: H.264 or HEVC in .mp4, .m4v or .mov):
# these are copied packet for packet. Anything else (VP8 and VP9 from WebM, AV1, MPEG-2, ...) is
# re-encoded to H.264, which every app plays; stream-copying VP8 into MP4 fails outright.
COPY_VIDEO_CODECS = frozenset({"h264", "hevc"})
# ... and only up to 1080p: Apple's podcast video spec stops at 1920x1080 and a 4K export is four
# times the bytes for a listener's screen. A larger picture is re-encoded with its short side 1080.
MAX_COPY_SHORT_SIDE = 1080
# x264 for screen recordings: `veryfast` keeps an hour of 1080p near real time on two cores, CRF 23
# is x264's default quality; yuv420p is the only pixel format every hardware decoder takes.
REENCODE_VIDEO = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]


def copies_video(codec: str | None, short_side: int | None) -> bool:
    """Whether the picture goes into the MP4 packet for packet (else it is re-encoded to H.264)."""
    return codec in COPY_VIDEO_CODECS and (short_side or 0) <= MAX_COPY_SHORT_SIDE


def video_args(codec: str | None, short_side: int | None = None) -> list[str]:
    """How the picture goes into the MP4: copied when apps can play it, else re-encoded to H.264,
    brought down to a short side of MAX_COPY_SHORT_SIDE when it is larger (never upscaled)."""
    if (short_side or 0) > MAX_COPY_SHORT_SIDE:
        side = MAX_COPY_SHORT_SIDE
        scale = f"scale=w='if(gte(iw\\,ih)\\,-2\\,{side})':h='if(gte(iw\\,ih)\\,{side}\\,-2)':flags=lanczos"
        return [*REENCODE_VIDEO, "-vf", scale]
    if copies_video(codec, short_side):
        # hvc1: the HEVC sample entry Apple's players require (ffmpeg writes hev1 by default)
        return ["-c:v", "copy", *(["-tag:v", "hvc1"] if codec == "hevc" else [])]
    return REENCODE_VIDEO


def _tee_escape(path: Path) -> str:
    """Escape a file name for the tee muxer's slave list (its special characters are \\ | [ ] ')."""
    text = os.fspath(path)
    for char in "\\|[]'":
        text = text.replace(char, "\\" + char)
    return text


def _make_fifos(folder: Path, count: int) -> list[Path]:
    """Named pipes for the verifiers, or none where the system has none (then measure after)."""
    if not hasattr(os, "mkfifo"):
        return []
    fifos = [folder / f"verify{i}" for i in range(count)]
    for fifo in fifos:
        os.mkfifo(fifo)
    return fifos


def _verify(fifo: Path, output: Output, encoded: threading.Event) -> Loudness:
    """Measure the encoded stream from its pipe; if the measuring fails, keep the pipe drained so
    the encoder never blocks on it, and report the failure (the file is then measured directly)."""
    try:
        # at a lower priority: where the encoders and verifiers want more CPU than there is (a
        # webinar's AAC and MP3), the encoders get it first and the verifiers take what is left
        return loudness.measure_stream(fifo, output.pipe_demuxer, what=output.path, nice=ffmpeg.BACKGROUND_NICE)
    except BaseException:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while not encoded.is_set():
                try:
                    if os.read(fd, 1 << 16) == b"":
                        time.sleep(0.02)
                except BlockingIOError:
                    time.sleep(0.005)
        finally:
            os.close(fd)
        raise


def _release(fifo: Path, verifier: Future) -> None:
    """Unblock a verifier still waiting for a writer (the encoder failed before opening its pipe)."""
    while not verifier.done():
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader yet, or it already has its writer: wait a moment
            time.sleep(0.02)
            continue
        os.close(fd)
        time.sleep(0.02)


def _result(verifier: Future, output: Output) -> Loudness:
    try:
        return verifier.result()
    except PipelineError as exc:
        # The file is complete even when the pipe's reader failed; measure it directly.
        log.warning("verifying %s through a pipe failed (%s); measuring the file", output.path, exc)
        return _measure_file(output)


def _measure_file(output: Output) -> Loudness:
    return loudness.measure(output.path, peak="resampled")

