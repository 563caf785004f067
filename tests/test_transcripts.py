"""Transcripts: SRT and WebVTT read, validated, converted, and linked from the feed."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import feedparser
import pytest
import srt
import webvtt
from lxml import etree

from media_pipeline.errors import MediaError
from media_pipeline.feeds.feed import build_feed, podcast_guid_for
from media_pipeline.model import StoredFile
from media_pipeline.transcripts.forms import to_srt, to_vtt
from media_pipeline.transcripts.read import load_transcript

from feed_support import AUDIO_FEED_URL, BASE, audio_feed_entries, audio_show

PODCAST = "https://podcastindex.org/namespace/1.0"

PRODUCER_SRT = """1
00:00:00,000 --> 00:00:03,480
Tervetuloa kuuntelemaan Näkökulmia ihmiskeskeisyyteen -podcastia.

2
00:00:03,600 --> 00:00:07,250
Tänään puhumme <i>elämäntapahtumista</i> & palveluista.

3
00:00:07,250 --> 00:00:11,900
<font color="#ffff00">Vieraana</font> on Aino Lehtinen.
Hän kertoo, miksi 1 < 2 ei riitä.

4
00:00:12,100 --> 00:00:15,000
Kiitos kuuntelemisesta!
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_srt_transcript_is_published_as_webvtt_with_matching_cues(tmp_path):
    # Windows line ends and a byte-order mark, as editors on the producer's desk write them
    source = write(tmp_path, "001-ihmiskeskeisyys.srt", "\ufeff" + PRODUCER_SRT.replace("\n", "\r\n"))
    transcript = load_transcript(source, duration=15.2)
    published = tmp_path / "public" / "001-ihmiskeskeisyys.vtt"
    published.parent.mkdir()
    published.write_bytes(to_vtt(transcript))

    # the cues, read by two independent parsers: srt for the producer's file, webvtt-py for ours
    expected = list(srt.parse(PRODUCER_SRT))
    got = list(webvtt.read(str(published)))
    assert len(got) == len(expected) == 4
    for vtt_cue, srt_cue in zip(got, expected, strict=True):
        assert _ms(vtt_cue.start) == round(srt_cue.start.total_seconds() * 1000)
        assert _ms(vtt_cue.end) == round(srt_cue.end.total_seconds() * 1000)
        words = html.unescape(vtt_cue.text)
        assert words == _strip_tags(srt_cue.content)
    assert "&amp;" in published.read_text() and "&lt; 2" in published.read_text()
    assert "<i>elämäntapahtumista</i>" in published.read_text() and "font" not in published.read_text()

    show = audio_show()
    entries = audio_feed_entries(show)
    vtt_file = StoredFile(key=f"{show.slug}/{published.name}", url=f"{BASE}/{show.slug}/{published.name}",
                          length=published.stat().st_size, mime_type="text/vtt")
    entries[0] = dataclasses.replace(entries[0], transcripts=(vtt_file,))
    xml = build_feed(show, entries, feed_url=AUDIO_FEED_URL, artwork_url=f"{BASE}/a.jpg",
                     podcast_guid=podcast_guid_for(AUDIO_FEED_URL))
    tags = etree.fromstring(xml).xpath(f"//item[guid='{entries[0].guid}']/p:transcript", namespaces={"p": PODCAST})
    assert [(t.get("url"), t.get("type"), t.get("language")) for t in tags] == [(vtt_file.url, "text/vtt", "fi")]
    parsed = feedparser.parse(xml)
    item = next(e for e in parsed.entries if e.id == entries[0].guid)
    assert item.podcast_transcript["type"] == "text/vtt" and item.podcast_transcript["language"] == "fi"


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"</?[a-z][^>]*>", "", text)


def test_webvtt_is_read_and_written_back_as_srt(tmp_path):
    vtt = write(tmp_path, "webinaari.vtt", """WEBVTT - Tekoälywebinaari 1

NOTE tekstitys tehty käsin

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:04.500 align:start position:10%
<v Juha Korhonen>Tervetuloa webinaariin.</v>

00:00:04.500 --> 00:00:09.000
<b>Ensimmäinen</b> aihe: hankinnat &amp; tietosuoja
""")
    transcript = load_transcript(vtt, duration=9.0)
    assert [(c.start, c.end, c.identifier) for c in transcript.cues] == [(1.0, 4.5, "intro"), (4.5, 9.0, None)]
    assert transcript.cues[0].plain == "Tervetuloa webinaariin."
    out = list(srt.parse(to_srt(transcript).decode("utf-8")))
    assert [(c.index, c.start.total_seconds(), c.end.total_seconds(), c.content) for c in out] == [
        (1, 1.0, 4.5, "Juha Korhonen: Tervetuloa webinaariin."),
        (2, 4.5, 9.0, "<b>Ensimmäinen</b> aihe: hankinnat & tietosuoja"),
    ]
    again = tmp_path / "again.vtt"
    again.write_bytes(to_vtt(transcript))
    assert [c.text for c in webvtt.read(str(again))] == ["Tervetuloa webinaariin.",
                                                         "Ensimmäinen aihe: hankinnat &amp; tietosuoja"]
    assert load_transcript(again, duration=None).cues == transcript.cues


@pytest.mark.parametrize("name, text, duration, field, words", [
    ("order.srt", "1\n00:00:05,000 --> 00:00:06,000\nB\n\n2\n00:00:01,000 --> 00:00:02,000\nA\n", None,
     "cue 2", "before the cue before it"),
    ("backwards.vtt", "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nA\n", None, "cue 1", "before it starts"),
    ("long.srt", "1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:50,000 --> 00:01:02,000\nB\n", 30.0,
     "cue 2", "after the end of the episode (00:00:30.000)"),
    ("timing.srt", "1\n00:00:01 --> 00:00:02\nA\n", None, "cue 1 (line 1)", "no timing line"),
    ("header.vtt", "00:00:01.000 --> 00:00:02.000\nA\n", None, "line 1", "WEBVTT"),
    ("empty.vtt", "WEBVTT\n", None, None, "has no cues"),
])
def test_invalid_transcripts_name_the_file_and_the_cue(tmp_path, name, text, duration, field, words):
    path = write(tmp_path, name, text)
    with pytest.raises(MediaError) as caught:
        load_transcript(path, duration=duration)
    assert caught.value.path == str(path) and caught.value.field == field
    assert words in caught.value.reason
    assert str(caught.value).startswith(f"{path}: ")


def test_unreadable_transcripts(tmp_path):
    latin1 = write(tmp_path, "latin1.srt", "1\n00:00:01,000 --> 00:00:02,000\nHyvää päivää\n", "latin-1")
    with pytest.raises(MediaError, match="not UTF-8"):
        load_transcript(latin1, duration=None)
    with pytest.raises(MediaError, match="unknown transcript format"):
        load_transcript(write(tmp_path, "notes.txt", "hello"), duration=None)
    with pytest.raises(MediaError, match="cannot read"):
        load_transcript(tmp_path / "missing.srt", duration=None)


def test_last_cue_may_end_on_the_rounded_end_of_the_episode(tmp_path):
    path = write(tmp_path, "edge.srt", "1\n00:00:01,000 --> 00:00:20,300\nLoppu\n")
    assert load_transcript(path, duration=20.0).end == 20.3
    with pytest.raises(MediaError):
        load_transcript(path, duration=19.5)
