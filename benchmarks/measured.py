"""What the benchmarks share: running a contender in a child process of its own and measuring its
wall time and the peak memory of its whole process tree."""

from __future__ import annotations

import json
import subprocess
import sys
import time


def run_measured(argvs: list[list[str]], env: dict[str, str] | None = None) -> dict:
    """Run each argv in turn inside one fresh wrapper process; wall time and process-tree peak memory."""
    import psutil

    wrapper = ("import subprocess, sys, json, time; t = time.perf_counter(); "
               "rcs = [subprocess.run(a).returncode for a in json.loads(sys.argv[1])]; "
               "print(json.dumps({'rc': max(rcs), 'wall': time.perf_counter() - t}), file=sys.stderr)")
    proc = subprocess.Popen([sys.executable, "-c", wrapper, json.dumps(argvs)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    tree_peak = pss_peak = 0
    pss = hasattr(watched.memory_full_info(), "pss")  # Linux
    while proc.poll() is None:
        try:
            total = proportional = 0
            for member in [watched, *watched.children(recursive=True)]:
                try:
                    if pss:
                        info = member.memory_full_info()
                        proportional += info.pss
                    else:
                        info = member.memory_info()
                    total += info.rss
                except psutil.Error:
                    pass
            tree_peak, pss_peak = max(tree_peak, total), max(pss_peak, proportional)
        except psutil.Error:
            pass
        time.sleep(0.05)
    stderr = proc.stderr.read()
    proc.wait()
    report = json.loads(stderr.strip().splitlines()[-1])
    if report["rc"] != 0:
        raise SystemExit(f"benchmark contender failed: {argvs}\n{stderr[-2000:]}")
    return {"wall": report["wall"], "tree_mb": tree_peak / 2**20, "tree_pss_mb": pss_peak / 2**20 if pss else None}
