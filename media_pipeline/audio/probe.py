"""What is in a media file: container, duration and streams, read from `ffmpeg -i` (no ffprobe).

Bad input is refused here, before any audio work, with one line naming the file and the reason.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import tempfile
from pathlib import Path

from media_pipeline.audio import ffmpeg
from media_pipeline.errors import FFmpegError, MediaError
from media_pipeline.model import MediaInfo, Stream
from media_pipeline.util import filememo

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
        # every line: the listing of a file with many chapters or tags runs past the run's kept ends
        listing: list[str] = []
        ffmpeg.run(["-i", path, "-f", "lavfi", "-i", "anullsrc", "-map", "1:a", "-t", "0", "-f", "null", "-"],
                   what=path, lines=listing.append)
    except FFmpegError as exc:
        raise _refusal(path, exc.reason) from None
    info = parse("\n".join(listing), path)
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


# -- damage: a recording that decodes only in part ------------------------------------------------

# The episode key with which a producer publishes a damaged recording anyway (config.py reads it).
ACCEPT_DAMAGED_KEY = "accept_damaged_source"

# How a decoder failure reads in ffmpeg's stderr: 5.1 says "Error while decoding stream #0:0: ...",
# 7 and later "[aist#0:0/mp3 @ 0x...] [dec:mp3float @ 0x...] Error submitting packet to decoder: ...".
_DECODE_ERROR = re.compile(r"(?:Error while decoding stream #\d+:\d+|Error submitting packet to decoder): (?P<why>.+)$")
_LOGGED = re.compile(r"^\[(?P<who>[^\]@]+?) @ 0x[0-9a-f]+\] (?P<what>[^\[].*)$")
# The rate at which `locate_damage` decodes: one byte per millisecond of programme.
_LOCATE_RATE = 1000


def decoder_damage(stderr: str) -> str | None:
    """The decoder's reason for the first packet it could not decode, from any decoding pass's
    stderr (e.g. "Header missing (Invalid data found when processing input)"), or None."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        found = _DECODE_ERROR.search(line)
        if not found:
            continue
        why = found.group("why").strip()
        before = _LOGGED.match(lines[i - 1].strip()) if i else None
        if before and not before.group("who").startswith(("Parsed_", "AVFilterGraph")):
            return f"{before.group('what').strip()} ({why})"
        return why
    return None


class DamageWatch:
    """Watches a decoding pass's stderr lines as they arrive (`ffmpeg.run(lines=...)`) and keeps
    only the decoder's first failure with the line before it: `found` is `decoder_damage` of them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._previous = ""

    def __call__(self, line: str) -> None:
        if not self.lines and _DECODE_ERROR.search(line):
            self.lines = [self._previous, line]
        self._previous = line

    @property
    def found(self) -> str | None:
        return decoder_damage("\n".join(self.lines))


def header_damage(path: Path) -> str | None:
    """Damage the file's own header shows without decoding: a WAV whose data chunk claims more
    bytes than the file holds (a copy or recording cut short). None when the header agrees."""
    path = Path(path)
    if path.suffix.lower() != ".wav":
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = path.stat().st_size
            byte_rate = 0
            while True:
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                start = fh.tell()
                if name == b"fmt " and length >= 12:
                    byte_rate = struct.unpack("<I", fh.read(12)[8:12])[0]
                if name == b"data":
                    if length in (0, 0xFFFFFFFF) or start + length <= size:
                        return None  # streamed WAVs leave the length open
                    held = size - start
                    seconds = f", {held / byte_rate:.2f} s of audio" if byte_rate else ""
                    return (f"cut short at byte {size:,}: the header declares {length:,} bytes of audio, "
                            f"the file holds {held:,}{seconds}")
                fh.seek(start + length + (length & 1))
    except OSError:
        return None


def locate_damage(path: Path) -> float | None:
    """Seconds of programme that decode cleanly before the first damaged packet, or None if
    nothing fails. Run only once a pass has found damage: it decodes up to that point again."""
    with tempfile.TemporaryDirectory(prefix="media-pipeline-damage-") as folder:
        out = Path(folder) / "clean.u8"
        try:
            ffmpeg.run(["-xerror", "-i", path, "-map", "0:a:0", "-vn", "-af", f"aresample={_LOCATE_RATE}", "-ac", "1",
                        "-c:a", "pcm_u8", "-f", "u8", "-y", out], what=path)
        except FFmpegError:
            return out.stat().st_size / _LOCATE_RATE if out.exists() else 0.0
    return None


def scan(path: Path, *, memo_dir: Path | None = None) -> str | None:
    """Decode the whole audio stream (no filters, no output) and describe any damage, or None.

    For `check`: decoding alone runs at several hundred times real time (an hour of MP3 in about
    ten seconds on a busy two-core machine), far cheaper than the analysis pass publishing does
    anyway. With `memo_dir`, the answer is kept there for as long as the file is unchanged (same
    inode, size and times), so a repeated `check` decodes nothing.
    """
    if reason := header_damage(path):
        return reason
    memo = filememo.Memo(memo_dir / filememo.memo_name(os.path.abspath(path)) if memo_dir else None)
    before = filememo.stamp(path)
    known = memo.get(before)
    if known is not None:
        return known.get("damage")
    watch = DamageWatch()
    ffmpeg.run(["-i", path, "-map", "0:a:0", "-vn", "-f", "null", "-"], what=path, lines=watch)
    why = watch.found
    damage = describe_damage(path, why) if why else None
    if filememo.stamp(path) == before:  # unchanged while read
        memo.put(before, {"path": str(path), "damage": damage})
    return damage


def describe_damage(path: Path, why: str) -> str:
    """Where the decoder first failed in `path` and its reason `why` (from `decoder_damage`)."""
    at = locate_damage(path)
    where = f"at {at:.2f} s" if at is not None else "in places"
    return f"damaged {where}: the decoder says {why}"


def damaged(path: Path, reason: str) -> MediaError:
    """The refusal of a damaged recording, with the way to publish it anyway."""
    return MediaError(f"{reason}; repair or re-export the recording, or set `{ACCEPT_DAMAGED_KEY}: true` in the "
                      "episode file to publish it as it is", path=path)


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
