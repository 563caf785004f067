"""The feed read back by two independent parsers (feedparser, podcastparser) and namespaced XPath."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
import io
import random
import uuid

import feedparser
import podcastparser
import pytest
from lxml import etree

from media_pipeline.errors import ConfigError, ValidationError
from media_pipeline.feeds.feed import build_feed, podcast_guid_for, show_podcast_guid
from media_pipeline.model import Category, Owner, Person
from media_pipeline.text.notes import render_notes

from feed_support import (
    AUDIO_FEED_URL,
    BASE,
    HELSINKI,
    WEBINAR_FEED_URL,
    audio_entry,
    audio_feed_entries,
    audio_show,
    webinar_feed_entries,
    webinar_show,
)

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
AUDIO_ART = f"{BASE}/ihmiskeskeisyys/artwork.jpg"
WEBINAR_ART = f"{BASE}/tekoalywebinaarit/artwork.png"


def audio_feed(show=None, entries=None, **kwargs) -> bytes:
    show = show or audio_show()
    entries = audio_feed_entries(show) if entries is None else entries
    kwargs.setdefault("feed_url", AUDIO_FEED_URL)
    kwargs.setdefault("artwork_url", AUDIO_ART)
    kwargs.setdefault("podcast_guid", podcast_guid_for(kwargs["feed_url"]))
    return build_feed(show, entries, **kwargs)


def webinar_feed() -> bytes:
    show = webinar_show()
    return build_feed(show, webinar_feed_entries(show), feed_url=WEBINAR_FEED_URL, artwork_url=WEBINAR_ART,
                      podcast_guid=podcast_guid_for(WEBINAR_FEED_URL))


def xpath(xml: bytes, path: str) -> list:
    return etree.fromstring(xml).xpath(path, namespaces=NS)


def one(xml: bytes, path: str):
    found = xpath(xml, path)
    assert len(found) == 1, f"{path}: {found!r}"
    return found[0]


def pp(xml: bytes, url: str = AUDIO_FEED_URL) -> dict:
    return podcastparser.parse(url, io.BytesIO(xml))


# -- both parsers accept both demo feeds ------------------------------------------------------------


@pytest.mark.parametrize("make, url, count", [(audio_feed, AUDIO_FEED_URL, 3), (webinar_feed, WEBINAR_FEED_URL, 2)])
def test_both_parsers_accept_both_demo_feeds(make, url, count):
    xml = make()
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert len(parsed.entries) == count
    podcast = pp(xml, url)
    assert len(podcast["episodes"]) == count
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    xml.decode("utf-8")


# -- channel fields ----------------------------------------------------------------------------------


def test_channel_fields_round_trip():
    show = audio_show()
    entries = audio_feed_entries(show)
    xml = audio_feed(show, entries)
    fp = feedparser.parse(xml).feed
    pc = pp(xml)

    assert fp.title == pc["title"] == "Näkökulmia ihmiskeskeisyyteen"
    assert fp.link == pc["link"] == show.link
    assert pc["description"] == show.description
    assert fp.language == pc["language"] == "fi"
    assert fp.rights == show.copyright
    assert fp.generator.startswith("media-pipeline ")
    # lastBuildDate defaults to the newest episode's publish time
    newest = max(e.episode.publish_at for e in entries)
    assert calendar.timegm(fp.updated_parsed) == int(newest.timestamp())
    assert [link.href for link in fp.links if link.rel == "self"] == [AUDIO_FEED_URL]
    assert one(xml, "/rss/channel/atom:link[@rel='self']/@type") == "application/rss+xml"

    assert pc["itunes_author"] == "AuroraAI-ohjelma"
    assert pc["itunes_owner"] == {"name": "AuroraAI-ohjelma", "email": "podcast@example.fi"}
    assert pc["cover_url"] == AUDIO_ART
    assert one(xml, "/rss/channel/itunes:image/@href") == AUDIO_ART
    assert pc["itunes_categories"] == [["Government"], ["Technology"], ["Education", "Courses"]]
    assert pc["explicit"] is False
    assert one(xml, "/rss/channel/itunes:explicit/text()") == "false"
    assert pc["type"] == "episodic"

    assert fp.podcast_guid == podcast_guid_for(AUDIO_FEED_URL)
    locked = one(xml, "/rss/channel/podcast:locked")
    assert (locked.text, locked.get("owner")) == ("yes", "podcast@example.fi")
    assert one(xml, "/rss/channel/podcast:medium/text()") == "podcast"
    license_ = one(xml, "/rss/channel/podcast:license")
    assert (license_.text, license_.get("url")) == ("cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/")
    funding = one(xml, "/rss/channel/podcast:funding")
    assert (funding.text, funding.get("url")) == ("Tietoa AuroraAI-ohjelmasta", "https://example.fi/auroraai/tietoa")
    person = one(xml, "/rss/channel/podcast:person")
    assert (person.text, person.get("href")) == ("Maria Virtanen", "https://example.fi/maria")
    # optional tags stay out unless set
    optional = "/rss/channel/itunes:block | /rss/channel/itunes:complete | /rss/channel/itunes:new-feed-url"
    assert xpath(xml, optional) == []


def test_optional_channel_tags_when_set():
    show = audio_show(explicit=True, show_type="serial", block=True, complete=True, locked=False,
                      new_feed_url="https://new.example.fi/ihmiskeskeisyys/feed.xml")
    xml = audio_feed(show)
    pc = pp(xml)
    assert pc["new_url"] == "https://new.example.fi/ihmiskeskeisyys/feed.xml"
    assert pc["explicit"] is True and one(xml, "/rss/channel/itunes:explicit/text()") == "true"
    assert pc["type"] == "serial"
    # Apple: block and complete take the value "Yes"
    assert one(xml, "/rss/channel/itunes:block/text()") == "Yes"
    assert one(xml, "/rss/channel/itunes:complete/text()") == "Yes"
    assert one(xml, "/rss/channel/podcast:locked/text()") == "no"


# -- item fields -------------------------------------------------------------------------------------


def test_items_newest_first_and_item_fields_round_trip():
    show = audio_show()
    entries = audio_feed_entries(show)
    xml = audio_feed(show, entries)
    episodes = pp(xml)["episodes"]
    expected = sorted(entries, key=lambda e: e.episode.publish_at, reverse=True)
    assert [e["guid"] for e in episodes] == [e.guid for e in expected]

    for got, entry in zip(episodes, expected, strict=True):
        ep = entry.episode
        item = f"/rss/channel/item[guid='{entry.guid}']"
        assert got["title"] == ep.title
        assert one(xml, f"{item}/guid/@isPermaLink") == "false"
        assert got["published"] == int(ep.publish_at.timestamp())
        assert one(xml, f"{item}/pubDate/text()").endswith(" +0000")
        assert got["enclosures"] == [{"url": entry.enclosure.url, "file_size": entry.enclosure.length,
                                      "mime_type": "audio/mpeg"}]
        assert got["total_time"] == round(entry.duration)
        assert one(xml, f"{item}/itunes:duration/text()") == str(round(entry.duration))
        assert got["type"] == ep.episode_type
        assert got["explicit"] is (ep.explicit if ep.explicit is not None else show.explicit)
        assert one(xml, f"{item}/itunes:explicit/text()") == ("true" if got["explicit"] else "false")
        notes = render_notes(ep.notes)
        assert got["description"] == notes.text
        assert got["description_html"] == notes.html
        assert "<strong>ihmiskeskeisyys</strong>" in got["description_html"]
        if ep.number is not None:
            assert got["number"] == ep.number
            assert one(xml, f"{item}/podcast:episode/text()") == str(ep.number)
        else:
            assert xpath(xml, f"{item}/itunes:episode | {item}/podcast:episode") == []
        assert got["season"] == ep.season == int(one(xml, f"{item}/podcast:season/text()"))
        transcript = one(xml, f"{item}/podcast:transcript")
        assert dict(transcript.attrib) == {"url": entry.transcripts[0].url, "type": "text/vtt", "language": "fi",
                                           "rel": "captions"}
        chapters = one(xml, f"{item}/podcast:chapters")
        assert dict(chapters.attrib) == {"url": entry.chapters.url, "type": "application/json+chapters"}

    first = f"/rss/channel/item[guid='{entries[0].guid}']"
    persons = xpath(xml, f"{first}/podcast:person")
    assert [(p.text, p.get("role", "host")) for p in persons] == [("Maria Virtanen", "host"),
                                                                  ("Aino Lehtinen", "guest")]
    assert xpath(xml, f"/rss/channel/item[guid='{entries[1].guid}']/podcast:person") == []


def test_webinar_item_has_video_enclosure_and_alternates_with_exact_lengths():
    show = webinar_show()
    entries = webinar_feed_entries(show)
    xml = webinar_feed()
    for entry in entries:
        item = f"/rss/channel/item[guid='{entry.guid}']"
        enclosure = one(xml, f"{item}/enclosure")
        assert enclosure.get("type") == "video/mp4"
        assert int(enclosure.get("length")) == entry.enclosure.length
        alternates = xpath(xml, f"{item}/podcast:alternateEnclosure")
        got = [(a.get("type"), int(a.get("length")), a.xpath("podcast:source/@uri", namespaces=NS)) for a in alternates]
        assert got == [("video/mp4", f.length, [f.url]) for f in entry.alternates[:1]] + \
                      [("audio/mpeg", f.length, [f.url]) for f in entry.alternates[1:]]
        assert alternates[0].get("default") == "true" and alternates[1].get("default") is None
        assert int(alternates[1].get("bitrate")) == round(entry.alternates[1].length * 8 / entry.duration)
        assert one(xml, f"{item}/itunes:image/@href") == entry.image_url
    episodes = pp(xml, WEBINAR_FEED_URL)["episodes"]
    assert [e["enclosures"][0]["mime_type"] for e in episodes] == ["video/mp4", "video/mp4"]
    assert episodes[0]["episode_art_url"] == entries[1].image_url


# -- podcast:guid -------------------------------------------------------------------------------------


def _uuid5_by_hand(name: str) -> str:
    """RFC 4122 section 4.3 with hashlib, independent of the uuid module."""
    digest = bytearray(hashlib.sha1(bytes.fromhex("ead4c236bf5858c6a2c6a6b28d128cb6") + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@pytest.mark.parametrize("url, expected", [
    # the two examples published in the Podcasting 2.0 spec (docs/tags/guid.md)
    ("https://mp3s.nashownotes.com/pc20rss.xml", "917393e3-1b1e-5cef-ace4-edaa54e1f810"),
    ("http://podnews.net/rss", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
    ("https://podnews.net/rss//", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
    ("podnews.net/rss", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
])
def test_podcast_guid_matches_the_spec_examples(url, expected):
    assert podcast_guid_for(url) == expected
    assert _uuid5_by_hand(url.split("://")[-1].rstrip("/")) == expected


def test_podcast_guid_for_example_url_follows_the_spec_algorithm_and_survives_a_move():
    url = "https://example.com/feeds/podcast.xml"
    guid = podcast_guid_for(url)
    assert guid == _uuid5_by_hand("example.com/feeds/podcast.xml") == "49e7e059-7c30-5934-acca-4a8ae1e4bcc8"
    assert uuid.UUID(guid).version == 5

    moved = "https://cdn.example.org/shows/ihmiskeskeisyys/feed.xml"
    show = audio_show(podcast_guid=guid, new_feed_url=moved)
    assert show_podcast_guid(show, moved) == guid
    xml = audio_feed(show, feed_url=moved, podcast_guid=show_podcast_guid(show, moved))
    assert one(xml, "/rss/channel/podcast:guid/text()") == guid != podcast_guid_for(moved)
    assert one(xml, "/rss/channel/atom:link[@rel='self']/@href") == moved
    assert show_podcast_guid(audio_show(), url) == guid  # nothing stored yet: derived from the URL


# -- determinism and validation ----------------------------------------------------------------------


def test_same_input_gives_identical_bytes_in_any_order():
    show = audio_show()
    entries = audio_feed_entries(show)
    first = audio_feed(show, entries)
    shuffled = list(entries)
    random.Random(4).shuffle(shuffled)
    assert audio_feed(show, shuffled) == first
    later = dt.datetime(2026, 5, 1, 12, tzinfo=dt.timezone.utc)
    rebuilt = audio_feed(show, entries, last_build=later)
    assert rebuilt != first
    assert one(rebuilt, "/rss/channel/lastBuildDate/text()") == "Fri, 01 May 2026 12:00:00 +0000"


def test_empty_show_has_no_made_up_build_date():
    xml = audio_feed(entries=[])
    assert xpath(xml, "/rss/channel/lastBuildDate") == [] and xpath(xml, "//item") == []
    assert audio_feed(entries=[]) == xml


def test_problems_are_reported_together_naming_file_and_field():
    show = audio_show(owner=Owner("AuroraAI-ohjelma", ""), categories=(Category("Technology", "Gadgets"),
                      Category("Tech")), description="ä" * 2001, persons=(Person("X", href="ftp://x"),))
    good = audio_feed_entries(show)
    bad = dataclasses.replace(good[0], enclosure=dataclasses.replace(good[0].enclosure, length=0,
                                                                      mime_type="audio/mp4"), guid=good[1].guid)
    with pytest.raises(ValidationError) as caught:
        audio_feed(show, [bad, good[1]], artwork_url=f"{BASE}/art.gif", podcast_guid="not-a-guid")
    assert isinstance(caught.value, ConfigError)
    lines = str(caught.value).splitlines()
    show_file, episode_file = "ihmiskeskeisyys.toml", "001-ihmiskeskeisyys.md"

    def has(file: str, field: str, words: str) -> bool:
        return any(file in line and f": {field}: " in line and words in line for line in lines)

    assert has(show_file, "owner.email", "Apple")
    assert has(show_file, "categories", "'Gadgets' is not a subcategory of 'Technology'")
    assert has(show_file, "categories", "'Tech' is not an Apple Podcasts category")
    assert has(show_file, "description", "4002 bytes")
    assert has(show_file, "persons[0].href", "http")
    assert has(show_file, "artwork", ".jpg or .png")
    assert has(show_file, "podcast_guid", "UUID")
    assert has(episode_file, "enclosure", "length")
    assert has(episode_file, "enclosure", "'audio/mp4' does not match a .mp3 file")


def test_an_episode_of_another_show_is_refused():
    other = webinar_feed_entries(webinar_show())[0]
    with pytest.raises(ValidationError, match="01-tekoaly-palveluissa.md: show: the episode belongs to "
                                              "'tekoalywebinaarit', not to 'ihmiskeskeisyys'"):
        audio_feed(entries=[*audio_feed_entries(audio_show()), other])


def test_episode_number_zero_and_bad_urls_are_refused():
    show = audio_show()
    entry = audio_entry(show, "004-jakso", 4, dt.datetime(2026, 4, 1, 9, tzinfo=HELSINKI), number=0)
    entry = dataclasses.replace(entry, enclosure=dataclasses.replace(entry.enclosure, url=f"{BASE}/jakso ä.mp3"),
                                image_url="/relative.jpg")
    with pytest.raises(ValidationError) as caught:
        audio_feed(show, [entry])
    text = str(caught.value)
    assert "004-jakso.md: number: must be 1 or more" in text
    assert "004-jakso.md: enclosure: " in text and "percent-encode" in text
    assert "004-jakso.md: artwork: public URL '/relative.jpg' must be an absolute" in text


def test_webinar_lengths_are_the_sizes_of_real_renditions(tmp_path):
    from media_pipeline.audio import ffmpeg
    from media_pipeline.model import StoredFile
    from media_pipeline_demo import synth

    video = synth.webinar(tmp_path / "03-kysymykset.mp4", 5.0)
    audio = tmp_path / "03-kysymykset.mp3"
    ffmpeg.run(["-i", video, "-vn", "-c:a", "libmp3lame", "-b:a", "64k", "-y", audio], what=audio)
    files = [StoredFile(f"tekoalywebinaarit/{p.name}", f"{BASE}/tekoalywebinaarit/{p.name}", p.stat().st_size, mime)
             for p, mime in ((video, "video/mp4"), (audio, "audio/mpeg"))]
    show = webinar_show()
    entry = dataclasses.replace(webinar_feed_entries(show)[0], enclosure=files[0], alternates=tuple(files),
                                duration=5.0)
    xml = build_feed(show, [entry], feed_url=WEBINAR_FEED_URL, artwork_url=WEBINAR_ART,
                     podcast_guid=podcast_guid_for(WEBINAR_FEED_URL))
    episode = pp(xml, WEBINAR_FEED_URL)["episodes"][0]
    assert episode["enclosures"] == [{"url": files[0].url, "file_size": video.stat().st_size, "mime_type": "video/mp4"}]
    alternates = {a.get("type"): int(a.get("length")) for a in xpath(xml, "//item/podcast:alternateEnclosure")}
    assert alternates == {"video/mp4": video.stat().st_size, "audio/mpeg": audio.stat().st_size}
