"""Synthetic test and demo media made with ffmpeg's lavfi sources: speech-like audio and webinars.

The speech model is band-limited pink noise shaped into syllables (about 4 per second) and
phrases with pauses, which gives realistic loudness gating and range without any recording.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from media_pipeline.audio import ffmpeg, loudness
from media_pipeline.util.fsutil import replacing

_CODECS = {
    ".wav": ["-c:a", "pcm_s16le"],
    ".flac": ["-c:a", "flac"],
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
    ".m4a": ["-c:a", "aac", "-b:a", "192k"],
    ".opus": ["-c:a", "libopus", "-b:a", "96k"],
    ".ogg": ["-c:a", "libopus", "-b:a", "96k"],
}


def speech_source(seconds: float, *, sample_rate: int = 48000, seed: int = 1) -> str:
    """A lavfi graph of mono speech-like sound, about -29 LUFS before any gain."""
    return (
        f"anoisesrc=color=pink:sample_rate={sample_rate}:amplitude=0.6:seed={seed}:duration={seconds},"
        "highpass=f=120,lowpass=f=3800,"
        # syllables at 3.7 Hz inside phrases of ~4 s with pauses, and a slow drift of level that
        # gives a loudness range like a conversation between two voices
        "volume='(0.05+0.95*pow(max(0,sin(2*PI*3.7*t)*sin(2*PI*0.23*t+1)),0.6))"
        "*(0.55+0.45*sin(2*PI*0.013*t))':eval=frame"
    )


def _require() -> None:
    ffmpeg.require(filters=ffmpeg.SYNTH_FILTERS, encoders=ffmpeg.SYNTH_ENCODERS, purpose="the demo recordings")


def speech(path: str | os.PathLike, seconds: float = 20.0, *, level_lufs: float | None = None,
           channels: int = 2, sample_rate: int = 48000, seed: int = 1) -> Path:
    """Write a speech-like recording; `level_lufs` sets its integrated loudness (measured, then set).

    At a loud level the 16-bit intermediate clips at 0 dBFS, like a hot recording.
    """
    path = Path(path)
    _require()
    codec = _CODECS.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"no codec for {path.suffix}")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".synth-") as tmp, replacing(path) as out:
        gain = 0.0 if level_lufs is None else level_lufs - _unity_loudness(seconds, sample_rate, seed, Path(tmp))
        wav = out if path.suffix.lower() == ".wav" else Path(tmp) / "speech.wav"
        ffmpeg.run(["-f", "lavfi", "-i", speech_source(seconds, sample_rate=sample_rate, seed=seed),
                    "-af", f"volume={gain:.3f}dB", "-ac", str(channels), "-c:a", "pcm_s16le", "-y", wav],
                   what=path, writes=wav)
        if wav != out:
            ffmpeg.run(["-i", wav, *codec, "-y", out], what=path, writes=out)
    return path


def _unity_loudness(seconds: float, sample_rate: int, seed: int, folder: Path) -> float:
    """Integrated loudness of the source at unity gain (its first two minutes), to calibrate."""
    wav = folder / "calibrate.wav"
    ffmpeg.run(["-f", "lavfi", "-i", speech_source(min(seconds, 120.0), sample_rate=sample_rate, seed=seed),
                "-c:a", "pcm_f32le", "-y", wav], what="synth", writes=wav)
    try:
        return loudness.measure(wav).integrated
    finally:
        wav.unlink(missing_ok=True)


def webinar(path: str | os.PathLike, seconds: float = 20.0, *, level_lufs: float | None = -26.0,
            size: str = "640x360", rate: int = 25, seed: int = 1) -> Path:
    """Write an MP4 like a meeting tool's export: H.264 video of slides and AAC speech audio."""
    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".synth-") as tmp:
        audio = speech(Path(tmp) / "audio.wav", seconds, level_lufs=level_lufs, seed=seed)
        ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
                    "-i", audio, "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-g", str(rate * 2), "-c:a", "aac", "-b:a", "128k",
                    "-shortest", "-movflags", "+faststart", "-y", path], what=path, writes=path)
    return path


# Title-bar colours of successive slides, as a slide deck's section colours.
_SLIDE_COLOURS = ("0x1f4e79", "0x7a1f5c", "0x2e6b30", "0x8a4b08", "0x3d3d8f", "0x006d6f")


