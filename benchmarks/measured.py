"""What the benchmarks share: running a contender in a child process of its own and measuring its
wall time and the peak memory of its whole process tree.

The meter must not take the CPU it measures: on a 2-core machine a contender that keeps both cores
busy pays for every millisecond the sampler spends. psutil's tree walk scans all of /proc on each
call (about 1 ms) and its full memory info reads each process's smaps: sampled every 50 ms that was
0.8 s of CPU over a 10 s run, taken from the contender. On Linux the tree is walked through
`/proc/PID/task/TID/children` and each process's resident and proportional sizes are read from
`statm` (resident size) every 50 ms, and proportional sizes from `smaps_rollup` every 0.5 s
(the kernel walks the process's page tables to sum them: a few milliseconds per ffmpeg), about
a tenth of that; elsewhere psutil's resident sizes are used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

SAMPLE_SECONDS = 0.05
PSS_EVERY = 10  # samples


def run_measured(argvs: list[list[str]], env: dict[str, str] | None = None) -> dict:
    """Run each argv in turn inside one fresh wrapper process; wall time and process-tree peak memory."""
    wrapper = ("import subprocess, sys, json, time; t = time.perf_counter(); "
               "rcs = [subprocess.run(a).returncode for a in json.loads(sys.argv[1])]; "
               "print(json.dumps({'rc': max(rcs), 'wall': time.perf_counter() - t}), file=sys.stderr)")
    proc = subprocess.Popen([sys.executable, "-c", wrapper, json.dumps(argvs)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    sample = _proc_sampler(proc.pid) if Path(f"/proc/{proc.pid}/smaps_rollup").exists() else _psutil_sampler(proc.pid)
    tree_peak = pss_peak = 0
    pss_known = True
    while proc.poll() is None:
        total, proportional = sample()
        pss_known = pss_known and proportional is not None
        tree_peak, pss_peak = max(tree_peak, total), max(pss_peak, proportional or 0)
        time.sleep(SAMPLE_SECONDS)
    stderr = proc.stderr.read()
    proc.wait()
    report = json.loads(stderr.strip().splitlines()[-1])
    if report["rc"] != 0:
        raise SystemExit(f"benchmark contender failed: {argvs}\n{stderr[-2000:]}")
    return {"wall": report["wall"], "tree_mb": tree_peak / 2**20,
            "tree_pss_mb": pss_peak / 2**20 if pss_known else None}


def run_bench(bench: Callable[[Path, object], dict], args) -> None:
    """Run `bench(folder, args)` in a temporary folder under `args.workdir` and write its report to
    `args.json` when asked."""
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        report = bench(Path(tmp), args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def _proc_sampler(root: int):
    """Linux: the tree's summed RSS and PSS (bytes) from /proc, without scanning every process."""

    def tree() -> list[int]:
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
        return found

    page = os.sysconf("SC_PAGE_SIZE")
    ticks = [0]

    def sample() -> tuple[int, int | None]:
        rss = pss = 0
        proportional = ticks[0] % PSS_EVERY == 0
        ticks[0] += 1
        for pid in tree():
            try:
                with open(f"/proc/{pid}/statm") as f:
                    rss += int(f.read().split()[1]) * page
                if proportional:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        pss += sum(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
            except OSError:
                pass
        return rss, pss if proportional else 0

    return sample


def _psutil_sampler(root: int):
    import psutil

    watched = psutil.Process(root)

    def sample() -> tuple[int, int | None]:
        total = 0
        try:
            members = [watched, *watched.children(recursive=True)]
        except psutil.Error:
            return 0, None
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.Error:
                pass
        return total, None

    return sample
