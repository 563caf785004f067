"""The one place that starts ffmpeg: runs it with the argv logged and progress reported, and
explains a failure in one line naming its first cause.

Choosing and checking the binary is `binary`, supervising the children `children`; their public
names are re-exported here, so callers speak to `ffmpeg` alone.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
from collections import deque
from typing import Callable, Sequence

from media_pipeline.audio.binary import (  # noqa: F401  (re-exported: callers name ffmpeg alone)
    CHOOSE, ENV_FFMPEG, REQUIRED_DEMUXERS, REQUIRED_ENCODERS, REQUIRED_FILTERS, REQUIRED_MUXERS, REQUIRED_OPTIONS,
    SYNTH_ENCODERS, SYNTH_FILTERS, THREADED_LIBAVCODEC, Capabilities, alimiter_latency, binary, capabilities, check,
    checked, ebur128_log, identity, require)
from media_pipeline.audio.children import (  # noqa: F401
    BACKGROUND_NICE, STOP_SIGNALS, Interrupted, _check_stopping, forget, popen, stop_signal, terminate_children)
from media_pipeline.errors import FFmpegError

__all__ = ["BACKGROUND_NICE", "CHOOSE", "ENV_FFMPEG", "HEAD_LINES", "REQUIRED_DEMUXERS", "REQUIRED_ENCODERS",
           "REQUIRED_FILTERS", "REQUIRED_MUXERS", "REQUIRED_OPTIONS", "STOP_SIGNALS", "SYNTH_ENCODERS", "SYNTH_FILTERS",
           "TAIL_LINES", "THREADED_LIBAVCODEC", "Capabilities", "Interrupted", "Progress", "alimiter_latency", "binary",
           "capabilities", "check", "checked", "ebur128_log", "explain", "identity", "popen", "require", "run",
           "stop_signal", "terminate_children"]

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
"""Called with the fraction done, 0.0 to 1.0."""

# How much of a run's stderr is kept (see `run`): the first lines, where ffmpeg names the input,
# the streams and the first cause of a failure, and the last, where filters print their
# summaries (two ebur128 summaries interleaved take about 40) and the trailer.
HEAD_LINES = 200
TAIL_LINES = 200

def run(
    args: Sequence[str | os.PathLike],
    *,
    what: str | os.PathLike,
    duration: float | None = None,
    progress: Progress | None = None,
    capture_stdout: bool = False,
    stdin_data: bytes | None = None,
    writes: str | os.PathLike | None = None,
    nice: int = 0,
    lines: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess:
    """Run `ffmpeg ARGS`; on failure raise FFmpegError naming `what` with ffmpeg's own reason.

    stderr is read as it comes and never kept whole: the returned `stderr` holds its first
    HEAD_LINES and last TAIL_LINES lines (where ffmpeg says what went wrong, and where a filter
    prints its summary); a caller that reads lines from the middle (a frame log, silence events)
    passes `lines`, called with every line as it arrives, and keeps what it needs. With
    `progress` and a known `duration`, `-progress` lines drive the callback.
    `writes` is the file being written, named instead of `what` when the disk is full or a
    file-size limit is hit (any other failure names `what`).
    `nice`: how many steps lower the run's priority is. Work that runs beside a run that matters
    more (a verifier beside its encoder) passes BACKGROUND_NICE, so the scheduler gives the
    encoders the cores first.
    """
    # -nostats: the status line would otherwise land in stderr between the lines of a filter's
    # report (ebur128 prints its summary in several writes), and it is noise in error messages
    argv = [binary(), "-hide_banner", "-nostdin", "-nostats", *map(os.fspath, args)]
    if progress and duration and not capture_stdout:
        argv[4:4] = ["-progress", "pipe:1"]
    log.debug("run: %s", subprocess.list2cmdline(argv))
    try:
        proc = popen(argv, nice=nice,
                     stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise FFmpegError(f"cannot start ffmpeg: {exc.strerror}", path=what) from exc
    head: list[str] = []  # the first lines: where ffmpeg says what went wrong
    tail: deque[str] = deque(maxlen=TAIL_LINES)  # the last: a filter's summary, the trailer
    count = 0

    def read_stderr() -> None:
        nonlocal count
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            count += 1
            if len(head) < HEAD_LINES:
                head.append(line)
            else:
                tail.append(line)
            if lines is not None:
                lines(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    stdout = b""
    try:
        if stdin_data is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin_data)
            proc.stdin.close()
        assert proc.stdout is not None
        if progress and duration and not capture_stdout:
            for raw in proc.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and value.isdigit():
                    progress(min(1.0, int(value) / 1e6 / duration))
            progress(1.0)
        else:
            stdout = proc.stdout.read()
        proc.wait()
    except BaseException:  # interrupted (a signal, a failing callback): never leave the child behind
        proc.kill()
        proc.wait()
        raise
    finally:
        forget(proc)
        reader.join()
    if proc.returncode != 0:
        _check_stopping()  # killed by the stop, not failed
        reason = explain([*head, *tail], proc.returncode)
        # the file being written, where writing it failed; what was being worked on, otherwise
        raise FFmpegError(reason, path=writes if writes and reason in _WRITE_FAILURES else what)
    skipped = [f"[{count - len(head) - len(tail)} lines not kept]"] if count > len(head) + len(tail) else []
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, "\n".join([*head, *skipped, *tail]))


_NOISE = ("Input #", "Output #", "Stream #", "Metadata:", "Duration:", "  ", "Press [q]", "Stream mapping",
          "size=", "video:", "frame=", "Last message repeated", "Summary:", "Integrated loudness:",
          "Loudness range:", "True peak:", "Sample peak:", "t: ")
# Lines ffmpeg prints after the real reason, whatever it was.
_TRAILERS = re.compile(
    r"^(Conversion failed|Error while filtering|Error while processing the decoded data|Failed to inject frame"
    r"|Error reinitializing filters|Error initializing complex filters|Error initializing filter"
    r"|Error applying options to the filter|Error configuring (the )?filter|Error opening (input|output) file"
    r"|Error initializing output stream|Error while opening encoder|Nothing was written into output file"
    r"|Error muxing a packet|Error submitting a packet|Task finished with error|Terminating thread with return"
    r"|Error sending frames|Error while decoding stream|Exiting normally|Error closing file|Error writing trailer"
    r"|Could not open encoder before EOF|Error marking filters as finished|Error parsing options for)", re.I)
# Lines that name a cause: preferred over any other line, in the order they appear.
_CAUSES = re.compile(
    r"Error setting option|Option '[^']+' not found|Error applying option|No such filter|Unrecognized option"
    r"|Unknown encoder|Unknown decoder|Encoder .*not found|Decoder .*not found|Requested output format"
    r"|No such file or directory|Permission denied|Invalid data found|Invalid argument|No space left on device"
    r"|File too large|Unknown input format|Unknown output format|Filter .* has an unconnected output"
    r"|Cannot find a matching stream|does not contain any stream|matches no streams", re.I)
_ERRORISH = re.compile(r"error|invalid|unable|cannot|can't|could not|couldn't|not found|no such|failed|unknown"
                       r"|unrecogni[sz]ed|not supported|does not|denied|too large|no space|must be|out of range", re.I)
_CONTEXT = re.compile(r"^(\[[^\]]+ @ (0x)?[0-9a-fA-F]+\] )+")


_DISK_FULL = "no space left on device"
_FILE_TOO_LARGE = "file too large: the file-size limit (ulimit -f) was reached while writing"
_WRITE_FAILURES = (_DISK_FULL, _FILE_TOO_LARGE)


def explain(lines: Sequence[str], returncode: int = 1) -> str:
    """The one line of ffmpeg's stderr that says what went wrong: its first cause, not a trailer.

    A full disk reads "no space left on device", a file-size limit (SIGXFSZ or EFBIG) "file too
    large"; the caller adds the path of the file being written.
    """
    if returncode == -getattr(signal, "SIGXFSZ", 25) or any("File too large" in line for line in lines):
        return _FILE_TOO_LARGE
    if any("No space left on device" in line for line in lines):
        return _DISK_FULL
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"ffmpeg was stopped by {name}"
    meaningful = []
    for line in lines:
        if not line.strip() or line.startswith(_NOISE):
            continue
        nested = _CONTEXT.match(line)
        if nested and nested.group(0).count(" @ ") > 1:
            continue  # a sub-context's detail (an expression evaluator): its parent says it plainly
        text = _CONTEXT.sub("", line).strip()
        if text and not text.startswith(_NOISE):
            meaningful.append(text)
    if not meaningful:
        return "ffmpeg failed without saying why"
    cause = (next((t for t in meaningful if _CAUSES.search(t) and not _TRAILERS.match(t)), None)
             or next((t for t in meaningful if _ERRORISH.search(t) and not _TRAILERS.match(t)), None))
    if cause is None:
        # only trailers: the one that carries a reason after its colon, else the last word
        with_reason = [t for t in meaningful if ": " in t]
        cause = with_reason[0].split(": ", 1)[1] if with_reason else meaningful[-1]
    return f"ffmpeg failed: {cause}"
