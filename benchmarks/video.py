"""Benchmark: media-pipeline's whole webinar job against bare ffmpeg and PeerTube's settings, in one run.

The recording is `synth.slides_webinar`: a 1080p, 25 fps screen-shared slide deck (a new slide every
`--slide-seconds`) with a small moving speaker window and speech (AAC 128k), as a meeting tool
exports it. Three contenders make the same ladder (720p and 360p, H.264 with the audio copied, moov
first) with the same ffmpeg binary:

  media-pipeline  the whole job in a fresh workspace: `media-pipeline chapters SHOW/SLUG` (slide
                  detection, a picture per slide) then `media-pipeline publish --all` (audio
                  analysed and normalised, the source-quality MP4 and the MP3, the renditions, the
                  poster, tags, feed and site, written to a local folder)
  bare ffmpeg     one ffmpeg run making only the renditions with media-pipeline's own settings (read
                  from `media_pipeline.video.renditions`): one decode, `split`, lanczos `scale`,
                  x264 `veryfast` CRF 23 with its `-maxrate`/`-bufsize` caps, profile and level,
                  keyframes every 4 s, the audio copied, `+faststart`
  peertube        PeerTube's default VOD profile for the same ladder: a run per resolution (a job
                  each), `-preset veryfast`, x264's default CRF, `-maxrate` its target bit rate and
                  `-bufsize` twice it, `-b_strategy 1 -bf 16`, a keyframe every 2 s, `-r` the
                  source's fps (capped at 30 below 720p), `-pix_fmt yuv420p`, metadata stripped,
                  the audio copied, `-movflags faststart`. The target is PeerTube's "average
                  theoretical bit rate" (bits per pixel per resolution times width, height and
                  fps), capped at 1.3 times the source's bit rate, never under 0.02 bit per pixel.

Each contender runs in its own child process; the rounds are interleaved and the medians and ratios
of medians reported, with the peak memory of the process tree (benchmarks/measured.py). Every
rendition is then measured: its size in bytes, its video bit rate, and SSIM against the source
(ffmpeg's `ssim` filter, the source scaled to the rendition's size with bicubic).

    python benchmarks/video.py                                  # 2 minutes, 2 rounds
    python benchmarks/video.py --minutes 10 --rounds 3 --json video.json
    python benchmarks/video.py --minutes 60 --rounds 1 --media ~/bench-media   # keep the recording
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from measured import run_bench, run_measured  # noqa: E402

from media_pipeline.audio import ffmpeg  # noqa: E402
from media_pipeline.video import renditions  # noqa: E402
from media_pipeline_demo import synth  # noqa: E402

LADDER = (720, 360)

# PeerTube's bits per pixel for its average target and its floor, by resolution (its
# packages/core-utils/src/videos/bitrate.ts), and its frame-rate rule (server constants): below
# 720p a source over 30 fps is brought to a standard rate of at most 30.
PEERTUBE_AVERAGE_BPP = {2160: 0.08, 1440: 0.09, 1080: 0.10, 720: 0.11, 480: 0.12, 360: 0.15, 240: 0.17, 144: 0.19}
PEERTUBE_MIN_BPP = 0.02
PEERTUBE_KEEP_FPS_FROM = 720
PEERTUBE_AVERAGE_FPS = 30

SHOW_TOML = """\
title = "Webinaarit"
description = "Vertailun webinaarisarja."
language = "fi"
author = "Vertailu"
link = "https://example.fi/webinaarit"
categories = ["Government"]
artwork = "artwork/show.jpg"
explicit = false
medium = "podcast"

[owner]
name = "Vertailu"
email = "podcast@example.fi"

[audio]
target_lufs = -16.0
true_peak = -1.0

