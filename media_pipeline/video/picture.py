"""What the picture of a video file is as a player shows it: its size after rotation, its frame
rate, its length. Read from ffmpeg's stream listing (the one process runner, `audio.ffmpeg`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg
from media_pipeline.errors import FFmpegError, MediaError


@dataclass(frozen=True)
class Picture:
    width: int  # as shown: a phone video stored 1920x1080 with a 90° rotation is 1080 wide
    height: int
    fps: float | None  # the average frame rate ffmpeg reports; None when it reports none
    codec: str
    duration: float | None  # of the video stream where the container says, else of the file

    @property
    def short_side(self) -> int:
        """What a rendition is named by: 720 for 1280x720 and for a portrait 720x1280."""
        return min(self.width, self.height)

    @property
    def portrait(self) -> bool:
        return self.height > self.width


_VIDEO = re.compile(r"Stream #\d+:\d+[^:]*: Video: (?P<codec>\w+)(?P<rest>.*)")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r", ([\d.]+k?) fps")
_ROTATION = re.compile(r"(?:rotation of (-?[\d.]+) degrees|rotate\s*:\s*(-?\d+))")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def read(path: Path) -> Picture | None:
    """The first video stream's picture (cover art excepted), or None when the file has none."""
    try:
        result = ffmpeg.run(["-i", path, "-f", "lavfi", "-i", "anullsrc", "-map", "1:a", "-t", "0", "-f", "null", "-"],
                            what=path)
    except FFmpegError as exc:
        raise MediaError(f"unreadable video: {exc.reason}", path=path) from None
    return parse(result.stderr)


def parse(listing: str) -> Picture | None:
    """`read` of ffmpeg's listing of one input (the first `Input #0` only)."""
    lines = listing.split("\n")
    first_input = []
    for line in lines:
        if line.startswith("Input #1") or line.startswith("Output #"):
            break
        first_input.append(line)
    duration = None
    picture = None
    for i, line in enumerate(first_input):
        if (m := _DURATION.search(line)) and duration is None:
            duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        m = _VIDEO.search(line)
        if picture is None and m and "(attached pic)" not in line:
            size = _SIZE.search(m.group("rest"))
            if not size:
                continue
            fps = _FPS.search(m.group("rest"))
            rate = None
            if fps:
                text = fps.group(1)
                rate = float(text[:-1]) * 1000 if text.endswith("k") else float(text)
            width, height = int(size.group(1)), int(size.group(2))
            # side data (rotation) follows the stream's line, before the next stream
            for later in first_input[i + 1:]:
                if "Stream #" in later:
                    break
                if (r := _ROTATION.search(later)) and round(abs(float(r.group(1) or r.group(2)))) % 180 == 90:
                    width, height = height, width
                    break
            picture = (width, height, rate, m.group("codec"))
    if picture is None:
        return None
    return Picture(*picture, duration=duration)
