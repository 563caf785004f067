"""The feed benchmark runs and shows linear growth (issue: 2,000 episodes at most 2.2 x 1,000)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import feedparser
import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "feed.py"


def _load():
    spec = importlib.util.spec_from_file_location("feed_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a timing ratio: meaningful on a quiet machine, and CI runs the slow tests
def test_feed_build_time_grows_linearly(capsys):
    bench = _load()
    assert bench.main(["--sizes", "1000", "2000", "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    ratio = float(out.split("ratio 2000/1000: ")[1].split()[0])
    assert "  1000 episodes: " in out and "  2000 episodes: " in out
    assert ratio <= 2.2, out


def test_benchmark_feed_is_a_real_feed():
    bench = _load()
    show, entries = bench.make_show(), bench.make_entries(30)
    xml = bench.build_feed(show, entries, feed_url=bench.FEED_URL, artwork_url=f"{bench.BASE}/artwork.jpg",
                           podcast_guid=bench.podcast_guid_for(bench.FEED_URL))
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and len(parsed.entries) == 30
    assert parsed.entries[0].title == "Jakso 30: ihmiskeskeiset palvelut"