[video]
renditions = ["720p", "360p"]
"""


def peertube_target_bps(short_side: int, ratio: float, fps: float, input_bps: float | None) -> int:
    """PeerTube's `-maxrate` for a rendition: its average bits per pixel for the resolution (the
    entry of the largest resolution at or under it) times the picture's pixels and fps, capped at
    1.3 times the source's bit rate when that is known, and never under 0.02 bit per pixel."""
    bpp = next(v for r, v in sorted(PEERTUBE_AVERAGE_BPP.items(), reverse=True) if r <= short_side)
    long_side = short_side / ratio if 0 < ratio < 1 else short_side * ratio
    average = math.floor(short_side * long_side * fps * bpp)
    floor = math.floor(short_side * long_side * fps * PEERTUBE_MIN_BPP)
    capped = min(average, input_bps * 1.3) if input_bps else average
    return int(max(floor, capped))


def peertube_fps(short_side: int, source_fps: float) -> int:
    """PeerTube's output frame rate: the source's, brought to a standard 24, 25 or 30 below 720p when
    it is over 30 (the standard rate that divides it best)."""
    fps = round(source_fps)
    if short_side < PEERTUBE_KEEP_FPS_FROM and fps > PEERTUBE_AVERAGE_FPS:
        fps = min((24, 25, 30), key=lambda s: fps % s)
    return fps


def _probe(path: Path) -> dict:
    out = subprocess.run([_ffprobe(), "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def _ffprobe() -> str:
    return shutil.which("ffprobe") or "ffprobe"


def _video(info: dict) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == "video")


def _fps(stream: dict) -> float:
    num, den = (int(x) for x in stream["avg_frame_rate"].split("/"))
    return num / den if den else 0.0


def _size_for(width: int, height: int, short_side: int) -> tuple[int, int]:
    """The picture size of the rung: the short side the rung's, the other kept in proportion, even."""
    if width >= height:
        return 2 * round(width * short_side / height / 2), short_side
    return short_side, 2 * round(height * short_side / width / 2)


def bare_argv(source: Path, out: dict[int, Path], fps: float) -> list[str]:
    """One ffmpeg run with media-pipeline's rendition settings: one decode, split, scale, x264."""
    rate = min(fps, renditions.MAX_FPS)
    chains = [f"[0:v:0]split={len(out)}" + "".join(f"[s{i}]" for i in range(len(out)))]
    argv = [ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(source)]
    for i, side in enumerate(out):
        chains.append(f"[s{i}]scale=-2:{side}:flags=lanczos,setsar=1,fps={rate:g},format=yuv420p[v{i}]")
    argv += ["-filter_complex", ";".join(chains)]
    for i, (side, path) in enumerate(out.items()):
        rung = renditions.LADDER[side]
        argv += ["-map", f"[v{i}]", "-map", "0:a:0", "-c:a", "copy", "-c:v", "libx264",
                 "-preset", renditions.PRESET, "-crf", str(renditions.CRF),
                 "-maxrate", f"{rung.maxrate_kbps}k", "-bufsize", f"{2 * rung.maxrate_kbps}k",
                 "-profile:v", "high", "-level:v", rung.level, "-g", str(round(rate * renditions.KEYFRAME_SECONDS)),
                 "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", "-y", str(path)]
    return argv


def peertube_argvs(source: Path, out: dict[int, Path], info: dict) -> tuple[list[list[str]], dict[int, int]]:
    """A run per resolution with PeerTube's default x264 VOD options; and the `-maxrate` of each."""
    video = _video(info)
    width, height = int(video["width"]), int(video["height"])
    input_bps = float(info["format"].get("bit_rate") or 0) or None
    argvs, targets = [], {}
    for side, path in out.items():
        fps = peertube_fps(side, _fps(video))
        target = peertube_target_bps(side, round(width / height, 4), fps, input_bps)  # its buildAspectRatio
        targets[side] = target
        scale = f"-2:{side}" if width >= height else f"{side}:-2"
        argvs.append([ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(source),
                      "-max_muxing_queue_size", "1024", "-map_metadata", "-1", "-pix_fmt", "yuv420p",
                      "-map", "0:v:0", "-map", "0:a:0", "-c:v", "libx264", "-vf", f"scale={scale}",
                      "-preset", "veryfast", "-maxrate:v", str(target), "-bufsize:v", str(2 * target),
                      "-b_strategy", "1", "-bf", "16", "-r", str(fps), "-g:v", str(2 * fps),
                      "-c:a", "copy", "-movflags", "faststart", "-f", "mp4", "-y", str(path)])
    return argvs, targets


def ssim(rendition: Path, source: Path) -> float:
    """SSIM (all planes) of the rendition against the source scaled to the rendition's size."""
    video = _video(_probe(rendition))
    w, h = video["width"], video["height"]
    graph = (f"[1:v]scale={w}:{h}:flags=bicubic,setsar=1,format=yuv420p[ref];"
             "[0:v]setsar=1,format=yuv420p[out];[out][ref]ssim")
    err = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-i", str(rendition), "-i", str(source),
                          "-lavfi", graph, "-f", "null", "-"], capture_output=True, text=True).stderr
    found = re.findall(r"SSIM .*All:([0-9.]+)", err)
    if not found:
        raise SystemExit(f"no SSIM for {rendition}:\n{err[-1500:]}")
    return float(found[-1])


