"""The one place that starts ffmpeg: chooses and checks the binary once, logs the argv, reports
progress, explains failures, and never leaves a child running when the tool is stopped.

Which ffmpeg: the one pinned by the imageio-ffmpeg wheel (a dependency, so always present after
`pip install`, the same build on every machine, and the one the encoders' loudness offsets were
fitted on), unless $MEDIA_PIPELINE_FFMPEG names another (a path, or a name looked up on PATH such
as `ffmpeg`). Only where the wheel has no binary for the platform is `ffmpeg` on PATH used.

Whichever it is, it is probed (`-version`, `-filters`, `-encoders`, `-formats`, `-h filter=...`;
once per binary, remembered in the user's cache folder) for what the pipeline uses. Options that
older versions lack but that have an equivalent are adapted (`ebur128_log()`,
`alimiter_latency()`); anything else missing refuses the binary before any work, in one line
naming it, its version, what it lacks and how to choose another.

ffprobe is never required: the ffmpeg in the imageio-ffmpeg wheel ships without it, so probing
and metadata reading are done with ffmpeg itself.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from media_pipeline.errors import FFmpegError, MediaError

log = logging.getLogger(__name__)

ENV_FFMPEG = "MEDIA_PIPELINE_FFMPEG"
CHOOSE = f"choose another with {ENV_FFMPEG}=/path/to/ffmpeg (or {ENV_FFMPEG}=ffmpeg for the one on PATH)"

Progress = Callable[[float], None]
"""Called with the fraction done, 0.0 to 1.0."""

# What the pipeline runs (normalise, loudness, encode, probe): without these nothing works.
REQUIRED_FILTERS = frozenset({"aformat", "alimiter", "anullsrc", "aresample", "asetpts", "asplit", "atrim",
                              "concat", "ebur128", "highpass", "silencedetect", "volume"})
REQUIRED_ENCODERS = frozenset({"libmp3lame", "aac", "pcm_f32le"})
REQUIRED_MUXERS = frozenset({"mp3", "ipod", "mp4", "tee", "adts", "null", "nut"})
REQUIRED_DEMUXERS = frozenset({"lavfi", "mp3", "aac", "nut"})
# Filter options the argv always passes: (filter, option, value or None)
REQUIRED_OPTIONS = (("ebur128", "peak", "true"), ("ebur128", "peak", "sample"), ("alimiter", "level", None),
                    ("alimiter", "limit", None), ("volume", "precision", None))
# The demo and test recordings (synth) need a few more.
SYNTH_FILTERS = frozenset({"anoisesrc", "lowpass", "highpass", "testsrc2", "volume"})
SYNTH_ENCODERS = frozenset({"libx264", "aac", "flac", "libmp3lame", "pcm_s16le", "pcm_f32le"})


@dataclass(frozen=True)
class Capabilities:
    """What one ffmpeg binary offers, as its own listings say."""

    path: str
    version: str
    filters: frozenset[str] = frozenset()
    encoders: frozenset[str] = frozenset()
    muxers: frozenset[str] = frozenset()
    demuxers: frozenset[str] = frozenset()
    options: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)  # filter -> option -> values
    # each output's encoder on a thread of its own: ffmpeg 7 and later (libavcodec 61), whose
    # pipeline gives every decoder, filter graph, encoder and muxer a thread
    threaded_outputs: bool = True

    def has_option(self, filter_name: str, option: str, value: str | None = None) -> bool:
        values = self.options.get(filter_name, {}).get(option)
        return values is not None and (value is None or value in values)

    def missing(self, *, filters: Iterable[str] = (), encoders: Iterable[str] = (), muxers: Iterable[str] = (),
                demuxers: Iterable[str] = (), options: Iterable[tuple[str, str, str | None]] = ()) -> list[str]:
        """What of the given this binary lacks, as words for the refusal line (empty: nothing)."""
        lacks = []
        for kind, wanted, offered in (("filter", filters, self.filters), ("encoder", encoders, self.encoders),
                                      ("muxer", muxers, self.muxers), ("demuxer", demuxers, self.demuxers)):
            wanted = set(wanted)
            if wanted and not offered:
                lacks.append(f"any {kind} (its listing of {kind}s is empty)")
            else:
                lacks += [f"the {name} {kind}" for name in sorted(wanted - offered)]
        for name, option, value in options:
            if name in self.filters and not self.has_option(name, option, value):
                lacks.append(f"{name}'s {option}={value} option" if value else f"{name}'s {option} option")
        return lacks


def _locate() -> str:
    """The path of the ffmpeg to run (not yet checked)."""
    named = os.environ.get(ENV_FFMPEG)
    if named:
        found = shutil.which(named) or (named if Path(named).is_file() else None)
        if not found:
            raise MediaError(f"{ENV_FFMPEG} names {named!r}, which is not an executable file")
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:  # no wheel binary for this platform
        on_path = shutil.which("ffmpeg")
        if on_path:
            log.info("imageio-ffmpeg has no ffmpeg here (%s); using %s from PATH", exc, on_path)
            return on_path
        raise MediaError(f"no ffmpeg found: imageio-ffmpeg has none for this platform and there is none on PATH; "
                         f"install ffmpeg or set {ENV_FFMPEG}") from exc


_lock = threading.Lock()


def check(path: str) -> Capabilities:
    """The capabilities of the ffmpeg at `path`, or FFmpegError in one line when it lacks what the
    pipeline uses: `PATH: cannot use ffmpeg VERSION: it lacks WHAT; choose another with ...`."""
    caps = capabilities(path)
    lacks = caps.missing(filters=REQUIRED_FILTERS, encoders=REQUIRED_ENCODERS, muxers=REQUIRED_MUXERS,
                         demuxers=REQUIRED_DEMUXERS, options=REQUIRED_OPTIONS)
    if lacks:
        raise FFmpegError(f"cannot use ffmpeg {caps.version}: it lacks {', '.join(lacks)}; {CHOOSE}", path=path)
    return caps


@functools.cache
def _checked() -> Capabilities:
    caps = check(_locate())
    log.info("ffmpeg: %s (version %s)", caps.path, caps.version)
    return caps


def binary() -> str:
    """The ffmpeg to run, checked once per process; raises FFmpegError when it lacks what is needed."""
    with _lock:
        return _checked().path


def checked() -> Capabilities:
    """The capabilities of the ffmpeg `binary()` runs (probing it on first use)."""
    with _lock:
        return _checked()


def require(*, filters: Iterable[str] = (), encoders: Iterable[str] = (), purpose: str) -> None:
    """Refuse, in one line, when the chosen ffmpeg lacks what `purpose` needs beyond the pipeline."""
    caps = checked()
    lacks = caps.missing(filters=filters, encoders=encoders)
    if lacks:
        raise FFmpegError(f"cannot make {purpose} with ffmpeg {caps.version}: it lacks {', '.join(lacks)}; {CHOOSE}",
                          path=caps.path)


def ebur128_log() -> str:
    """The ebur128 option that keeps its per-frame lines out of stderr.

    `framelog=quiet` is newer than ffmpeg 5.1; there, `framelog=verbose` logs the frames at the
    verbose level, which the default (info) level ffmpeg runs at does not print: the same stderr.
    """
    return "framelog=quiet" if checked().has_option("ebur128", "framelog", "quiet") else "framelog=verbose"


def alimiter_latency() -> str:
    """`:latency=true` (the limiter's look-ahead delay compensated; 5.1 has it, 4.4 not), or
    nothing where it is missing, whose limiter then delays the audio by its 5 ms attack."""
    return ":latency=true" if checked().has_option("alimiter", "latency") else ""


_VERSION = re.compile(r"^ffmpeg version (\S+)", re.M)
_LIBAVCODEC = re.compile(r"^libavcodec\s+(\d+)\.", re.M)
# libavcodec's major version in ffmpeg 7.0, the first whose encoders run on threads of their own
THREADED_LIBAVCODEC = 61
_FILTER = re.compile(r"^ [A-Z.]{2,3} (\S+)\s+\S*->\S*", re.M)
_ENCODER = re.compile(r"^ [VAS][A-Z.]{5} (\S+)", re.M)
_FORMAT = re.compile(r"^ (D| )(E| )(?:d| )? +(\S+) ", re.M)
_OPTION = re.compile(r"^   (?! )(\S+)\s+<", re.M)
_VALUE = re.compile(r"^     (?! )(\S+)\s")
_PROBED_OPTIONS = ("ebur128", "alimiter", "volume")


@functools.cache
def capabilities(path: str) -> Capabilities:
    """What the binary at `path` offers: asked once per process, and remembered on disk.

    Asking takes seven short runs (about 70 ms, more than the analysis of a minute of audio), so
    the answer is kept in the user's cache folder (`$XDG_CACHE_HOME/media-pipeline/ffmpeg/`, else
    `~/.cache/...`) under the binary's identity: its resolved path, size, modification time and
    inode. A binary replaced or upgraded in place is asked again; where the folder cannot be
    written, every process asks.
    """
    remembered = _probe_cache_file(path)
    if remembered is not None:
        try:
            return _from_json(path, json.loads(remembered.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not there yet, or unreadable: ask the binary
    caps = _ask(path)
    if remembered is not None:
        try:
            from media_pipeline.util.fsutil import atomic_write

            remembered.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(remembered, json.dumps(_to_json(caps), sort_keys=True).encode("utf-8"))
        except OSError as exc:
            log.debug("cannot remember ffmpeg's capabilities in %s: %s", remembered, exc)
    return caps


# Bump when Capabilities or what is probed changes: the remembered answers are then asked again.
_PROBE_CACHE_FORMAT = 2


def _probe_cache_file(path: str) -> Path | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no usable home (XDG says: ignore a relative path)
        return None
    identity = json.dumps([_PROBE_CACHE_FORMAT, os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino,
                           st.st_dev, sorted(_PROBED_OPTIONS)])
    return Path(base, "media-pipeline", "ffmpeg", hashlib.sha256(identity.encode()).hexdigest()[:32] + ".json")


def _to_json(caps: Capabilities) -> dict:
    return {"version": caps.version, "filters": sorted(caps.filters), "encoders": sorted(caps.encoders),
            "muxers": sorted(caps.muxers), "demuxers": sorted(caps.demuxers),
            "options": {f: {o: sorted(v) for o, v in opts.items()} for f, opts in caps.options.items()},
            "threaded_outputs": caps.threaded_outputs}


def _from_json(path: str, data: dict) -> Capabilities:
    return Capabilities(
        path=path, version=str(data["version"]), filters=frozenset(data["filters"]),
        encoders=frozenset(data["encoders"]), muxers=frozenset(data["muxers"]), demuxers=frozenset(data["demuxers"]),
        options={f: {o: frozenset(v) for o, v in opts.items()} for f, opts in data["options"].items()},
        threaded_outputs=bool(data["threaded_outputs"]))


def _ask(path: str) -> Capabilities:
    """Ask the binary at `path` what it offers: one short run per listing, run at once."""
    listings = {"version": ["-version"], "filters": ["-filters"], "encoders": ["-encoders"],
                "formats": ["-formats"], **{f: ["-h", f"filter={f}"] for f in _PROBED_OPTIONS}}
    procs = {}
    try:
        for name, args in listings.items():
            procs[name] = subprocess.Popen([path, "-hide_banner", *args], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        texts = {name: proc.communicate(timeout=60)[0].decode("utf-8", "replace") for name, proc in procs.items()}
    except (OSError, subprocess.TimeoutExpired) as exc:
        for proc in procs.values():
            proc.kill()
        reason = exc.strerror if isinstance(exc, OSError) else "it did not answer -version within a minute"
        raise FFmpegError(f"cannot run it as ffmpeg: {reason}; {CHOOSE}", path=path) from exc
    version = _VERSION.search(texts["version"])
    if procs["version"].returncode != 0 or not version:
        first = next((line for line in texts["version"].splitlines() if line.strip()), "no output")
        raise FFmpegError(f"is not an ffmpeg (-version said: {first[:120]}); {CHOOSE}", path=path)
    formats = _FORMAT.findall(texts["formats"])
    options = {f: _options(texts[f]) for f in _PROBED_OPTIONS}
    # a build that does not say (none known) is taken for a current one
    libavcodec = _LIBAVCODEC.search(texts["version"])
    return Capabilities(
        path=path, version=version.group(1),
        filters=frozenset(_FILTER.findall(texts["filters"])),
        encoders=frozenset(_ENCODER.findall(texts["encoders"])),
        muxers=frozenset(n for d, e, names in formats if e == "E" for n in names.split(",")),
        demuxers=frozenset(n for d, e, names in formats if d == "D" for n in names.split(",")),
        options=options,
        threaded_outputs=libavcodec is None or int(libavcodec.group(1)) >= THREADED_LIBAVCODEC)


def _options(text: str) -> dict[str, frozenset[str]]:
    """Options of one filter and the named values of each, from `ffmpeg -h filter=NAME`."""
    found: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        option = _OPTION.match(line)
        if option:
            current = found.setdefault(option.group(1), set())
            continue
        value = _VALUE.match(line)
        if value and current is not None:
            current.add(value.group(1))
    return {k: frozenset(v) for k, v in found.items()}


# --- running ---------------------------------------------------------------------------------------

_children: set[subprocess.Popen] = set()
# re-entrant: the signal handler takes it in the main thread, which may hold it already
_children_lock = threading.RLock()
_stopping = threading.Event()
_stop_signal: list[int] = []
# How much lower a background run's priority is (see `run`). Measured on a 10-minute webinar on 2
# cores, whose AAC encoder, MP3 encoder and two verifiers want more CPU than there is: 15.9 s with
# the verifiers at the encoders' priority, 13.7 s with them 10 steps lower (19: no better).
BACKGROUND_NICE = 10
# The signals a run stops on (see the command line's handler).
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n))


class Interrupted(BaseException):
    """A stop signal arrived: unwind (removing temporary folders) and exit 128+N.

    A BaseException, so that no handler meant for a failed episode takes it for one."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - every Linux libc has it
        return None


