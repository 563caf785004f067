"""The one place that starts ffmpeg: finds the binary once, logs the argv, reports progress.

ffprobe is never required: the ffmpeg in the imageio-ffmpeg wheel ships without it, so probing
and metadata reading are done with ffmpeg itself.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Sequence

from .errors import FFmpegError, MediaError

log = logging.getLogger(__name__)

ENV_FFMPEG = "MEDIA_PIPELINE_FFMPEG"

Progress = Callable[[float], None]
"""Called with the fraction done, 0.0 to 1.0."""


@functools.cache
def binary() -> str:
    """The ffmpeg to run: $MEDIA_PIPELINE_FFMPEG, else `ffmpeg` on PATH, else imageio-ffmpeg's."""
    named = os.environ.get(ENV_FFMPEG)
    if named:
        if not (shutil.which(named) or Path(named).is_file()):
            raise MediaError(f"{ENV_FFMPEG} names {named!r}, which is not an executable file")
        return shutil.which(named) or named
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise MediaError("no ffmpeg found: install ffmpeg or the imageio-ffmpeg package") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def run(
    args: Sequence[str | os.PathLike],
    *,
    what: str | os.PathLike,
    duration: float | None = None,
    progress: Progress | None = None,
    capture_stdout: bool = False,
    stdin_data: bytes | None = None,
) -> subprocess.CompletedProcess:
    """Run `ffmpeg ARGS`; on failure raise FFmpegError naming `what` with ffmpeg's last words.

    stderr is read as it comes (never buffered whole in memory beyond the tail kept for the
    error message); with `progress` and a known `duration`, `-progress` lines drive the callback.
    """
    # -nostats: the status line would otherwise land in stderr between the lines of a filter's
    # report (ebur128 prints its summary in several writes), and it is noise in error messages
    argv = [binary(), "-hide_banner", "-nostdin", "-nostats", *map(os.fspath, args)]
    if progress and duration and not capture_stdout:
        argv[4:4] = ["-progress", "pipe:1"]
    log.debug("run: %s", subprocess.list2cmdline(argv))
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise FFmpegError(f"cannot start ffmpeg: {exc.strerror}", path=what) from exc
    stderr_lines: list[str] = []
    tail: deque[str] = deque(maxlen=40)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            tail.append(line)
            stderr_lines.append(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    stdout = b""
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
    reader.join()
    if proc.returncode != 0:
        raise FFmpegError(_explain(tail), path=what)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, "\n".join(stderr_lines))


def _explain(tail: deque[str]) -> str:
    """The one line of ffmpeg's stderr that says what went wrong, without the noise."""
    noise = ("Input #", "Output #", "Stream #", "Metadata:", "Duration:", "  ", "Press [q]", "Stream mapping")
    meaningful = [line.strip() for line in tail if line.strip() and not line.startswith(noise)]
    if not meaningful:
        return "ffmpeg failed without saying why"
    reason = re.sub(r"^\[[^\]]+ @ 0x[0-9a-f]+\] ", "", meaningful[-1])
    if reason.startswith("Error opening input"):
        # "Error opening input files: Invalid data found when processing input": the reason is after ':'
        reason = reason.split(": ", 1)[1] if ": " in reason else reason
    return f"ffmpeg failed: {reason}"