def slides_source(seconds: float, changes: tuple[float, ...], *, size: str = "1920x1080", rate: int = 25,
                  inset: bool = True) -> str:
    """A lavfi graph of a screen-shared slide deck: a new slide at each time in `changes` (each a
    white page with a coloured title bar and lines of "text" laid out its own way) and, with
    `inset`, a small moving picture of the speaker (a camera window of a meeting tool, a twelfth
    of the width) that wanders along the bottom right."""
    width, height = (int(v) for v in size.split("x"))
    starts = (0.0, *changes)
    ends = (*changes, seconds)
    pieces, labels = [], []
    for i, (start, end) in enumerate(zip(starts, ends)):
        bar = _SLIDE_COLOURS[i % len(_SLIDE_COLOURS)]
        boxes = [f"drawbox=x=0:y=0:w={width}:h={height // 6}:color={bar}:t=fill"]
        lines = 4 + i % 3
        for k in range(lines):  # lines of text: dark strokes of varying length, indented per slide
            x = width // 12 + (i % 2) * width // 10
            y = height // 4 + k * height // (lines + 3)
            w = width * (5 + (k * 3 + i) % 5) // 12
            boxes.append(f"drawbox=x={x}:y={y}:w={w}:h={height // 30}:color=0x333333:t=fill")
        pieces.append(f"color=c=white:s={size}:r={rate}:d={end - start:.3f},{','.join(boxes)}[p{i}]")
        labels.append(f"[p{i}]")
    graph = ";".join(pieces) + ";" + "".join(labels) + f"concat=n={len(labels)}:v=1:a=0"
    if not inset:
        return graph
    cam_w, cam_h = width // 12 * 2 // 2, width // 12 * 9 // 16 * 2 // 2
    return (graph + "[deck];"
            f"testsrc2=s={cam_w}x{cam_h}:r={rate}:d={seconds}[cam];"
            f"[deck][cam]overlay=x='W-w-{width // 40}-{width // 30}*(1+sin(t*0.9))':"
            f"y='H-h-{height // 30}-{height // 40}*(1+cos(t*0.7))':shortest=1")


def slides_webinar(path: str | os.PathLike, seconds: float = 12.0, changes: tuple[float, ...] = (4.0, 8.0), *,
                   size: str = "1920x1080", rate: int = 25, level_lufs: float | None = -26.0,
                   video_seconds: float | None = None, seed: int = 1) -> Path:
    """Write an MP4 like a 1080p meeting export of a webinar: slides that change at `changes`
    with a small moving speaker inset (`slides_source`), and speech. `video_seconds` makes the
    picture shorter or longer than the sound, as a recording cut badly."""
    path = Path(path)
    picture = seconds if video_seconds is None else video_seconds
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".synth-") as tmp:
        audio = speech(Path(tmp) / "audio.wav", seconds, level_lufs=level_lufs, seed=seed)
        ffmpeg.run(["-f", "lavfi", "-i", slides_source(picture, changes, size=size, rate=rate),
                    "-i", audio, "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", "-g", str(rate * 2), "-c:a", "aac", "-b:a", "128k",
                    "-movflags", "+faststart", "-y", path], what=path, writes=path)
    return path


def badly_levelled(path: str | os.PathLike, seconds: float = 120.0, *, level_lufs: float | None = -24.0,
                   quiet_db: float = 10.0, passage: float = 30.0, pause: float = 4.0, floor_db: float = -60.0,
                   channels: int = 2, sample_rate: int = 48000, seed: int = 1) -> Path:
    """Speech in alternating passages, every other one `quiet_db` quieter (a guest far from the
    microphone), each passage opening with `pause` seconds of room tone at about `floor_db` dBFS (RMS).

    `level_lufs` sets the integrated loudness of the whole; the room tone keeps its own level.
    """
    path = Path(path)
    quiet = 10 ** (-quiet_db / 20)
    voice = (f"{speech_source(seconds, sample_rate=sample_rate, seed=seed)},"
             f"volume='if(lt(mod(t,{passage:g}),{pause:g}),0,if(lt(mod(t,{2 * passage:g}),{passage:g}),1,{quiet:.4f}))'"
             ":eval=frame")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        raw = Path(tmp) / "voice.wav"
        ffmpeg.run(["-f", "lavfi", "-i", voice, "-c:a", "pcm_f32le", "-y", raw], what=path)
        gain = 0.0 if level_lufs is None else level_lufs - loudness.measure(raw).integrated
        tone = (f"anoisesrc=color=brown:sample_rate={sample_rate}:amplitude=1:seed={seed + 100}:duration={seconds},"
                f"lowpass=f=2000,volume={floor_db + 12:g}dB")  # brown noise: about 12 dB under its amplitude
        ffmpeg.run(["-i", raw, "-f", "lavfi", "-i", tone, "-filter_complex",
                    f"[0:a]volume={gain:.3f}dB[v];[v][1:a]amerge=inputs=2,pan=mono|c0=c0+c1",
                    "-ac", str(channels), "-c:a", "pcm_s16le", "-y", path], what=path)
    return path


