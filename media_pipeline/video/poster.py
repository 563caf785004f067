"""A webinar's poster: a representative 16:9 frame of its picture, as JPEG and WebP.

Candidates come from a few windows spread over the recording (not its first seconds, where a
meeting export shows a black frame or a "waiting for host" card); in each, ffmpeg's `thumbnail`
filter picks the frame closest to the window's average, which is never a transition's blend.
A candidate that is dark or nearly flat (`signalstats`: low mean luma or a narrow luma spread) is
rejected; of the rest, the one with the widest spread of light wins.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg
from media_pipeline.errors import MediaError
from media_pipeline.video.picture import Picture

log = logging.getLogger(__name__)

WINDOWS = (0.2, 0.4, 0.6, 0.8)  # where candidate windows start, as fractions of the length
WINDOW_SECONDS = 3.0
MIN_MEAN_LUMA = 40  # of 0..255 (8-bit, limited range starts at 16): darker is a black or fading frame
MIN_LUMA_SPREAD = 24  # YHIGH - YLOW (90th minus 10th percentile): less is a flat card


@dataclass(frozen=True)
class Candidate:
    at: float
    mean: float
    spread: float
    image: Path

    @property
    def usable(self) -> bool:
        return self.mean >= MIN_MEAN_LUMA and self.spread >= MIN_LUMA_SPREAD


def poster_size(picture: Picture) -> tuple[int, int]:
    """16:9, no larger than the picture's short side allows (never upscaled)."""
    height = 720 if picture.short_side >= 720 else 360
    return height * 16 // 9, height


def make_poster(source: Path, picture: Picture, jpeg: Path, webp: Path) -> float:
    """Write the poster of `source` to `jpeg` and `webp`; returns the time of the frame chosen.
    MediaError when no window gives a frame that is neither dark nor flat."""
    ffmpeg.require(filters=("thumbnail", "signalstats", "metadata", "scale", "pad"), encoders=("mjpeg", "libwebp"),
                   purpose="the poster")
    length = picture.duration or 0.0
    with tempfile.TemporaryDirectory(prefix=".poster-", dir=jpeg.parent) as tmp:
        candidates = [_candidate(source, picture, at * length, Path(tmp) / f"{i}.png")
                      for i, at in enumerate(WINDOWS if length > 2 * WINDOW_SECONDS else (0.0,))]
        usable = [c for c in candidates if c is not None and c.usable]
        if not usable:
            raise MediaError("no frame of the video is fit for a poster (every candidate was dark or flat); "
                             "set `poster:` in the episode file to an image of your own", path=source)
        best = max(usable, key=lambda c: c.spread)
        log.info("poster of %s: the frame near %.1f s (mean luma %.0f, spread %.0f)", source, best.at, best.mean,
                 best.spread)
        for out, codec in ((jpeg, ["-c:v", "mjpeg", "-q:v", "3"]), (webp, ["-c:v", "libwebp", "-quality", "80"])):
            ffmpeg.run(["-i", best.image, *codec, "-frames:v", "1", "-y", out], what=source, writes=out)
    return best.at


def still_poster(image: Path, size: tuple[int, int], jpeg: Path, webp: Path) -> None:
    """The episode's own poster image fitted into 16:9 (letterboxed, never upscaled past `size`)."""
    fit = _fit(size)
    for out, codec in ((jpeg, ["-c:v", "mjpeg", "-q:v", "3"]), (webp, ["-c:v", "libwebp", "-quality", "80"])):
        ffmpeg.run(["-i", image, "-vf", fit, *codec, "-frames:v", "1", "-y", out], what=image, writes=out)


def _fit(size: tuple[int, int]) -> str:
    w, h = size
    return (f"scale={w}:{h}:force_original_aspect_ratio=decrease:flags=lanczos,setsar=1,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,format=yuvj420p")


_STAT = re.compile(r"lavfi\.signalstats\.(YAVG|YLOW|YHIGH)=([\d.]+)")


def _candidate(source: Path, picture: Picture, at: float, out: Path) -> Candidate | None:
    fps = picture.fps or 25.0
    frames = max(2, round(fps * WINDOW_SECONDS))
    graph = f"thumbnail=n={frames},{_fit(poster_size(picture))},signalstats,metadata=mode=print"
    result = ffmpeg.run(["-ss", f"{at:.3f}", "-i", source, "-t", f"{WINDOW_SECONDS}", "-an", "-sn", "-vf", graph,
                         "-frames:v", "1", "-update", "1", "-y", out], what=source, writes=out)
    stats = {name: float(value) for name, value in _STAT.findall(result.stderr)}
    if not out.is_file() or not {"YAVG", "YLOW", "YHIGH"} <= stats.keys():
        return None
    return Candidate(at, stats["YAVG"], stats["YHIGH"] - stats["YLOW"], out)
