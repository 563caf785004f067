"""Where the slides of a screen-shared video change, and a picture of each slide: the one
slide-change detector, used by `chapters` (chapters proposed from slides) and by `check` (slide
changes with no audio description near them).

ffmpeg's `scdet` scores each frame by its mean absolute difference from the one before, in per
cent of full scale, on a small, slowed copy of the picture passed through a temporal median
(`tmedian`), so that only a change that stays counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg

# A new slide (another title bar, other lines of text) scores 3 to 12. A speaker's camera window a
# twelfth of the width covers under 1 % of the picture, so even a cut inside it stays under the
# threshold, wherever the meeting tool puts it; a cursor or a mouse-over is smaller still.
THRESHOLD = 2.0
# Frames looked at a second, and their width: slides change seconds apart, and a small picture
# keeps the pass cheap on an hour of 1080p.
RATE = 4
WIDTH = 320
# The temporal median over 2 * RADIUS + 1 frames (1.75 s at RATE) lets through only what lasts
# longer than RADIUS frames: a slide, not a pop-up, a flicker or a camera window's flash. It
# outputs the change RADIUS frames early, which `slide_changes` adds back.
RADIUS = 3
# Two detections closer than this are one change (a fade or a build of one slide).
MERGE_SECONDS = 1.5
# A slide's picture is taken this long after its change, when a transition has settled.
SETTLE_SECONDS = 1.0
IMAGE_WIDTH = 640  # a chapter image: podcast apps show it a few hundred pixels wide

_TIME = re.compile(r"lavfi\.scd\.time: ?([\d.]+)")


@dataclass(frozen=True)
class Slide:
    start: float  # seconds where the slide appears (0.0 for the first)
    image: Path | None = None  # its picture, when `slide_images` wrote one


def slide_changes(video: Path) -> tuple[float, ...]:
    """The times (seconds) where the picture of `video` changes as slides do, in order."""
    ffmpeg.require(filters=("fps", "scale", "tmedian", "scdet", "metadata"), purpose="slide-change detection")
    result = ffmpeg.run(["-i", video, "-map", "0:v:0", "-an", "-sn", "-dn", "-vf",
                         f"fps={RATE},scale={WIDTH}:-2,format=gray,tmedian=radius={RADIUS},"
                         f"scdet=threshold={THRESHOLD}:sc_pass=0,metadata=mode=print:key=lavfi.scd.time",
                         "-f", "null", "-"], what=video)
    times: list[float] = []
    for value in _TIME.findall(result.stderr):
        t = round(float(value) + RADIUS / RATE, 3)
        if t > MERGE_SECONDS / 2 and (not times or t - times[-1] > MERGE_SECONDS):
            times.append(t)
    return tuple(times)


def slide_images(video: Path, starts: tuple[float, ...], folder: Path, *, duration: float | None) -> tuple[Slide, ...]:
    """A JPEG of each slide of `video` starting at `starts`, taken once it has settled, written to
    `folder` as slide-01.jpg, slide-02.jpg, ... (16:9 pictures IMAGE_WIDTH wide; never upscaled)."""
    ffmpeg.require(filters=("scale",), encoders=("mjpeg",), purpose="slide pictures")
    folder.mkdir(parents=True, exist_ok=True)
    slides = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else (duration or start + 2 * SETTLE_SECONDS)
        at = start + min(SETTLE_SECONDS, max(0.0, (end - start) / 2))
        out = folder / f"slide-{i + 1:02d}.jpg"
        ffmpeg.run(["-ss", f"{at:.3f}", "-i", video, "-map", "0:v:0", "-an", "-sn", "-dn",
                    "-vf", f"scale='min({IMAGE_WIDTH},iw)':-2:flags=lanczos,setsar=1,format=yuvj420p",
                    "-c:v", "mjpeg", "-q:v", "4", "-frames:v", "1", "-update", "1", "-y", out],
                   what=video, writes=out)
        slides.append(Slide(start, out))
    return tuple(slides)
