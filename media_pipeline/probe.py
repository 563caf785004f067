"""What is in a media file: container, duration and streams, read from `ffmpeg -i` (no ffprobe).

Bad input is refused here, before any audio work, with one line naming the file and the reason.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from . import ffmpeg
from .errors import FFmpegError, MediaError
from .model import MediaInfo, Stream

log = logging.getLogger(__name__)

# Demuxers whose recordings the pipeline accepts, by the name `ffmpeg -i` prints for them.
SUPPORTED_CONTAINERS = {
    "wav": "WAV", "w64": "WAV", "rf64": "WAV", "aiff": "AIFF", "caf": "CAF", "flac": "FLAC", "mp3": "MP3",
    "aac": "AAC", "ogg": "Ogg", "mov,mp4,m4a,3gp,3g2,mj2": "MP4/M4A/MOV", "matroska,webm": "MKV/WebM",
}
MEDIA_SUFFIXES = {".wav", ".w64", ".aif", ".aiff", ".caf", ".flac", ".mp3", ".aac", ".ogg", ".oga", ".opus",
                  ".m4a", ".mp4", ".m4v", ".mov", ".mkv", ".mka", ".webm"}
_SUPPORTED_TEXT = "WAV, AIFF, FLAC, MP3, AAC/M4A, Ogg/Opus, MP4, MOV, MKV or WebM"

_INPUT = re.compile(r"^Input #0, (?P<container>.+?), from '", re.M)
_DURATION = re.compile(r"^\s+Duration: (?:(?P<h>\d+):(?P<m>\d+):(?P<s>[\d.]+)|N/A)", re.M)
_STREAM = re.compile(
    r"^\s+Stream #0:(?P<index>\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: "
    r"(?P<kind>Audio|Video|Subtitle|Data|Attachment): (?P<codec>[\w-]+)(?P<rest>.*)$", re.M)
_RATE = re.compile(r", (\d+) Hz")
_LAYOUT = re.compile(r"Hz, ([^,]+)")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})")
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "3.0(back)": 3, "4.0": 4, "quad": 4, "quad(side)": 4,
             "3.1": 4, "5.0": 5, "5.0(side)": 5, "4.1": 5, "5.1": 6, "5.1(side)": 6, "6.0": 6, "6.1": 7,
             "7.0": 7, "7.1": 8, "7.1(wide)": 8, "downmix": 2}


def probe(path: Path) -> MediaInfo:
    """Streams, duration and container of `path`; raises MediaError for anything unusable.

    Refused, each with its own reason: a missing file, an empty file, data ffmpeg cannot read,
    a format that is not a recording (an image, subtitles, text), and a file without audio.
    """
    path = Path(path)
    if not path.exists():
        raise MediaError("file not found", path=path)
    if path.is_dir():
        raise MediaError("is a folder, not a media file", path=path)
    if path.stat().st_size == 0:
        raise MediaError("empty file (0 bytes)", path=path)
    if not os.access(path, os.R_OK):
        raise MediaError("cannot read: permission denied", path=path)
    try:
        # A silent second input keeps ffmpeg's exit code 0 whatever the file holds, so the
        # streams it lists can be read; -t 0 stops before any decoding.
        result = ffmpeg.run(["-i", path, "-f", "lavfi", "-i", "anullsrc", "-map", "1:a", "-t", "0", "-f", "null", "-"],
                            what=path)
    except FFmpegError as exc:
        raise _refusal(path, exc.reason) from None
    info = parse(result.stderr, path)
    log.debug("probe: %s: %s, %.1f s, %d streams", path, info.container, info.duration, len(info.streams))
    return info


def parse(stderr: str, path: Path) -> MediaInfo:
    """Read the `Input #0` block of ffmpeg's stderr and check the file is a usable recording."""
    block = stderr.split("Input #1", 1)[0]
    found = _INPUT.search(block)
    if not found:
        raise MediaError("unreadable: ffmpeg found no container in it", path=path)
    container = found.group("container")
    if container not in SUPPORTED_CONTAINERS:
        raise MediaError(f"unsupported format {container!r}; use {_SUPPORTED_TEXT}", path=path)
    streams = tuple(_stream(m) for m in _STREAM.finditer(block))
    duration_match = _DURATION.search(block)
    duration = 0.0
    if duration_match and duration_match.group("h") is not None:
        duration = int(duration_match.group("h")) * 3600 + int(duration_match.group("m")) * 60 + float(
            duration_match.group("s"))
    info = MediaInfo(path=path, container=container, duration=duration, streams=streams)
    if info.audio is None:
        kinds = ", ".join(sorted({s.kind for s in streams})) or "nothing"
        raise MediaError(f"no audio stream (found {kinds})", path=path)
    if duration <= 0:
        raise MediaError("no duration: the file holds no playable audio", path=path)
    return info


def _stream(match: re.Match) -> Stream:
    kind = match.group("kind").lower()
    rest = match.group("rest")
    sample_rate = channels = width = height = None
    if kind == "audio":
        rate = _RATE.search(rest)
        sample_rate = int(rate.group(1)) if rate else None
        layout = _LAYOUT.search(rest)
        if layout:
            name = layout.group(1).strip()
            counted = re.match(r"(\d+) channels", name)
            channels = int(counted.group(1)) if counted else _CHANNELS.get(name)
    elif kind == "video":
        size = _SIZE.search(rest)
        if size:
            width, height = int(size.group(1)), int(size.group(2))
    return Stream(index=int(match.group("index")), kind=kind, codec=match.group("codec"), sample_rate=sample_rate,
                  channels=channels, width=width, height=height, attached_pic="(attached pic)" in rest)


def _refusal(path: Path, reason: str) -> MediaError:
    """Turn ffmpeg's reason for not opening a file into a plain one."""
    if "No such file" in reason:
        return MediaError("file not found", path=path)
    # ffmpeg says "Error opening input" (with or without "Invalid data found") for bytes no
    # demuxer recognises, and before version 6 "FILE: REASON" (often "Invalid argument"); the file
    # exists and is readable by now, so its content is the problem.
    if "Invalid data found" in reason or "Error opening input" in reason or f"{path}: " in reason:
        if path.suffix.lower() in MEDIA_SUFFIXES:
            return MediaError(f"corrupt or unreadable {path.suffix.lstrip('.').upper()} data", path=path)
        return MediaError(f"unsupported format ({path.suffix or 'no suffix'}); use {_SUPPORTED_TEXT}", path=path)
    return MediaError(f"unreadable: {reason}", path=path)
