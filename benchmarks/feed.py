"""How long building a show's feed takes as the show grows: 1,000 and 2,000 episodes.

Every episode has Markdown notes, a transcript, chapters, persons and an alternate enclosure, so
the numbers include notes rendering and sanitising. Growth should be linear: 2,000 episodes at most
2.2 times the time of 1,000.

Run: python benchmarks/feed.py [--sizes 1000 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
from pathlib import Path

from media_pipeline.feeds.feed import build_feed, podcast_guid_for
from media_pipeline.model import Category, Chapter, Episode, FeedEntry, Owner, Person, Show, StoredFile

BASE = "https://media.example.fi/podcast/ihmiskeskeisyys"
FEED_URL = f"{BASE}/feed.xml"
NOTES = """Jakso {n} pohtii **ihmiskeskeisyyttä** julkisissa palveluissa ja AuroraAI-verkon roolia.

- elämäntapahtumat palveluiden lähtökohtana
- *tekoäly* asiakkaan apuna
- keskustelu jatkuu Slackissa (#osaaminen)

Lue lisää [ohjelmasta](https://example.fi/auroraai/{n}).
"""


def make_show() -> Show:
    return Show(
        slug="ihmiskeskeisyys", path=Path("feeds/ihmiskeskeisyys.toml"), title="Näkökulmia ihmiskeskeisyyteen",
        description="AuroraAI-ohjelman podcast ihmiskeskeisyydestä ja tekoälystä julkisissa palveluissa.",
        language="fi", author="AuroraAI-ohjelma", owner=Owner("AuroraAI-ohjelma", "podcast@example.fi"),
        categories=(Category("Government"), Category("Education", "Courses")), artwork=Path("feeds/art.jpg"),
        link="https://example.fi/ihmiskeskeisyys", license="cc-by-4.0",
        persons=(Person("Maria Virtanen"),),
    )


def make_entries(count: int) -> list[FeedEntry]:
    start = dt.datetime(2020, 1, 7, 9, tzinfo=dt.timezone.utc)
    entries = []
    for n in range(1, count + 1):
        slug = f"{n:04d}-jakso"
        episode = Episode(
            show="ihmiskeskeisyys", slug=slug, path=Path(f"episodes/ihmiskeskeisyys/{slug}.md"),
            title=f"Jakso {n}: ihmiskeskeiset palvelut", publish_at=start + dt.timedelta(days=n),
            source=Path(f"media/{slug}.wav"), notes=NOTES.format(n=n), number=n, season=1 + n // 100,
            persons=(Person("Maria Virtanen"), Person(f"Vieras {n}", "guest")),
            chapters=(Chapter(0, "Alku"), Chapter(300, "Keskustelu")),
        )
        mp3 = StoredFile(f"ihmiskeskeisyys/{slug}.mp3", f"{BASE}/{slug}.mp3", 28_000_000 + n, "audio/mpeg")
        entries.append(FeedEntry(
            episode=episode, guid=f"urn:uuid:00000000-0000-4000-8000-{n:012d}", enclosure=mp3,
            duration=1800.0 + n, alternates=(mp3,),
            chapters=StoredFile(f"ihmiskeskeisyys/{slug}.chapters.json", f"{BASE}/{slug}.chapters.json", 400,
                                "application/json+chapters"),
            transcripts=(StoredFile(f"ihmiskeskeisyys/{slug}.vtt", f"{BASE}/{slug}.vtt", 20_000, "text/vtt"),),
        ))
    return entries


def build_seconds(show: Show, entries: list[FeedEntry]) -> tuple[float, float, int]:
    """CPU seconds and wall-clock seconds for one build, and the feed's size in bytes.

    CPU time is what the ratio uses: it does not count time spent waiting for a core, so other
    work on the machine does not pass for growth."""
    gc.collect()  # start every build from the same heap, not from the previous build's garbage
    wall, cpu = time.perf_counter(), time.process_time()
    xml = build_feed(show, entries, feed_url=FEED_URL, artwork_url=f"{BASE}/artwork.jpg",
                     podcast_guid=podcast_guid_for(FEED_URL))
    return time.process_time() - cpu, time.perf_counter() - wall, len(xml)


def run(sizes: list[int], repeat: int) -> dict[int, tuple[float, float, int]]:
    """Best (CPU seconds, wall seconds, feed bytes) per size. Sizes take turns in each round, so a
    busy moment on the machine hits all of them alike; the best round is the least disturbed."""
    show = make_show()
    entries = {n: make_entries(n) for n in sizes}
    build_seconds(show, make_entries(50))  # warm imports and caches so the first size is not charged for them
    best: dict[int, tuple[float, float, int]] = {n: (float("inf"), float("inf"), 0) for n in sizes}
    for _ in range(repeat):
        for n in sizes:
            best[n] = min(best[n], build_seconds(show, entries[n]))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of builds; the best time of each size counts")
    args = parser.parse_args(argv)
    best = run(args.sizes, args.repeat)
    for n, (cpu, wall, size) in best.items():
        print(f"{n:>6} episodes: {cpu:.3f} s CPU, {wall:.3f} s wall ({cpu / n * 1000:.2f} ms per episode, "
              f"feed {size / 1e6:.1f} MB)")
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        ratio = best[large][0] / best[small][0]
        print(f"ratio {large}/{small}: {ratio:.2f} (linear: {large / small:.2f}; limit {large / small * 1.1:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
