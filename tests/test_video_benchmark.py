"""The video benchmark's PeerTube contender asks for what PeerTube asks for.

`benchmarks/video.py` rebuilds PeerTube's per-resolution bit-rate target and frame-rate rule from
its numbers; the ranges below are the ones PeerTube's own unit tests hold its average target to (16:9
at 24 fps), so the benchmark compares against PeerTube's settings and not against a guess of them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "video.py"


def _load():
    spec = importlib.util.spec_from_file_location("video_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("resolution, low, high", [
    (240, 350, 450), (360, 700, 900), (480, 1100, 1300), (720, 2300, 2500), (1080, 4700, 5000),
    (2160, 15000, 17000),
])
def test_peertube_average_target_within_peertubes_own_ranges(resolution, low, high):
    bench = _load()
    target = bench.peertube_target_bps(resolution, 1.7778, 24, None)
    assert low * 1000 < target < high * 1000


def test_peertube_target_capped_by_the_source_and_floored():
    bench = _load()
    uncapped = bench.peertube_target_bps(720, 1.7778, 25, None)
    # a 1 Mbit/s source: 1.3 times it, under the average
    assert bench.peertube_target_bps(720, 1.7778, 25, 1_000_000) == 1_300_000 < uncapped
    # a still slide deck at 100 kbit/s: never under 0.02 bit per pixel
    assert bench.peertube_target_bps(720, 1.7778, 25, 100_000) == int(720 * 720 * 1.7778 * 25 * 0.02)
    # portrait: the same pixels as landscape
    assert bench.peertube_target_bps(720, 0.5625, 25, None) == pytest.approx(uncapped, rel=1e-3)


def test_peertube_frame_rate_rule():
    bench = _load()
    assert bench.peertube_fps(360, 60) == 30 and bench.peertube_fps(360, 50) == 25
    assert bench.peertube_fps(720, 60) == 60 and bench.peertube_fps(360, 25) == 25


def test_bare_run_uses_the_pipelines_rendition_settings(tmp_path):
    bench = _load()
    from media_pipeline.video import renditions

    argv = bench.bare_argv(tmp_path / "in.mp4", {720: tmp_path / "a.mp4", 360: tmp_path / "b.mp4"}, 25.0)
    text = " ".join(argv)
    assert argv.count("-i") == 1 and "split=2" in text  # one decode
    assert text.count(f"-preset {renditions.PRESET}") == 2 and text.count(f"-crf {renditions.CRF}") == 2
    assert f"-maxrate {renditions.LADDER[720].maxrate_kbps}k" in text
    assert f"-maxrate {renditions.LADDER[360].maxrate_kbps}k" in text
    assert text.count("-c:a copy") == 2 and text.count("+faststart") == 2