def adversarial(path: str | os.PathLike, seconds: float = 180.0, *, loop: float | None = None,
                level_lufs: float = -28.0, channels: int = 2, sample_rate: int = 48000, seed: int = 3) -> Path:
    """Badly levelled speech that no even sample represents: two voices (the second darker and
    6 dB down, taking turns at uneven lengths), a passage 8 dB loud at 15-22 % of the programme and
    one 10 dB quiet at 45-58 %, over a noise floor at -62 dBFS with mains hum (50 Hz and its
    harmonics), at `level_lufs` (loudness range about 20 LU).

    With `loop`, the programme is `loop` seconds long and repeats until `seconds` (a file made by
    looping a shorter one: its level changes repeat with that period). A `.wav` is 16-bit PCM; an
    `.mp4` is a webinar (slides as H.264 at 10 fps, the sound as AAC at 128k).
    """
    path = Path(path)
    _require()
    period = loop or seconds
    # who speaks when: turns of 11, 17, 7 and 23 s (a 58 s cycle that no round period divides)
    turns = "if(lt(mod(t,58),11),0,if(lt(mod(t,58),28),1,if(lt(mod(t,58),35),0,1)))"
    level = (f"if(between(t,{0.15 * period:.3f},{0.22 * period:.3f}),{10 ** (8 / 20):.4f},"
             f"if(between(t,{0.45 * period:.3f},{0.58 * period:.3f}),{10 ** (-10 / 20):.4f},1))")
    first = f"{speech_source(period, sample_rate=sample_rate, seed=seed)},volume='(1-{turns})*{level}':eval=frame"
    second = (f"{speech_source(period, sample_rate=sample_rate, seed=seed + 1)},lowpass=f=2400,"
              f"volume='{turns}*0.5*{level}':eval=frame")
    floor = (f"anoisesrc=color=pink:sample_rate={sample_rate}:amplitude=1:seed={seed + 2}:duration={period},"
             "volume=-62dB")
    hum = (f"sine=f=50:sample_rate={sample_rate}:duration={period},volume=-64dB[h1];"
           f"sine=f=150:sample_rate={sample_rate}:duration={period},volume=-70dB[h3];"
           "[h1][h3]amix=inputs=2:normalize=0")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".synth-") as tmp:
        voices = Path(tmp) / "voices.wav"
        ffmpeg.run(["-f", "lavfi", "-i", first, "-f", "lavfi", "-i", second, "-filter_complex",
                    "[0:a][1:a]amix=inputs=2:normalize=0", "-c:a", "pcm_f32le", "-y", voices], what=path, writes=voices)
        gain = level_lufs - loudness.measure(voices).integrated
        once = Path(tmp) / "once.wav"
        ffmpeg.run(["-i", voices, "-f", "lavfi", "-i", floor, "-filter_complex",
                    f"[0:a]volume={gain:.3f}dB[v];{hum}[hum];[v][1:a][hum]amix=inputs=3:normalize=0",
                    "-ac", str(channels), "-c:a", "pcm_s16le", "-y", once], what=path, writes=once)
        looped = ["-stream_loop", "-1", "-i", once, "-t", f"{seconds:.3f}"]
        with replacing(path) as out:
            if path.suffix.lower() == ".wav":
                ffmpeg.run([*looped, "-c:a", "copy", "-y", "-f", "wav", out], what=path, writes=out)
            else:
                ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=10:duration={seconds:.3f}", *looped,
                            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
                            "-pix_fmt", "yuv420p", "-g", "20", "-c:a", "aac", "-b:a", "128k", "-shortest",
                            "-movflags", "+faststart", "-y", "-f", "mp4", out], what=path, writes=out)
    return path
