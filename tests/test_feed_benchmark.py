"""The feed benchmark builds a real feed, and building a feed does work linear in its episodes.

How long it takes is the benchmark's to measure (`benchmarks/feed.py`: 2,000 episodes at most 2.2
times 1,000); a timing ratio in the suite failed on a busy machine. Here the work is counted
instead, which is the same on every machine: the Python and built-in calls of one build.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import feedparser

from media_pipeline.text import notes

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "feed.py"


def _load():
    spec = importlib.util.spec_from_file_location("feed_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(bench, count: int) -> int:
    """The function calls (Python and built-in) one build of a feed of `count` episodes makes, as a
    new process makes them (each episode's notes rendered once, not remembered from a build before)."""
    show, entries = bench.make_show(), bench.make_entries(count)
    notes.render_notes.cache_clear()
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profile)
    try:
        bench.build_feed(show, entries, feed_url=bench.FEED_URL, artwork_url=f"{bench.BASE}/artwork.jpg",
                         podcast_guid=bench.podcast_guid_for(bench.FEED_URL))
    finally:
        sys.setprofile(None)
    return calls


def test_building_a_feed_does_work_linear_in_its_episodes():
    bench = _load()
    _calls(bench, 20)  # the first build compiles what every later one reuses (patterns, templates)
    small, large = _calls(bench, 500), _calls(bench, 1000)
    # linear: twice the episodes, twice the calls (less the fixed part); a loop over every
    # episode for each episode would double it again
    assert 1.9 <= large / small <= 2.02, (small, large)


def test_the_feed_benchmark_runs_and_reports_the_growth(capsys):
    bench = _load()
    assert bench.main(["--sizes", "20", "40", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "    20 episodes: " in out and "    40 episodes: " in out and "ratio 40/20: " in out, out


def test_benchmark_feed_is_a_real_feed():
    bench = _load()
    show, entries = bench.make_show(), bench.make_entries(30)
    xml = bench.build_feed(show, entries, feed_url=bench.FEED_URL, artwork_url=f"{bench.BASE}/artwork.jpg",
                           podcast_guid=bench.podcast_guid_for(bench.FEED_URL))
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and len(parsed.entries) == 30
    assert parsed.entries[0].title == "Jakso 30: ihmiskeskeiset palvelut"
