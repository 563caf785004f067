"""Where the slides of a screen-shared video change, for `check`'s question of what needs an audio
description: ffmpeg's `scdet` scene-change score on a small, slowed copy of the picture.

This is the description check's own detector, kept to one function (`slide_changes`) so that the
webinar video work's chapter detection can take its place once it exists; both answer the same
question with the same ffmpeg filter family.
"""

from __future__ import annotations

import re
from pathlib import Path

from media_pipeline.audio import ffmpeg

# scdet's score is the mean absolute difference between two frames, in per cent of full scale. A
# new slide (a white page with another title bar and other lines of text) scores 3 to 5; a speaker's
# camera window a twelfth of the width, moving, or a cursor changes under 1 % of the picture.
THRESHOLD = 2.0
# Frames looked at a second, and their width: slides change seconds apart, and a small picture
# keeps the pass cheap on an hour of 1080p.
RATE = 4
WIDTH = 320
# Two detections closer than this are one change (a fade or a build of one slide).
MERGE_SECONDS = 1.5

_TIME = re.compile(r"lavfi\.scd\.time: ?([\d.]+)")


def slide_changes(video: Path) -> tuple[float, ...]:
    """The times (seconds) where the picture of `video` changes as slides do."""
    result = ffmpeg.run(["-i", video, "-map", "0:v:0", "-an", "-sn", "-dn", "-vf",
                         f"fps={RATE},scale={WIDTH}:-2,scdet=threshold={THRESHOLD}:sc_pass=0,"
                         "metadata=mode=print:key=lavfi.scd.time", "-f", "null", "-"], what=video)
    times: list[float] = []
    for value in _TIME.findall(result.stderr):
        t = float(value)
        if t > 0 and (not times or t - times[-1] > MERGE_SECONDS):
            times.append(t)
    return tuple(times)
