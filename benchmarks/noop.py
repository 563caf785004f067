"""Benchmark: a no-op `publish --all` (nothing changed since the last run) for a small and a large show.

Cron runs `publish --all` every few minutes over years of back catalogue, so a run that finds
nothing to do should cost the same for 2 episodes as for 200: read the manifest, see that every
episode's inputs are as they were, write nothing. This builds two workspaces (2 and 200 short
episodes of one show, each with a transcript and chapters, on local storage), publishes each
once, then times no-op runs of both, interleaved, each a fresh `media-pipeline --root WS publish
--all --no-notify` process as cron starts it (with every call of the storage backend counted: on S3
each is one request), and reports the medians, their ratio (target: at most 2) and the storage
requests each no-op run made (target: equal). It also times the same call in-process (`publish()`
without the interpreter's start-up), as the cost of each further episode. tests/test_publish.py
counts the requests of a no-op run on a real S3-compatible server.

    python benchmarks/noop.py                       # 2 and 200 episodes, 7 runs each
    python benchmarks/noop.py --sizes 2 40 200 --repeat 9 --keep /tmp/noop-bench

With --keep the workspaces (and their first publish, the slow part: every episode is encoded
once) are kept in that folder and reused by the next run with the same sizes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the counting proxy the storage tests use

SHOW = "penkki"
SHOW_TOML = """\
title = "Penkkiohjelma"
description = "Ohjelma, jolla mitataan tyhjän ajon hinta."
language = "fi"
author = "Mittaaja"
link = "https://example.fi/penkki"
categories = ["Government"]
artwork = "artwork/show.jpg"
explicit = false

[owner]
name = "Mittaaja"
email = "podcast@example.fi"

[audio]
channels = 1
bitrate = 64
"""
EPISODE = """\
---
title: "Jakso {n}"
publish_at: 2026-01-{day:02d}T09:00:00+02:00
source: media/{slug}.wav
transcript: transcripts/{slug}.vtt
chapters:
  - start: 0
    title: Alku
  - start: 1
    title: Loppu
---

