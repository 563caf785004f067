"""Model objects for feed tests: the two demo shows as published, built in memory, no publishing run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from media_pipeline.model import Category, Chapter, Episode, FeedEntry, Owner, Person, Show, StoredFile

HELSINKI = ZoneInfo("Europe/Helsinki")
BASE = "https://media.example.fi/podcast"

AUDIO_NOTES = """Jaksossa pohditaan, mitä **ihmiskeskeisyys** tarkoittaa julkisten palveluiden
kehittämisessä ja miten AuroraAI-verkko tukee sitä.

Jakson aiheet:

- elämäntapahtumat palveluiden lähtökohtana
- *tekoäly* asiakkaan apuna
- avoin osaamisteemaryhmä Slackissa (#osaaminen)

Lue lisää [AuroraAI-ohjelmasta](https://example.fi/auroraai).
"""

WEBINAR_NOTES = """Webinaarissa esitellään, miten tekoälyä hankitaan julkiselle sektorille
vastuullisesti.

1. Hankinnan valmistelu
2. Tietosuoja ja läpinäkyvyys
3. Kysymykset ja vastaukset

Tallenne ja [esitysmateriaali](https://example.fi/webinaarit/3).
"""


def audio_show(root: Path = Path("/srv/workspace"), **changes) -> Show:
    fields = dict(
        slug="ihmiskeskeisyys",
        path=root / "feeds" / "ihmiskeskeisyys.toml",
        title="Näkökulmia ihmiskeskeisyyteen",
        description=("AuroraAI-ohjelman podcast ihmiskeskeisyydestä ja tekoälystä julkisissa palveluissa. "
                     "Vieraina palveluiden kehittäjiä, hankkijoita ja julkisen sektorin johtoa."),
        language="fi",
        author="AuroraAI-ohjelma",
        owner=Owner("AuroraAI-ohjelma", "podcast@example.fi"),
        categories=(Category("Government"), Category("Technology"), Category("Education", "Courses")),
        artwork=root / "feeds" / "ihmiskeskeisyys.jpg",
        link="https://example.fi/ihmiskeskeisyys",
        explicit=False,
        show_type="episodic",
        medium="podcast",
        copyright="© 2026 AuroraAI-ohjelma, CC BY 4.0",
        license="cc-by-4.0",
        license_url="https://creativecommons.org/licenses/by/4.0/",
        funding_url="https://example.fi/auroraai/tietoa",
        funding_text="Tietoa AuroraAI-ohjelmasta",
        persons=(Person("Maria Virtanen", "host", "cast", "https://example.fi/maria"),),
        transcripts_required=True,
    )
    fields.update(changes)
    return Show(**fields)


def webinar_show(root: Path = Path("/srv/workspace"), **changes) -> Show:
    fields = dict(
        slug="tekoalywebinaarit",
        path=root / "feeds" / "tekoalywebinaarit.toml",
        title="Tekoälywebinaarisarja",
        description=("AuroraAI-ohjelman webinaarisarja tekoälystä julkisissa palveluissa: "
                     "perustason oppisisältöä kaikille."),
        language="fi",
        author="AuroraAI-ohjelma",
        owner=Owner("AuroraAI-ohjelma", "webinaarit@example.fi"),
        categories=(Category("Education", "Courses"), Category("Technology")),
        artwork=root / "feeds" / "tekoalywebinaarit.png",
        link="https://example.fi/webinaarit",
        medium="video",
        license="cc-by-4.0",
        persons=(Person("Juha Korhonen", "host"),),
    )
    fields.update(changes)
    return Show(**fields)


def episode(show: Show, slug: str, index: int, when: dt.datetime, **changes) -> Episode:
    root = show.path.parent.parent
    fields = dict(
        show=show.slug,
        slug=slug,
        path=root / "episodes" / show.slug / f"{slug}.md",
        title=f"Jakso {index}: ihmiskeskeiset palvelut",
        publish_at=when,
        source=root / "media" / f"{slug}.wav",
        notes=AUDIO_NOTES,
        number=index,
        season=1,
    )
    fields.update(changes)
    return Episode(**fields)


def stored(show: str, name: str, length: int, mime: str) -> StoredFile:
    return StoredFile(key=f"{show}/{name}", url=f"{BASE}/{show}/{name}", length=length, mime_type=mime)


def audio_entry(show: Show, slug: str, index: int, when: dt.datetime, *, duration: float = 1834.4,
                length: int = 29_351_040, **changes) -> FeedEntry:
    ep = episode(show, slug, index, when, **changes)
    return FeedEntry(
        episode=ep,
        guid=f"urn:uuid:0b3f6a52-1c1e-4b8e-9a51-{index:012d}",
        enclosure=stored(show.slug, f"{slug}.mp3", length, "audio/mpeg"),
        duration=duration,
        chapters=stored(show.slug, f"{slug}.chapters.json", 412, "application/json+chapters"),
        transcripts=(stored(show.slug, f"{slug}.vtt", 18_204, "text/vtt"),),
    )


def webinar_entry(show: Show, slug: str, number: int, when: dt.datetime, *, video_length: int = 412_993_021,
                  audio_length: int = 57_600_417, duration: float = 3600.0, **changes) -> FeedEntry:
    changes.setdefault("notes", WEBINAR_NOTES)
    changes.setdefault("title", f"Webinaari {number}: tekoälyn hankinta")
    ep = episode(show, slug, number, when, **changes)
    video = stored(show.slug, f"{slug}.mp4", video_length, "video/mp4")
    audio = stored(show.slug, f"{slug}.mp3", audio_length, "audio/mpeg")
    return FeedEntry(
        episode=ep,
        guid=f"urn:uuid:7d1c2e33-50a4-4f0e-8d2b-{number:012d}",
        enclosure=video,
        duration=duration,
        alternates=(video, audio),
        transcripts=(stored(show.slug, f"{slug}.vtt", 64_120, "text/vtt"),),
        image_url=f"{BASE}/{show.slug}/{slug}.jpg",
    )


def audio_feed_entries(show: Show) -> list[FeedEntry]:
    return [
        audio_entry(show, "001-ihmiskeskeisyys", 1, dt.datetime(2026, 2, 3, 9, 0, tzinfo=HELSINKI),
                    persons=(Person("Maria Virtanen", "host"), Person("Aino Lehtinen", "guest"))),
        audio_entry(show, "002-elamantapahtumat", 2, dt.datetime(2026, 3, 3, 9, 0, tzinfo=HELSINKI),
                    duration=2210.9, length=35_374_080,
                    chapters=(Chapter(0, "Alku"), Chapter(312.5, "Elämäntapahtumat"))),
        audio_entry(show, "003-traileri", 3, dt.datetime(2026, 1, 20, 9, 0, tzinfo=HELSINKI),
                    duration=95.0, length=1_520_640, episode_type="trailer", number=None,
                    title="Traileri: Näkökulmia ihmiskeskeisyyteen", explicit=True),
    ]


def webinar_feed_entries(show: Show) -> list[FeedEntry]:
    return [
        webinar_entry(show, "01-tekoaly-palveluissa", 1, dt.datetime(2026, 2, 10, 14, 0, tzinfo=HELSINKI),
                      title="Webinaari 1: tekoäly julkisissa palveluissa"),
        webinar_entry(show, "02-tekoalyn-hankinta", 2, dt.datetime(2026, 4, 14, 14, 0, tzinfo=HELSINKI),
                      video_length=398_102_777, audio_length=55_201_002, duration=3451.2),
    ]


AUDIO_FEED_URL = f"{BASE}/ihmiskeskeisyys/feed.xml"
WEBINAR_FEED_URL = f"{BASE}/tekoalywebinaarit/feed.xml"
