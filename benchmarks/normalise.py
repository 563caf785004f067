"""Benchmark: media-pipeline's normalise+encode against ffmpeg-normalize and a bare ffmpeg MP3 transcode.

Generates a speech-like 48 kHz stereo WAV of the given length at -28 LUFS, then runs, one after
the other with the same ffmpeg binary and the same target, bitrate and sample rate:

  media-pipeline   analysis pass, one encode pass with verification on a second core
  ffmpeg-normalize two-pass EBU R128 loudnorm (`pip install -e '.[bench]'`)
  bare transcode   ffmpeg -i in.wav -c:a libmp3lame -b:a 128k out.mp3 (the floor: no normalising)

Each runs in its own child process. Peak memory is reported two ways: the largest single process
(getrusage RUSAGE_CHILDREN of a wrapper process that runs only that contender) and the sum over
the contender's whole process tree, sampled every 50 ms with psutil. Loudness is measured on
each encoded file with ffmpeg's ebur128=peak=true.

    python benchmarks/normalise.py                 # 60 minutes
    python benchmarks/normalise.py --minutes 180 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from media_pipeline import ffmpeg, loudness, synth  # noqa: E402


def run_pipeline(source: Path, out: Path, target: float, ceiling: float, bitrate: int, sample_rate: int) -> None:
    """The media-pipeline contender: what `process` does to an audio episode, without the cache."""
    from media_pipeline.encode import Output
    from media_pipeline.model import AudioSettings
    from media_pipeline.probe import probe
    from media_pipeline.process import render

    settings = AudioSettings(target_lufs=target, true_peak_db=ceiling, bitrate_kbps=bitrate, sample_rate=sample_rate)
    render(probe(source), settings, (Output(out, "mp3", bitrate),))


def _wrapped(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `argv` inside a fresh wrapper process; return wall time and both peak-memory figures."""
    import psutil

    wrapper = ("import resource, subprocess, sys, json, time; t = time.perf_counter(); "
               "rc = subprocess.run(sys.argv[1:]).returncode; wall = time.perf_counter() - t; "
               "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
               "print(json.dumps({'rc': rc, 'wall': wall, 'max_process_kb': peak}), file=sys.stderr)")
    proc = subprocess.Popen([sys.executable, "-c", wrapper, *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    tree_peak = 0
    while proc.poll() is None:
        try:
            members = [watched, *watched.children(recursive=True)]
            total = 0
            for member in members:
                try:
                    total += member.memory_info().rss
                except psutil.Error:
                    pass
            tree_peak = max(tree_peak, total)
        except psutil.Error:
            pass
        time.sleep(0.05)
    stderr = proc.stderr.read()
    proc.wait()
    report = json.loads(stderr.strip().splitlines()[-1])
    if report["rc"] != 0:
        raise SystemExit(f"benchmark contender failed: {' '.join(argv)}\n{stderr[-2000:]}")
    return {"wall": report["wall"], "max_process_mb": report["max_process_kb"] / 1024,
            "tree_mb": tree_peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the generated recording (60)")
    parser.add_argument("--level", type=float, default=-28.0, help="loudness of the recording, LUFS (-28)")
    parser.add_argument("--target", type=float, default=-16.0, help="target integrated loudness, LUFS (-16)")
    parser.add_argument("--ceiling", type=float, default=-1.0, help="true-peak ceiling, dBTP (-1)")
    parser.add_argument("--bitrate", type=int, default=128, help="MP3 bitrate, kbit/s (128)")
    parser.add_argument("--workdir", type=Path, help="where to write the media (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--run-pipeline", nargs=2, metavar=("SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_pipeline:
        run_pipeline(Path(args.run_pipeline[0]), Path(args.run_pipeline[1]), args.target, args.ceiling, args.bitrate,
                     48000)
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        bench(Path(tmp), args)


def bench(work: Path, args: argparse.Namespace) -> None:
    binary = ffmpeg.binary()
    source = work / "speech.wav"
    started = time.perf_counter()
    synth.speech(source, args.minutes * 60, level_lufs=args.level, channels=2, sample_rate=48000)
    print(f"generated {args.minutes:g} min of 48 kHz stereo speech in {time.perf_counter() - started:.0f} s; "
          f"ffmpeg: {binary}", flush=True)
    measured_source = loudness.measure(source)
    print(f"source: {loudness.describe(measured_source)}", flush=True)
    contenders = {
        "media-pipeline": ([sys.executable, __file__, "--target", str(args.target), "--ceiling", str(args.ceiling),
                            "--bitrate", str(args.bitrate), "--run-pipeline", str(source), str(work / "mp.mp3")],
                           None, work / "mp.mp3"),
        "ffmpeg-normalize": ([str(Path(sys.executable).parent / "ffmpeg-normalize"), str(source), "-o",
                              str(work / "fn.mp3"), "-c:a", "libmp3lame", "-b:a", f"{args.bitrate}k", "-ar", "48000",
                              "-t", str(args.target), "-tp", str(args.ceiling), "-f", "-q"],
                             {**os.environ, "FFMPEG_PATH": binary}, work / "fn.mp3"),
        "bare transcode": ([binary, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(source), "-c:a",
                            "libmp3lame", "-b:a", f"{args.bitrate}k", "-y", str(work / "bare.mp3")],
                           None, work / "bare.mp3"),
    }
    results = {}
    for name, (argv, env, out) in contenders.items():
        stats = _wrapped(argv, env)
        stats["loudness"] = loudness.as_dict(loudness.measure(out))
        results[name] = stats
        level = stats["loudness"]
        print(f"{name:17s} {stats['wall']:7.1f} s  {args.minutes * 60 / stats['wall']:5.0f}x real time  "
              f"largest process {stats['max_process_mb']:5.0f} MB  tree {stats['tree_mb']:5.0f} MB  "
              f"{level['integrated']:6.1f} LUFS  LRA {level['lra']:4.1f} LU  {level['true_peak']:5.1f} dBTP",
              flush=True)
    mp, fn, bare = (results[n] for n in contenders)
    ratios = {"vs ffmpeg-normalize": mp["wall"] / fn["wall"], "vs bare transcode": mp["wall"] / bare["wall"],
              "ffmpeg-normalize vs bare": fn["wall"] / bare["wall"]}
    print("wall-time ratios: " + ", ".join(f"media-pipeline {k} {v:.2f}" if k.startswith("vs") else f"{k} {v:.2f}"
                                           for k, v in ratios.items()))
    for name, stats in results.items():
        if name == "bare transcode":
            continue
        error = stats["loudness"]["integrated"] - args.target
        ok = abs(error) <= 0.5 and stats["loudness"]["true_peak"] <= args.ceiling
        print(f"{name}: {error:+.1f} LU from target, true peak {stats['loudness']['true_peak']:.1f} dBTP: "
              f"{'within' if ok else 'OUTSIDE'} 0.5 LU and the {args.ceiling:g} dBTP ceiling")
    if args.json:
        args.json.write_text(json.dumps({"minutes": args.minutes, "source": loudness.as_dict(measured_source),
                                         "results": results, "ratios": ratios}, indent=2))


if __name__ == "__main__":
    main()
