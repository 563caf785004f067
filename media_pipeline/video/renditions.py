"""Smaller H.264/AAC renditions of a video episode (720p, 360p, ...) made from its source-quality
MP4 in one ffmpeg run: the picture is decoded once, split and scaled per rendition, and the
normalised, verified AAC is copied, so every rendition's audio is the MP4's own, sample for sample.

Cached in the build cache by the MP4's content and the ladder, beside the audio's entry: a change of
metadata alone reuses them, a change of the ladder does no audio work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from media_pipeline.audio import cache, ffmpeg, stamps
from media_pipeline.audio.process import ProcessResult
from media_pipeline.errors import MediaError
from media_pipeline.layout import content_type_for
from media_pipeline.model import Episode, Loudness, Rendition, Show, Workspace
from media_pipeline.video import picture as pictures

log = logging.getLogger(__name__)

CODE_VERSION = "renditions-1"  # bump when the encoding below changes what comes out


@dataclass(frozen=True)
class Rung:
    """One rendition's encoding, by the short side of its picture.

    Why these numbers: a webinar is screen-shared slides with a small talking head. x264 at CRF 23
    spends almost nothing on a slide that stays still, so the average lands far below the cap; the
    cap (`maxrate`, with a buffer of two seconds of it) bounds what a slide change or a moving
    camera costs, so a phone on a 1 Mbit/s connection streams 360p without stalling. PeerTube's
    ladder aims at 3.0 Mbit/s for 720p30 and 1.0 Mbit/s for 360p30 (bits per pixel for general
    motion: films, games); these caps are half of that and less, and the benchmark in
    docs/audio.md shows what it costs in SSIM.
    """

    short_side: int
    maxrate_kbps: int
    level: str  # H.264 level: the smallest that holds this size at 30 frames a second

    @property
    def name(self) -> str:
        return f"{self.short_side}p"


LADDER = {r.short_side: r for r in (
    Rung(1080, 3000, "4.0"),
    Rung(720, 1500, "3.1"),
    Rung(480, 800, "3.0"),
    Rung(360, 500, "3.0"),
    Rung(240, 300, "2.1"),
)}
CRF = 23  # x264's default: text on slides stays legible at 360p
PRESET = "veryfast"  # an hour of 1080p to 720p and 360p runs near real time on two cores
MAX_FPS = 30  # slides and a talking head need no more; 60 fps sources are halved
KEYFRAME_SECONDS = 4  # a seek lands at most this far before the wanted time


@dataclass(frozen=True)
class Planned:
    rung: Rung
    path: Path


def ladder_for(picture: pictures.Picture, wanted: tuple[int, ...]) -> tuple[Rung, ...]:
    """The rungs of `wanted` smaller than the picture: never upscaled, and none the size of the
    source (the source-quality MP4 is that one)."""
    return tuple(LADDER[r] for r in sorted(wanted, reverse=True) if r in LADDER and r < picture.short_side)


def add_renditions(ws: Workspace, show: Show, episode: Episode, processed: ProcessResult, *,
                   progress: Callable[[float], None] | None = None) -> ProcessResult:
    """`processed` with the show's smaller renditions after its source-quality MP4, from the cache
    when they were made before; unchanged for audio and when the ladder asks for nothing smaller."""
    primary = next((r for r in processed.renditions if r.role == "video" and r.size is None), None)
    if primary is None or not show.video.renditions:
        return processed
    picture = pictures.read(primary.path)
    if picture is None:
        return processed
    rungs = ladder_for(picture, show.video.renditions)
    if not rungs:
        return processed
    known = stamps.stamps_for(ws.build_dir)
    key = stamps.material_digest({"mp4": known.digest(primary.path), "rungs": [r.name for r in rungs],
                                  "code": CODE_VERSION, "ffmpeg": ffmpeg.checked().version})
    entry = cache.folder(ws.build_dir, show.slug, f"{episode.slug}.video", key)
    manifest = cache.use(entry)
    cached = manifest is not None
    if manifest is None:
        log.info("video work: %s, %s", episode.key, ", ".join(r.name for r in rungs))
        with cache.building(entry) as staging:
            planned = tuple(Planned(r, staging / f"{episode.slug}.{r.name}.mp4") for r in rungs)
            encode(primary.path, picture, planned, progress=progress)
            made = []
            for p in planned:
                out = pictures.read(p.path)
                if out is None:
                    raise MediaError(f"the {p.rung.name} rendition has no picture", path=primary.path)
                made.append({"file": p.path.name, "mime_type": content_type_for(p.path.name), "role": "video",
                             "duration": out.duration, "size": [out.width, out.height]})
            cache.write_manifest(staging, {"episode": episode.key, "source": str(primary.path), "renditions": made})
        manifest = cache.load(entry)
        assert manifest is not None
    elif progress:
        progress(1.0)
    cache.prune(entry)
    extra = tuple(Rendition(path=entry / r["file"], mime_type=r["mime_type"], role="video",
                            duration=r["duration"] or primary.duration, loudness=primary.loudness,
                            size=(r["size"][0], r["size"][1])) for r in manifest["renditions"])
    at = processed.renditions.index(primary) + 1
    renditions = (*processed.renditions[:at], *extra, *processed.renditions[at:])
    return replace(processed, renditions=renditions, cached=processed.cached and cached)


def encode(source: Path, picture: pictures.Picture, planned: tuple[Planned, ...], *,
           progress: Callable[[float], None] | None = None) -> None:
    """One run: the picture decoded once, `split` into a scaled chain per rendition, each encoded by
    x264 (which threads across the cores itself, also on an ffmpeg older than 7), the audio copied."""
    ffmpeg.require(filters=("split", "scale", "fps", "format"), encoders=("libx264",),
                   purpose="video renditions")
    fps = min(picture.fps or MAX_FPS, MAX_FPS)
    chains = [f"[0:v:0]split={len(planned)}" + "".join(f"[s{i}]" for i in range(len(planned)))]
    for i, p in enumerate(planned):
        side = p.rung.short_side
        # the short side becomes the rung's, whichever way up the picture is; -2 keeps the aspect
        # with an even length, as 4:2:0 needs
        w, h = f"if(gte(iw\\,ih)\\,-2\\,{side})", f"if(gte(iw\\,ih)\\,{side}\\,-2)"
        chains.append(f"[s{i}]scale=w='{w}':h='{h}':flags=lanczos,setsar=1,fps={fps:g},format=yuv420p[v{i}]")
    args: list = ["-i", source, "-filter_complex", ";".join(chains)]
    for i, p in enumerate(planned):
        rate = p.rung.maxrate_kbps
        args += ["-map", f"[v{i}]", "-map", "0:a:0?", "-c:a", "copy",
                 "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
                 "-maxrate", f"{rate}k", "-bufsize", f"{2 * rate}k",
                 "-profile:v", "high", "-level:v", p.rung.level, "-g", str(round(fps * KEYFRAME_SECONDS)),
                 "-map_metadata", "-1", "-map_chapters", "-1",
                 # moov first, so a player starts before the whole file has arrived
                 "-movflags", "+faststart", "-f", "mp4", "-y", p.path]
    ffmpeg.run(args, what=source, duration=picture.duration, progress=progress, writes=planned[0].path)