_PRCTL = _prctl()
_PR_SET_PDEATHSIG = 1


def _child_setup(parent: int, mask: set[int], nice: int) -> Callable[[], None]:
    """In the child before exec: die when this process dies (even by SIGKILL), take back the
    signal mask the parent had before it blocked the stop signals around the start, and lower the
    child's priority by `nice`."""

    def die_with_parent() -> None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if nice:
            os.nice(nice)
        if os.getppid() != parent:  # the parent died before the line above: do not outlive it
            os._exit(1)

    return die_with_parent


def _lower_priority(nice: int) -> Callable[[], None] | None:
    return (lambda: os.nice(nice)) if nice and hasattr(os, "nice") else None


def stop_signal() -> int | None:
    """The stop signal this process received, if any."""
    return _stop_signal[0] if _stop_signal else None


def terminate_children(signum: int | None = None) -> None:
    """Stop every ffmpeg this process started and start no more (a signal handler's first act)."""
    if signum is not None and not _stop_signal:
        _stop_signal.append(signum)
    _stopping.set()
    with _children_lock:
        running = list(_children)
    for proc in running:
        try:
            proc.kill()
        except OSError:
            pass


def _check_stopping() -> None:
    if _stopping.is_set():
        raise Interrupted(stop_signal() or signal.SIGTERM)


