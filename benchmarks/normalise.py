"""Benchmark: media-pipeline's audio against ffmpeg-normalize and bare ffmpeg transcodes, in one run.

Three scenarios, each at every length asked for (default 3 and 60 minutes), all with the same
ffmpeg binary, target (-16 LUFS, -1 dBTP), bitrate (128k) and sample rate (48 kHz):

  wav        a speech-like 48 kHz stereo WAV at -28 LUFS to MP3:
             media-pipeline, ffmpeg-normalize (two-pass loudnorm), bare WAV to MP3 transcode
  webinar    an MP4 (H.264 slides, AAC speech at -27 LUFS) to an MP4 (video copied, AAC) and an MP3:
             media-pipeline (both in one run), ffmpeg-normalize (two runs: MP4, then MP3),
             bare AAC re-encode with the video copied (the floor: one encode, no normalising)
  podcast    `synth.adversarial` (repeating level changes, loud and quiet passages, noise and hum,
             -28 LUFS; looped from 3 minutes up to 20) to a mono -19 LUFS MP3 at 96k, against one
             bare ffmpeg run writing the same (`-ac 1 -ar 44100 -c:a libmp3lame -b:a 96k`)
  hard-webinar  the same sound as a webinar, -16 LUFS, to an MP4 (video copied, AAC 128k) and an MP3
             128k at the recording's 48 kHz, against one bare run writing both (which keeps the
             rate); each reports its encodes per rendition
  levelling  a badly levelled recording (every other 30 s passage 10 dB down, pauses of room tone)
             to MP3 with `max_loudness_range` (default 8 LU): media-pipeline levelled, and the bare
             WAV to MP3 transcode

Each contender runs in its own child process; the rounds are interleaved (every contender once
per round, in turn) and the medians are reported, with the ratios of medians. Peak memory is the
sum over the contender's whole process tree (`measured.py`: resident sizes every 50 ms, on Linux
read from /proc, elsewhere with psutil): of resident sizes (RSS), which count pages the processes
share (the ffmpeg binary, its libraries) once per process, and, on Linux, of proportional sizes
(PSS, every 0.5 s), which divide them among the sharers: what the tree really takes. Every encoded
output is measured with ffmpeg's ebur128=peak=true and checked: within 0.5 LU of the target, at or under
-1 dBTP (the true-peak margin is reported), and, levelled, at or under the asked loudness range.
Install the comparison first: `pip install -e '.[bench]'`.

    python benchmarks/normalise.py                              # 3 and 60 minutes, 3 rounds
    python benchmarks/normalise.py --minutes 3 --rounds 5 --json results.json
    python benchmarks/normalise.py --scenarios webinar --normalize-rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from media_pipeline.audio import ffmpeg, loudness  # noqa: E402
from media_pipeline_demo import synth  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from measured import run_bench, run_measured as _wrapped  # noqa: E402

SCENARIOS = ("wav", "webinar", "levelling", "podcast", "hard-webinar")
# The adversarial scenarios (`synth.adversarial`: repeating level changes, a long loud and a long
# quiet passage, noise floor and hum, -28 LUFS), as the table: a mono podcast show at
# -19 LUFS (MP3 96k, 44.1 kHz) and a webinar at -16 LUFS (AAC 128k in MP4 plus MP3 128k, at the
# recording's 48 kHz, as the bare run writes them and the webinar show publishes them). Up to 20
# minutes the recording is a 3-minute programme looped; longer ones are one programme.
ADVERSARIAL = {"podcast": {"target": -19.0, "channels": 1, "bitrate": 96, "rate": 44100},
               "hard-webinar": {"target": -16.0, "channels": 2, "bitrate": 128, "rate": 48000}}


def run_pipeline(source: Path, out: Path, target: float, ceiling: float, bitrate: int, sample_rate: int,
                 max_range: float | None, channels: int = 2) -> None:
    """The media-pipeline contender: what `process` does to an episode, without the cache.

    An MP4 output path means a webinar: the MP4 (video copied) and an MP3 beside it. The encode
    runs per rendition are counted at the ffmpeg runner and written beside the output
    (`OUT.encodes.json`).
    """
    from media_pipeline.audio.encode import Output
    from media_pipeline.audio.probe import probe
    from media_pipeline.audio.process import render
    from media_pipeline.model import AudioSettings

    encodes = {"aac": 0, "libmp3lame": 0}
    popen = ffmpeg.popen

    def counting(argv, **kwargs):
        for a, b in zip(argv, argv[1:]):
            if a == "-c:a" and b in encodes:
                encodes[b] += 1
        return popen(argv, **kwargs)

    ffmpeg.popen = counting
    settings = AudioSettings(target_lufs=target, true_peak_db=ceiling, bitrate_kbps=bitrate, sample_rate=sample_rate,
                             video_audio_bitrate_kbps=bitrate, max_loudness_range=max_range, channels=channels)
    info = probe(source)
    if out.suffix == ".mp4":
        # the source's video codec, as `process` passes it: H.264 is copied, anything else re-encoded
        codec = info.video.codec if info.video else None
        outputs = (Output(out, "mp4", bitrate, codec), Output(out.with_suffix(".mp3"), "mp3", bitrate))
    else:
        outputs = (Output(out, "mp3", bitrate),)
    render(info, settings, outputs, video=info.has_video)
    out.with_suffix(".encodes.json").write_text(json.dumps(encodes))


def _contenders(scenario: str, source: Path, work: Path, args: argparse.Namespace) -> dict[str, dict]:
    """name -> {argvs, env, outputs, checked}: what each contender runs and which files it writes."""
    binary = ffmpeg.binary()
    quiet = [binary, "-hide_banner", "-nostdin", "-loglevel", "error"]
    rate = ["-ar", "48000"]
    common = ["--target", str(args.target), "--ceiling", str(args.ceiling), "--bitrate", str(args.bitrate)]
    fn = str(Path(sys.executable).parent / "ffmpeg-normalize")
    fn_args = ["-t", str(args.target), "-tp", str(args.ceiling), "-ar", "48000", "-f", "-q"]
    fn_env = {**os.environ, "FFMPEG_PATH": binary}
    tag = f"{scenario}-{source.stem}"
    if scenario == "wav":
        return {
            "media-pipeline": {"argvs": [[sys.executable, __file__, *common, "--run-pipeline", str(source),
                                          str(work / f"{tag}-mp.mp3")]], "outputs": [work / f"{tag}-mp.mp3"]},
            "ffmpeg-normalize": {"argvs": [[fn, str(source), "-o", str(work / f"{tag}-fn.mp3"), "-c:a", "libmp3lame",
                                            "-b:a", f"{args.bitrate}k", *fn_args]],
                                 "env": fn_env, "outputs": [work / f"{tag}-fn.mp3"], "normalize": True},
            "bare transcode": {"argvs": [[*quiet, "-i", str(source), "-c:a", "libmp3lame", "-b:a", f"{args.bitrate}k",
                                          *rate, "-y", str(work / f"{tag}-bare.mp3")]],
                               "outputs": [work / f"{tag}-bare.mp3"], "floor": True},
        }
    if scenario in ADVERSARIAL:
        a = ADVERSARIAL[scenario]
        ours = ["--target", str(a["target"]), "--ceiling", str(args.ceiling), "--bitrate", str(a["bitrate"]),
                "--channels", str(a["channels"]), "--rate", str(a["rate"])]
        fn_common = ["-t", str(a["target"]), "-tp", str(args.ceiling), "-ar", str(a["rate"]), "-f", "-q"]
        if scenario == "podcast":
            out = work / f"{tag}-mp.mp3"
            mono = ["-ac", "1", "-ar", str(a["rate"]), "-c:a", "libmp3lame", "-b:a", f"{a['bitrate']}k"]
            return {
                "media-pipeline": {"argvs": [[sys.executable, __file__, *ours, "--run-pipeline", str(source), str(out)]],
                                   "outputs": [out], "target": a["target"]},
                "ffmpeg-normalize": {"argvs": [[fn, str(source), "-o", str(work / f"{tag}-fn.mp3"), "-c:a", "libmp3lame",
                                                "-b:a", f"{a['bitrate']}k", "-e=-ac 1", *fn_common]],
                                     "env": fn_env, "outputs": [work / f"{tag}-fn.mp3"], "normalize": True,
                                     "target": a["target"]},
                "bare": {"argvs": [[*quiet, "-i", str(source), *mono, "-y", str(work / f"{tag}-bare.mp3")]],
                         "outputs": [work / f"{tag}-bare.mp3"], "floor": True},
            }
        mp4, mp3 = work / f"{tag}-mp.mp4", work / f"{tag}-mp.mp3"
        bare4, bare3 = work / f"{tag}-bare.mp4", work / f"{tag}-bare.mp3"
        return {
            "media-pipeline": {"argvs": [[sys.executable, __file__, *ours, "--run-pipeline", str(source), str(mp4)]],
                               "outputs": [mp4, mp3], "target": a["target"]},
            "ffmpeg-normalize": {"argvs": [[fn, str(source), "-o", str(work / f"{tag}-fn.mp4"), "-c:a", "aac",
                                            "-b:a", "128k", *fn_common],
                                           [fn, str(source), "-o", str(work / f"{tag}-fn.mp3"), "-vn", "-c:a",
                                            "libmp3lame", "-b:a", "128k", *fn_common]],
                                 "env": fn_env, "outputs": [work / f"{tag}-fn.mp4", work / f"{tag}-fn.mp3"],
                                 "normalize": True, "target": a["target"]},
            # one run writing the same outputs: the MP4 (video copied, AAC) and the MP3
            "bare": {"argvs": [[*quiet, "-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy",
                                "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-y", str(bare4),
                                "-map", "0:a:0", "-c:a", "libmp3lame", "-b:a", "128k", "-y", str(bare3)]],
                     "outputs": [bare4, bare3], "floor": True},
        }
    if scenario == "webinar":
        mp4, mp3 = work / f"{tag}-mp.mp4", work / f"{tag}-mp.mp3"
        return {
            "media-pipeline": {"argvs": [[sys.executable, __file__, *common, "--run-pipeline", str(source), str(mp4)]],
                               "outputs": [mp4, mp3]},
            "ffmpeg-normalize": {"argvs": [[fn, str(source), "-o", str(work / f"{tag}-fn.mp4"), "-c:a", "aac",
                                            "-b:a", f"{args.bitrate}k", *fn_args],
                                           [fn, str(source), "-o", str(work / f"{tag}-fn.mp3"), "-vn", "-c:a",
                                            "libmp3lame", "-b:a", f"{args.bitrate}k", *fn_args]],
                                 "env": fn_env, "outputs": [work / f"{tag}-fn.mp4", work / f"{tag}-fn.mp3"],
                                 "normalize": True},
            "bare transcode": {"argvs": [[*quiet, "-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy",
                                          "-c:a", "aac", "-b:a", f"{args.bitrate}k", *rate, "-movflags", "+faststart",
                                          "-y", str(work / f"{tag}-bare.mp4")]],
                               "outputs": [work / f"{tag}-bare.mp4"], "floor": True},
        }
    return {
        "media-pipeline levelled": {"argvs": [[sys.executable, __file__, *common, "--max-range", str(args.max_range),
                                               "--run-pipeline", str(source), str(work / f"{tag}-mp.mp3")]],
                                    "outputs": [work / f"{tag}-mp.mp3"], "levelled": True},
        "bare transcode": {"argvs": [[*quiet, "-i", str(source), "-c:a", "libmp3lame", "-b:a", f"{args.bitrate}k",
                                      *rate, "-y", str(work / f"{tag}-bare.mp3")]],
                           "outputs": [work / f"{tag}-bare.mp3"], "floor": True},
    }


def _source(scenario: str, minutes: float, folder: Path) -> Path:
    """The generated recording for a scenario, reused when `folder` (--media) has it already."""
    seconds = minutes * 60
    name = {"wav": "speech", "webinar": "webinar", "levelling": "levelling", "podcast": "adversarial",
            "hard-webinar": "adversarial"}[scenario]
    video = scenario in ("webinar", "hard-webinar")
    path = folder / f"{name}-{minutes:g}.{'mp4' if video else 'wav'}"
    if path.exists():
        return path
    if scenario in ADVERSARIAL:
        return synth.adversarial(path, seconds, loop=180.0 if 3 < minutes <= 20 else None)
    if scenario == "wav":
        return synth.speech(path, seconds, level_lufs=-28.0, channels=2, sample_rate=48000)
    if scenario == "webinar":
        return synth.webinar(path, seconds, level_lufs=-27.0, size="640x360", rate=10)
    return synth.badly_levelled(path, seconds, level_lufs=-24.0)


def bench(work: Path, args: argparse.Namespace) -> dict:
    print(f"ffmpeg: {ffmpeg.binary()}; {os.cpu_count()} CPUs; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    report: dict = {"rounds": args.rounds, "normalize_rounds": args.normalize_rounds, "scenarios": []}
    for minutes in args.minutes:
        for scenario in args.scenarios:
            started = time.perf_counter()
            source = _source(scenario, minutes, args.media or work)
            measured_source = loudness.measure(source)
            print(f"\n== {scenario}, {minutes:g} min (generated in {time.perf_counter() - started:.0f} s); source: "
                  f"{loudness.describe(measured_source)}", flush=True)
            contenders = _contenders(scenario, source, work, args)
            for name, c in contenders.items():
                for argv in c["argvs"]:
                    print(f"   {name}: {subprocess.list2cmdline(argv)}")
            runs: dict[str, list[dict]] = {name: [] for name in contenders}
            for round_ in range(args.rounds):
                for name, c in contenders.items():
                    if c.get("normalize") and round_ >= args.normalize_rounds:
                        continue
                    runs[name].append(_wrapped(c["argvs"], c.get("env")))
            results = {}
            for name, c in contenders.items():
                if not runs[name]:  # ffmpeg-normalize with --normalize-rounds 0
                    continue
                walls = [r["wall"] for r in runs[name]]
                outputs = [_check(p, args, levelled=c.get("levelled", False), floor=c.get("floor", False),
                                  target=c.get("target", args.target)) for p in c["outputs"]]
                counted = c["outputs"][0].with_suffix(".encodes.json")
                if counted.exists():  # media-pipeline's encode runs per rendition, from its last round
                    outputs[0]["encodes"] = json.loads(counted.read_text())
                results[name] = {"walls": walls, "median": statistics.median(walls),
                                 "tree_mb": max(r["tree_mb"] for r in runs[name]),
                                 "tree_pss_mb": max((r["tree_pss_mb"] or 0.0) for r in runs[name]) or None,
                                 "outputs": outputs,
                                 "commands": [subprocess.list2cmdline(a) for a in c["argvs"]]}
            floor = next(n for n, c in contenders.items() if c.get("floor"))
            ours = next(n for n in contenders if n.startswith("media-pipeline"))
            ratios = {f"{ours} / {floor}": results[ours]["median"] / results[floor]["median"]}
            if "ffmpeg-normalize" in results:
                ratios[f"{ours} / ffmpeg-normalize"] = results[ours]["median"] / results["ffmpeg-normalize"]["median"]
            _print(scenario, minutes, results, ratios, args)
            report["scenarios"].append({"scenario": scenario, "minutes": minutes,
                                        "source": loudness.as_dict(measured_source), "results": results,
                                        "ratios": ratios})
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return report


def _check(path: Path, args: argparse.Namespace, *, levelled: bool, floor: bool, target: float) -> dict:
    measured = loudness.measure(path)
    ok = abs(measured.integrated - target) <= 0.5 and measured.true_peak <= args.ceiling
    if levelled:
        ok = ok and measured.lra <= args.max_range
    return {"file": path.name, **loudness.as_dict(measured), "margin_db": args.ceiling - measured.true_peak,
            "ok": None if floor else ok}


def _print(scenario: str, minutes: float, results: dict, ratios: dict, args: argparse.Namespace) -> None:
    for name, r in results.items():
        walls = " ".join(f"{w:.1f}" for w in r["walls"])
        pss = f" (PSS {r['tree_pss_mb']:.0f} MB)" if r["tree_pss_mb"] else ""
        print(f"{name:24s} median {r['median']:7.1f} s ({walls})  tree {r['tree_mb']:5.0f} MB{pss}", flush=True)
        for o in r["outputs"]:
            verdict = {None: "(not normalised)", True: "ok", False: "OUTSIDE"}[o["ok"]]
            print(f"    {o['file']:32s} {o['integrated']:6.1f} LUFS  LRA {o['lra']:4.1f} LU  {o['true_peak']:5.1f} dBTP"
                  f"  margin {o['margin_db']:+.1f} dB  {verdict}"
                  + (f"  encodes {o['encodes']}" if "encodes" in o else ""))
    print(f"ratios of medians ({scenario}, {minutes:g} min): " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[3.0, 60.0], help="lengths (3 60)")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per scenario (3)")
    parser.add_argument("--normalize-rounds", type=int, default=None,
                        help="rounds that include ffmpeg-normalize (default: all; it takes four times as long)")
    parser.add_argument("--target", type=float, default=-16.0, help="target integrated loudness, LUFS (-16)")
    parser.add_argument("--ceiling", type=float, default=-1.0, help="true-peak ceiling, dBTP (-1)")
    parser.add_argument("--bitrate", type=int, default=128, help="bitrate, kbit/s (128)")
    parser.add_argument("--max-range", type=float, default=8.0, help="levelling: max loudness range, LU (8)")
    parser.add_argument("--workdir", type=Path, help="where to write the media (default: a temporary folder)")
    parser.add_argument("--media", type=Path, help="keep the generated recordings here and reuse them")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--run-pipeline", nargs=2, metavar=("SOURCE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--channels", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=int, default=48000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_pipeline:
        max_range = args.max_range if "--max-range" in sys.argv else None
        run_pipeline(Path(args.run_pipeline[0]), Path(args.run_pipeline[1]), args.target, args.ceiling, args.bitrate,
                     args.rate, max_range, args.channels)
        return
    if args.normalize_rounds is None:
        args.normalize_rounds = args.rounds
    run_bench(bench, args)


if __name__ == "__main__":
    main()
