"""Which ffmpeg runs, and what it offers: chosen and checked once per process.

The one pinned by the imageio-ffmpeg wheel (a dependency, so always present after `pip install`,
the same build on every machine, and the one the encoders' loudness offsets were fitted on),
unless $MEDIA_PIPELINE_FFMPEG names another (a path, or a name looked up on PATH such as
`ffmpeg`). Only where the wheel has no binary for the platform is `ffmpeg` on PATH used.

Whichever it is, it is probed (`-version`, `-filters`, `-encoders`, `-formats`, `-h filter=...`;
once per binary, remembered in the user's cache folder) for what the pipeline uses. Options that
older versions lack but that have an equivalent are adapted (`ebur128_log()`,
`alimiter_latency()`); anything else missing refuses the binary before any work, in one line
naming it, its version, what it lacks and how to choose another.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from media_pipeline.errors import FFmpegError, MediaError
from media_pipeline.util import filememo

log = logging.getLogger("media_pipeline.audio.ffmpeg")

log = logging.getLogger(__name__)

ENV_FFMPEG = "MEDIA_PIPELINE_FFMPEG"
CHOOSE = f"choose another with {ENV_FFMPEG}=/path/to/ffmpeg (or {ENV_FFMPEG}=ffmpeg for the one on PATH)"

# What the pipeline runs (normalise, loudness, encode, probe): without these nothing works.
REQUIRED_FILTERS = frozenset({"aformat", "alimiter", "anullsrc", "aresample", "asetnsamples", "asetpts", "asplit",
                              "atrim", "concat", "ebur128", "highpass", "silencedetect", "volume"})
REQUIRED_ENCODERS = frozenset({"libmp3lame", "aac", "pcm_f32le"})
REQUIRED_MUXERS = frozenset({"mp3", "ipod", "mp4", "tee", "adts", "null", "nut"})
REQUIRED_DEMUXERS = frozenset({"lavfi", "mp3", "aac", "nut"})
# Filter options the argv always passes: (filter, option, value or None)
REQUIRED_OPTIONS = (("ebur128", "peak", "true"), ("ebur128", "peak", "sample"), ("ebur128", "peak", "none"),
                    ("alimiter", "level", None), ("alimiter", "limit", None), ("volume", "precision", None))
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
    `~/.cache/...`), a memo per resolved path kept by the binary's stat stamp
    (`util.filememo`): a binary replaced or upgraded in place is asked again; where the folder
    cannot be written, every process asks.
    """
    memo, under = _probe_memo(path)
    remembered = memo.get(under)
    if remembered is not None:
        try:
            return _from_json(path, remembered)
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # from another format: ask the binary
    caps = _ask(path)
    memo.put(under, _to_json(caps))
    return caps


def identity() -> str:
    """The ffmpeg in use as its output depends on it: its version string (`ffmpeg version X`).
    Part of the build cache's key, since the encoders' offsets were fitted on one build."""
    return checked().version


# Bump when Capabilities or what is probed changes: the remembered answers are then asked again.
_PROBE_CACHE_FORMAT = 3


def _probe_memo(path: str) -> tuple[filememo.Memo, list | None]:
    """The memo of the binary at `path` and the identity it is kept under (None: not kept)."""
    found = filememo.stamp(path)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if found is None or not os.path.isabs(base):  # no usable home (XDG says: ignore a relative path)
        return filememo.Memo(None), None
    real = os.path.realpath(path)
    name = filememo.memo_name(_PROBE_CACHE_FORMAT, real)
    return (filememo.Memo(Path(base, "media-pipeline", "ffmpeg", name)),
            [_PROBE_CACHE_FORMAT, real, found, sorted(_PROBED_OPTIONS)])


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