def describe(path: Path, source: Path) -> dict:
    info = _probe(path)
    video = _video(info)
    audio = next((s for s in info["streams"] if s["codec_type"] == "audio"), None)
    return {"file": path.name, "bytes": path.stat().st_size, "size": f"{video['width']}x{video['height']}",
            "codec": video["codec_name"], "audio": audio["codec_name"] if audio else None,
            "video_kbps": round(int(video.get("bit_rate") or 0) / 1000),
            "faststart": _moov_first(path), "ssim": ssim(path, source)}


def _moov_first(path: Path) -> bool:
    with open(path, "rb") as fh:
        while header := fh.read(8):
            if len(header) < 8:
                return False
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if kind in (b"moov", b"mdat"):
                return kind == b"moov"
            if size == 1:
                size = int.from_bytes(fh.read(8), "big") - 8
            fh.seek(size - 8, 1)
    return False


def _workspace(template: Path, folder: Path) -> Path:
    """A fresh copy of the workspace: no build cache, no chapters, nothing published."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(template, folder)
    return folder


def _template(source: Path, folder: Path) -> Path:
    root = folder / "template"
    (root / "feeds").mkdir(parents=True)
    (root / "episodes" / "webinaari").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "artwork").mkdir()
    (root / "media-pipeline.toml").write_text('storage = "file://./public"\npublic_url = "http://127.0.0.1:8000"\n'
                                              'timezone = "Europe/Helsinki"\n')
    (root / "feeds" / "webinaari.toml").write_text(SHOW_TOML, encoding="utf-8")
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=size=1400x1400:duration=1", "-frames:v", "1", "-q:v", "4",
             "-y", root / "artwork" / "show.jpg"], what=root / "artwork" / "show.jpg")
    shutil.copyfile(source, root / "media" / "01.mp4")
    (root / "episodes" / "webinaari" / "01.md").write_text(
        '---\ntitle: "Webinaari 01"\npublish_at: 2026-01-15T09:00:00+02:00\nsource: media/01.mp4\n---\n\n'
        "Vertailun webinaari.\n", encoding="utf-8")
    return root


def _source(minutes: float, slide_seconds: float, folder: Path) -> Path:
    seconds = minutes * 60
    path = folder / f"slides-1080p-{minutes:g}min-{slide_seconds:g}s.mp4"
    if not path.exists():
        changes = tuple(float(t) for t in range(int(slide_seconds), int(seconds), int(slide_seconds)))
        synth.slides_webinar(path, seconds, changes, size="1920x1080", rate=25)
    return path


def bench(work: Path, args: argparse.Namespace) -> dict:
    print(f"ffmpeg: {ffmpeg.binary()}; {os.cpu_count()} CPUs; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    started = time.perf_counter()
    source = _source(args.minutes, args.slide_seconds, args.media or work)
    info = _probe(source)
    video = _video(info)
    print(f"source: {source.name}, {video['width']}x{video['height']} at {_fps(video):g} fps, "
          f"{int(info['format']['bit_rate']) / 1000:.0f} kbit/s, {float(info['format']['duration']):.0f} s "
          f"(ready in {time.perf_counter() - started:.0f} s)", flush=True)
    template = _template(source, work)
    cli = str(Path(sys.executable).parent / "media-pipeline")
    ws = work / "ws"
    mp = [[cli, "--root", str(ws), "--quiet", "chapters", "webinaari/01"],
          [cli, "--root", str(ws), "--quiet", "publish", "--all"]]
    bare_out = {side: work / f"bare.{side}p.mp4" for side in LADDER}
    pt_out = {side: work / f"peertube.{side}p.mp4" for side in LADDER}
    pt_argvs, pt_targets = peertube_argvs(source, pt_out, info)
    contenders = {"media-pipeline": mp, "bare ffmpeg": [bare_argv(source, bare_out, _fps(video))],
                  "peertube": pt_argvs}
    for name, argvs in contenders.items():
        for argv in argvs:
            print(f"   {name}: {subprocess.list2cmdline(argv)}")
    print("   peertube -maxrate: " + ", ".join(f"{s}p {t / 1000:.0f} kbit/s" for s, t in pt_targets.items()))
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, argvs in contenders.items():
            if name == "media-pipeline":
                _workspace(template, ws)
            runs[name].append(run_measured(argvs))
            print(f"   {name}: {runs[name][-1]['wall']:.1f} s", flush=True)
    published = {side: next((ws / "public").rglob(f"*.{_size_for(int(video['width']), int(video['height']), side)[0]}"
                                                  f"x{side}.mp4")) for side in LADDER}
    outputs = {"media-pipeline": published, "bare ffmpeg": bare_out, "peertube": pt_out}
    results = {}
    for name in contenders:
        walls = [r["wall"] for r in runs[name]]
        results[name] = {"walls": walls, "median": statistics.median(walls),
                         "tree_mb": max(r["tree_mb"] for r in runs[name]),
                         "tree_pss_mb": max((r["tree_pss_mb"] or 0.0) for r in runs[name]) or None,
                         "renditions": {f"{side}p": describe(path, source) for side, path in outputs[name].items()},
                         "commands": [subprocess.list2cmdline(a) for a in contenders[name]]}
    median = {name: r["median"] for name, r in results.items()}
    ratios = {"media-pipeline / bare ffmpeg": median["media-pipeline"] / median["bare ffmpeg"],
              "media-pipeline / peertube": median["media-pipeline"] / median["peertube"],
              "peertube / bare ffmpeg": median["peertube"] / median["bare ffmpeg"]}
    _print(results, ratios)
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return {"minutes": args.minutes, "rounds": args.rounds, "source": {"file": source.name,
            "kbps": int(info["format"]["bit_rate"]) / 1000, "fps": _fps(video)},
            "peertube_maxrate_bps": {f"{s}p": t for s, t in pt_targets.items()}, "results": results, "ratios": ratios}


def _print(results: dict, ratios: dict) -> None:
    print()
    for name, r in results.items():
        walls = " ".join(f"{w:.1f}" for w in r["walls"])
        pss = f" (PSS {r['tree_pss_mb']:.0f} MB)" if r["tree_pss_mb"] else ""
        print(f"{name:16s} median {r['median']:7.1f} s ({walls})  tree {r['tree_mb']:5.0f} MB{pss}")
        for rung, o in r["renditions"].items():
            print(f"    {rung:5s} {o['size']:>9s} {o['codec']}/{o['audio']}  {o['bytes'] / 2**20:7.2f} MiB  "
                  f"video {o['video_kbps']:5d} kbit/s  SSIM {o['ssim']:.4f}  faststart {o['faststart']}")
    print("ratios of medians: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the webinar (2)")
    parser.add_argument("--slide-seconds", type=float, default=20.0, help="a new slide every this many seconds (20)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (2)")
    parser.add_argument("--workdir", type=Path, help="where to write the media (default: a temporary folder)")
    parser.add_argument("--media", type=Path, help="keep the generated recording here and reuse it")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args()
    if args.media:
        args.media.mkdir(parents=True, exist_ok=True)
    run_bench(bench, args)


if __name__ == "__main__":
    main()