Jakson {n} *muistiinpanot*.
"""
TRANSCRIPT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHyvää huomenta, tämä on jakso {n}.\n"


def build(root: Path, count: int, storage_url: str, public_url: str) -> None:
    """A workspace of `count` two-second mono episodes, distinct recordings of the same length."""
    from conftest import make_jpeg

    from media_pipeline_demo import synth

    (root / "media").mkdir(parents=True)
    (root / "transcripts").mkdir()
    (root / "episodes" / SHOW).mkdir(parents=True)
    (root / "feeds").mkdir()
    (root / "media-pipeline.toml").write_text(
        f'storage = "{storage_url}"\npublic_url = "{public_url}"\ntimezone = "Europe/Helsinki"\n', encoding="utf-8")
    (root / "feeds" / f"{SHOW}.toml").write_text(SHOW_TOML, encoding="utf-8")
    make_jpeg(root / "artwork" / "show.jpg", 1400)
    one = root / "media" / ".one.wav"
    synth.speech(one, 2.0, level_lufs=-24, channels=1, seed=1)
    data = one.read_bytes()
    one.unlink()
    for n in range(1, count + 1):
        slug = f"{n:03d}"
        # distinct bytes (the last sample differs), so no two episodes share a source digest
        (root / "media" / f"{slug}.wav").write_bytes(data[:-2] + n.to_bytes(2, "little"))
        (root / "transcripts" / f"{slug}.vtt").write_text(TRANSCRIPT.format(n=n), encoding="utf-8")
        (root / "episodes" / SHOW / f"{slug}.md").write_text(
            EPISODE.format(n=n, slug=slug, day=1 + n % 28), encoding="utf-8")


# The storage verbs a run can call; each call is one request on S3 (head, get, put, copy, delete).
VERBS = ("head", "get_bytes", "put_file", "put_bytes", "copy", "delete")


def child(root: str) -> None:
    """One counted run, in this (fresh) process: `media-pipeline --root ROOT publish --all` with every
    storage call counted, the counts printed as the last line of stderr."""
    from media_pipeline import cli
    from media_pipeline.storage.local import LocalStorage

    counts = {verb: 0 for verb in VERBS}

    def counted(verb, method):
        def wrapper(self, *args, **kwargs):
            counts[verb] += 1
            return method(self, *args, **kwargs)
        return wrapper

    for verb in VERBS:
        setattr(LocalStorage, verb, counted(verb, getattr(LocalStorage, verb)))
    code = cli.run(["--quiet", "--root", root, "publish", "--all", "--no-notify"], handle_signals=False)
    print(json.dumps({"rc": code, "requests": counts}), file=sys.stderr)


def counted_run(root: Path) -> tuple[float, dict[str, int]]:
    """Wall time of one fresh `publish --all` process and the storage requests it made."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(root)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    report = json.loads(proc.stderr.strip().splitlines()[-1]) if proc.stderr.strip() else {"rc": proc.returncode}
    if report.get("rc") != 0:
        raise SystemExit(f"publish --all failed in {root}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall, report["requests"]


def in_process(root: Path) -> float:
    """Wall time of the library call alone (`publish()` after loading), without the interpreter's start-up."""
    from datetime import datetime, timezone

    from media_pipeline.config.load import load_catalog, load_workspace
    from media_pipeline.publishing.publish import publish

    start = time.perf_counter()
    ws = load_workspace(root)
    catalog, loaded = load_catalog(ws)
    episodes = [e for slug in catalog.shows for e in catalog.episodes.get(slug, ())]
    report = publish(ws, catalog, episodes, now=datetime.now(timezone.utc), loaded=loaded)
    wall = time.perf_counter() - start
    if not report.ok or any(o.uploaded for o in report.outcomes):
        raise SystemExit(f"not a no-op run in {root}: {report.failures or report.outcomes}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 200])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the workspaces in this folder")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    base = args.keep or Path(tempfile.mkdtemp(prefix="media-pipeline-noop-"))
    roots = {}
    try:
        for n in args.sizes:
            root = roots[n] = base / f"show-{n}"
            if not (root / ".built").exists():
                shutil.rmtree(root, ignore_errors=True)
                print(f"building {n} episodes and publishing them once (every episode is encoded) ...", flush=True)
                build(root, n, "file://./public", "https://media.example.fi/podcast")
                started = time.perf_counter()
                counted_run(root)
                print(f"  first publish: {time.perf_counter() - started:.1f} s", flush=True)
                (root / ".built").touch()
            counted_run(root)  # one no-op run first: what the first run wrote is now older than the racy window
        walls: dict[int, list[float]] = {n: [] for n in args.sizes}
        library: dict[int, list[float]] = {n: [] for n in args.sizes}
        requests: dict[int, set[str]] = {n: set() for n in args.sizes}
        for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits every size alike
            for n in args.sizes:
                wall, counts = counted_run(roots[n])
                walls[n].append(wall)
                requests[n].add(json.dumps(counts, sort_keys=True))
        for _ in range(args.repeat):
            for n in args.sizes:
                library[n].append(in_process(roots[n]))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    small, large = min(args.sizes), max(args.sizes)
    results = {"sizes": args.sizes, "repeat": args.repeat, "python": sys.version.split()[0],
               "command": {n: statistics.median(walls[n]) for n in args.sizes},
               "library": {n: statistics.median(library[n]) for n in args.sizes},
               "requests": {n: sorted(json.loads(c) for c in requests[n])[0] if len(requests[n]) == 1 else
                            [json.loads(c) for c in sorted(requests[n])] for n in args.sizes}}
    ratio = results["command"][large] / results["command"][small]
    library_ratio = results["library"][large] / results["library"][small]
    equal = len({c for n in args.sizes for c in requests[n]}) == 1
    per_episode = {what: (results[what][large] - results[what][small]) / (large - small) * 1000
                   for what in ("command", "library")}
    results.update(ratio=ratio, library_ratio=library_ratio, requests_equal=equal, per_episode_ms=per_episode)
    print(f"no-op `publish --all`, medians of {args.repeat} interleaved runs each "
          f"(python {sys.argv[0]} --sizes {' '.join(map(str, args.sizes))} --repeat {args.repeat}):")
    print(f"{'episodes':>9} {'command s':>10} {'library s':>10}  storage requests")
    for n in args.sizes:
        counts = results["requests"][n]
        shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v) if isinstance(counts, dict) else counts
        total = sum(counts.values()) if isinstance(counts, dict) else "varied"
        print(f"{n:>9} {results['command'][n]:>10.3f} {results['library'][n]:>10.3f}  {total} ({shown})")
    print(f"ratio {large}/{small}: command {ratio:.2f} (target: at most 2); "
          f"requests {'equal' if equal else 'NOT equal'}")
    print(f"each further episode: {per_episode['command']:.2f} ms in the command, {per_episode['library']:.2f} ms in "
          f"the library call (whose {small}-episode run, in a warm process, is near zero: its ratio "
          f"{library_ratio:.0f} says little)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
