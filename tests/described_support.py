"""A scripted webinar for the audio description tests: slides that change at known times and speech
with one known pause, made with ffmpeg's lavfi sources; and measurements of a published file taken
with ffmpeg's own filters (ebur128, freezedetect, scdet), independent of the code under test."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from media_pipeline.audio import ffmpeg
from media_pipeline_demo import synth

SECONDS = 16.0
SLIDE_CHANGES = (4.0, 8.0, 12.0)
# The speech pauses from PAUSE[0] to PAUSE[1]: a description at 4 s fits it; from 8 s the speech
# goes on without a pause, so a description there holds the picture.
PAUSE = (3.6, 7.8)
COLOURS = ("0x1f4e79", "0x7a1f5c", "0x2e6b30", "0x8a4b08")

DESCRIPTIONS_VTT = """WEBVTT

slide-2
00:00:04.000 --> 00:00:06.500
Dia: pylväskaavio kuntien kokeiluista.

slide-3
00:00:08.000 --> 00:00:11.000
Dia: sitaatti, jonka mukaan vastuu säilyy ihmisellä, ja lähteenä ministeriön raportti vuodelta 2024.
"""

CAPTIONS_VTT = """WEBVTT

00:00:00.500 --> 00:00:03.400
<v Maria Laine>Tervetuloa webinaariin.

00:00:08.000 --> 00:00:11.500
<v Maria Laine>Tässä näette kokeilujen määrän.

00:00:12.000 --> 00:00:15.500
<v Maria Laine>Lopuksi yhteenveto.
"""


def slides_graph(seconds: float = SECONDS, changes: tuple[float, ...] = SLIDE_CHANGES, size: str = "640x360") -> str:
    """White slides with a coloured title bar and dark lines, a new one at each of `changes`."""
    width, height = (int(v) for v in size.split("x"))
    starts, ends = (0.0, *changes), (*changes, seconds)
    parts, labels = [], []
    for i, (start, end) in enumerate(zip(starts, ends)):
        boxes = [f"drawbox=x=0:y=0:w={width}:h={height // 6}:color={COLOURS[i % len(COLOURS)]}:t=fill"]
        for k in range(3 + i):
            boxes.append(f"drawbox=x={width // 10 + (i % 2) * 40}:y={height // 4 + k * 40}:"
                         f"w={width * (4 + (k + i) % 4) // 10}:h=14:color=0x333333:t=fill")
        parts.append(f"color=c=white:s={size}:r=25:d={end - start:.3f},{','.join(boxes)}[p{i}]")
        labels.append(f"[p{i}]")
    return ";".join(parts) + ";" + "".join(labels) + f"concat=n={len(labels)}:v=1:a=0"


def scripted_webinar(path: Path) -> Path:
    """The webinar: the slides, and speech that pauses from PAUSE[0] to PAUSE[1] (digital silence)."""
    quiet = f"volume='if(between(t,{PAUSE[0]},{PAUSE[1]}),0,1)':eval=frame"
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".script-") as tmp:
        speech = synth.speech(Path(tmp) / "speech.wav", SECONDS, level_lufs=-24.0, seed=7)
        ffmpeg.run(["-f", "lavfi", "-i", slides_graph(), "-i", speech, "-map", "0:v", "-map", "1:a",
                    "-af", quiet, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50",
                    "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-y", path], what=path)
    return path


def window_loudness(path: Path, start: float, seconds: float) -> float:
    """Integrated loudness (LUFS) of `seconds` of `path` from `start`, by ffmpeg's ebur128; -70 for
    silence."""
    done = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}",
                           "-i", str(path), "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    summary = done.stderr[done.stderr.rfind("Summary:"):]
    value = float(re.search(r"I:\s+(-?[\d.]+|-inf|nan) LUFS", summary).group(1))
    return value if value == value else -70.0


def freezes(path: Path) -> list[tuple[float, float]]:
    """(start, duration) of each stretch where the picture does not change, by ffmpeg's freezedetect."""
    done = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
                           "-vf", "freezedetect=n=0.001:d=0.5", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    starts = [float(v) for v in re.findall(r"freeze_start: ([\d.]+)", done.stderr)]
    durations = [float(v) for v in re.findall(r"freeze_duration: ([\d.]+)", done.stderr)]
    return list(zip(starts, durations))
