"""The described version of a video (WCAG 1.2.5 audio description): each description spoken at its
time, by the producer's recording or by offline speech synthesis, the programme ducked under it;
where a description does not fit in a pause of the speech, the picture and the programme hold
(extended description) while it is spoken, rather than the speech being talked over. The result is
normalised and encoded like every rendition (`process.render`) and cached like them.

Stages: speak each description (`voice`), find the pauses of the speech (ffmpeg `silencedetect`),
place each description (`place`: fits a pause, or holds the picture), render one intermediate file
(ffmpeg: `trim`+`tpad`+`apad`+`concat` for the holds, `adelay`+`amix` for the voice,
`sidechaincompress` for the ducking), then the show's normalisation and encoding into
`<episode>.described.mp4` and `<episode>.described.mp3`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from media_pipeline.audio import cache, ffmpeg, loudness, stamps, voice
from media_pipeline.audio.encode import COPY_VIDEO_CODECS, Output
from media_pipeline.audio.probe import probe
from media_pipeline.audio.process import ProcessResult, _renditions, render
from media_pipeline.errors import MediaError
from media_pipeline.layout import DESCRIBED_SUFFIX, content_type_for
from media_pipeline.model import Description, Episode, Show, Workspace

log = logging.getLogger(__name__)

CODE_VERSION = "described-1"
# A description fits a pause when the pause lasts this much longer than the spoken description,
# so the speech does not start on its last syllable; a held picture gets the same margin.
MARGIN = 0.3
# Silence, for the pauses a description may fill: this many dB below the programme's integrated
# loudness (speech's quiet syllables stay above it), lasting at least PAUSE_SECONDS.
PAUSE_BELOW_LU = 25.0
PAUSE_SECONDS = 0.4
# Ducking: the programme under a description is compressed by the voice's level (sidechain), so
# overlapping speech falls about 10 dB below the description.
DUCKING = "sidechaincompress=threshold=0.01:ratio=10:attack=15:release=350"
# The picture of the intermediate file, when holds make re-encoding it necessary: near-lossless,
# since the show's encoding copies it into the published MP4.
INTERMEDIATE_VIDEO = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]


@dataclass(frozen=True)
class Placed:
    """A description in the described version: its voice file and length, where it starts in the
    described version, and how long the picture holds at its time in the recording (0: it fits a
    pause)."""

    description: Description
    voice: Path
    length: float
    at: float
    hold: float


def described_version(ws: Workspace, show: Show, episode: Episode, descriptions: Sequence[Description], *,
                      language: str, progress: Callable[[float], None] | None = None) -> ProcessResult:
    """The described MP4 and MP3 of `episode` in the build cache, from the cache when neither the
    recording, the descriptions (their words, times and recordings) nor the settings changed."""
    known = stamps.stamps_for(ws.build_dir)
    info = known.probe(episode.source)
    if not info.has_video or info.audio is None:
        raise MediaError("a described version needs a recording with both picture and sound", path=episode.source)
    material = [(d.start, d.end, d.text, known.digest(d.clip) if d.clip else None) for d in descriptions]
    key = cache.key(episode.source, show.audio, code_version=CODE_VERSION, digest=known.digest,
                    extra={"descriptions": material, "language": language, "voice": voice.identity(language)})
    entry = cache.folder(ws.build_dir, show.slug, episode.slug + DESCRIBED_SUFFIX, key)
    manifest = cache.use(entry)
    if manifest is not None:
        log.info("cache hit: the described version of %s", episode.key)
        cache.prune(entry)
        return ProcessResult(_renditions(entry, manifest), info, cached=True)
    log.info("described version: %s, %d descriptions", episode.key, len(descriptions))
    settings = show.audio
    with cache.building(entry) as staging:
        work = staging / "work"
        work.mkdir()
        voices = [d.clip or voice.speak(d.text, language, work / f"description-{i + 1}.wav")
                  for i, d in enumerate(descriptions)]
        programme = loudness.measure(episode.source).integrated
        placed = place(descriptions, voices, [probe(v).duration for v in voices],
                       pauses(episode.source, below=programme - PAUSE_BELOW_LU, duration=info.duration))
        gains = [programme - loudness.measure(v).integrated for v in voices]
        intermediate = work / "described.mkv"
        copy = info.video is not None and info.video.codec in COPY_VIDEO_CODECS and not any(p.hold for p in placed)
        mix(episode.source, info.duration, placed, gains, intermediate, channels=settings.channels, copy_video=copy)
        stem = f"{episode.slug}{DESCRIBED_SUFFIX}"
        codec = info.video.codec if copy and info.video else "h264"
        outputs = (Output(staging / f"{stem}.mp4", "mp4", settings.video_audio_bitrate_kbps, codec),
                   Output(staging / f"{stem}.mp3", "mp3", settings.bitrate_kbps))
        measured, durations = render(probe(intermediate), settings, outputs, video=True, progress=progress,
                                     shown=episode.source)
        for item in placed:
            log.info("%s: description at %.1f s (%.1f s long) %s", episode.key, item.description.start,
                     item.length, f"holds the picture {item.hold:.1f} s" if item.hold else "fits a pause")
        cache.write_manifest(staging, {
            "episode": episode.key, "source": str(episode.source),
            "placed": [{"start": p.description.start, "at": p.at, "length": p.length, "hold": p.hold}
                       for p in placed],
            "renditions": [{"file": o.path.name, "mime_type": content_type_for(o.path.name),
                            "role": "video" if o.kind == "mp4" else "audio", "duration": d, "loudness": vars(m)}
                           for o, m, d in zip(outputs, measured, durations)],
        })
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    manifest = cache.load(entry)
    assert manifest is not None
    cache.prune(entry)
    return ProcessResult(_renditions(entry, manifest), info, cached=False)


_SILENCE = re.compile(r"silence_(start|end): (-?[\d.]+)")


def pauses(source: Path, *, below: float, duration: float) -> list[tuple[float, float]]:
    """The pauses of the recording's speech, (start, end) in seconds: `silencedetect` below
    `below` dBFS for at least PAUSE_SECONDS. A pause still open at the end lasts to `duration`."""
    result = ffmpeg.run(["-i", source, "-map", "0:a:0", "-vn", "-sn", "-dn", "-af",
                         f"silencedetect=noise={below:.1f}dB:d={PAUSE_SECONDS}", "-f", "null", "-"], what=source)
    found: list[tuple[float, float]] = []
    start: float | None = None
    for kind, value in _SILENCE.findall(result.stderr):
        if kind == "start":
            start = max(0.0, float(value))
        elif start is not None:
            found.append((start, float(value)))
            start = None
    if start is not None:
        found.append((start, duration))
    return found


def place(descriptions: Sequence[Description], voices: Sequence[Path], lengths: Sequence[float],
          pauses: Sequence[tuple[float, float]]) -> list[Placed]:
    """Where each description goes. One that fits in the pause its time falls in (with MARGIN) is
    mixed over the pause; one that does not holds the picture at its time for as long as the pause
    leaves it short, so no speech is talked over (extended description). A description that would
    start while the one before is still spoken waits for it."""
    out: list[Placed] = []
    shift = 0.0  # the holds so far: how far the described version runs ahead of the recording
    voice_free = 0.0  # in the recording's time: when the previous description has been spoken
    order = sorted(range(len(descriptions)), key=lambda i: descriptions[i].start)
    for i in order:
        d, length = descriptions[i], lengths[i]
        t = max(d.start, voice_free)
        available = next((end - t for start, end in pauses if start <= t + 0.05 and t < end), 0.0)
        need = length + MARGIN
        hold = 0.0 if available >= need else round(need - max(0.0, available), 3)
        out.append(Placed(d, voices[i], length, round(t + shift, 3), hold))
        shift += hold
        voice_free = t + max(0.0, length - hold) + 0.1
    return out


def mix(source: Path, duration: float, placed: Sequence[Placed], gains: Sequence[float], target: Path, *,
        channels: int, copy_video: bool) -> None:
    """Write the described programme to `target` (Matroska, PCM sound): the recording cut at each
    hold, the picture there held (`tpad`) and the sound paused (`adelay`) for it, joined (`concat`); the
    descriptions delayed to their places, at the programme's loudness, mixed over the programme
    ducked under them."""
    layout = "mono" if channels == 1 else "stereo"
    audio_format = f"aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts={layout}"
    holds = [p for p in placed if p.hold > 0]
    total = duration + sum(p.hold for p in holds)
    chains: list[str] = []
    if holds:
        # The recording is cut where each hold begins, and the stretch after the cut starts with its
        # first picture held (`tpad` start_mode=clone) and its sound delayed: the picture a
        # description tells of is the one on screen while it is spoken. `segment`/`asegment` hand
        # each stretch its frames in order, so `concat`, which reads the stretches one after
        # another, never waits on one that holds frames back (the same input trimmed once per
        # stretch would queue the whole recording in memory).
        cuts: list[float] = []
        pads = [0.0]
        for p in holds:
            at = _source_time(p, placed)
            if at > 0.05 and (not cuts or at > cuts[-1] + 0.05):
                cuts.append(at)
                pads.append(0.0)
            pads[-1] += p.hold
        n = len(pads)
        if cuts:
            times = "|".join(f"{t:.3f}" for t in cuts)
            chains.append(f"[0:v:0]segment=timestamps={times}" + "".join(f"[vs{k}]" for k in range(n)))
            chains.append(f"[0:a:0]{audio_format},asegment=timestamps={times}" + "".join(f"[as{k}]" for k in range(n)))
        else:
            chains += ["[0:v:0]null[vs0]", f"[0:a:0]{audio_format}[as0]"]
        segments = []
        for k, pad in enumerate(pads):
            video = f"[vs{k}]setpts=PTS-STARTPTS" + (f",tpad=start_mode=clone:start_duration={pad:.3f}" if pad else "")
            sound = f"[as{k}]asetpts=PTS-STARTPTS" + (f",adelay=delays={round(pad * 1000)}:all=1" if pad else "")
            chains += [f"{video}[v{k}]", f"{sound}[a{k}]"]
            segments.append(f"[v{k}][a{k}]")
        chains.append("".join(segments) + f"concat=n={n}:v=1:a=1[v][prog]")
    else:
        chains.append(f"[0:a:0]{audio_format}[prog]")
    for i, (p, gain) in enumerate(zip(placed, gains), start=1):
        chains.append(f"[{i}:a:0]{audio_format},volume={gain:.2f}dB,adelay=delays={round(p.at * 1000)}:all=1[d{i}]")
    voices = "".join(f"[d{i}]" for i in range(1, len(placed) + 1))
    mixed = f"amix=inputs={len(placed)}:normalize=0:duration=longest," if len(placed) > 1 else ""
    chains.append(f"{voices}{mixed}apad=whole_dur={total:.3f},asplit=2[key][voice]")
    chains.append(f"[prog][key]{DUCKING}[ducked]")
    chains.append(f"[ducked][voice]amix=inputs=2:normalize=0:duration=first[a]")
    args: list = ["-i", source]
    for p in placed:
        args += ["-i", p.voice]
    args += ["-filter_complex", ";".join(chains)]
    if holds:
        args += ["-map", "[v]", *INTERMEDIATE_VIDEO]
    else:  # nothing held: the picture is the recording's, copied where the MP4 can carry it
        args += ["-map", "0:v:0", *(["-c:v", "copy"] if copy_video else INTERMEDIATE_VIDEO)]
    args += ["-map", "[a]", "-c:a", "pcm_s16le", "-t", f"{total:.3f}", "-f", "matroska", "-y", target]
    ffmpeg.run(args, what=source, writes=target)


def _source_time(p: Placed, placed: Sequence[Placed]) -> float:
    """Where in the recording `p`'s hold begins: its place in the described version less the
    holds before it."""
    before = sum(q.hold for q in placed if q.at < p.at)
    return round(p.at - before, 3)