def popen(argv: Sequence[str], *, nice: int = 0, **kwargs) -> subprocess.Popen:
    """Start a child that dies with this process and is stopped by `terminate_children`, `nice`
    steps below this process's priority.

    On Linux the child is told to die with this process, which takes code run between fork and
    exec. Python runs its fork handlers (logging's lock among them) around that; a signal handler
    that raised inside one would leave the lock taken or its exception ignored. So the stop signals
    wait, blocked, until the child has started; the child takes back the usual mask before exec."""
    _check_stopping()
    if _PRCTL is None:
        proc = subprocess.Popen(argv, preexec_fn=_lower_priority(nice), **kwargs)
        with _children_lock:
            _children.add(proc)
    else:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            proc = subprocess.Popen(argv, preexec_fn=_child_setup(os.getpid(), mask, nice), **kwargs)
            with _children_lock:
                _children.add(proc)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending stop signal is handled here
    if _stopping.is_set():  # set while this thread was starting it: it missed the kill
        proc.kill()
    return proc


def _forget(proc: subprocess.Popen) -> None:
    with _children_lock:
        _children.discard(proc)


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
) -> subprocess.CompletedProcess:
    """Run `ffmpeg ARGS`; on failure raise FFmpegError naming `what` with ffmpeg's own reason.

    stderr is read as it comes (never buffered whole in memory beyond the lines kept for the
    error message); with `progress` and a known `duration`, `-progress` lines drive the callback.
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
    stderr_lines: list[str] = []
    head: list[str] = []  # the first lines: where ffmpeg says what went wrong
    tail: deque[str] = deque(maxlen=40)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if len(head) < 200:
                head.append(line)
            tail.append(line)
            stderr_lines.append(line)

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
        _forget(proc)
        reader.join()
    if proc.returncode != 0:
        _check_stopping()  # killed by the stop, not failed
        lines = head if len(stderr_lines) <= len(head) else [*head, *tail]
        reason = explain(lines, proc.returncode)
        # the file being written, where writing it failed; what was being worked on, otherwise
        raise FFmpegError(reason, path=writes if writes and reason in _WRITE_FAILURES else what)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, "\n".join(stderr_lines))


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
