"""Transcripts: SRT and WebVTT read, validated, converted, and linked from the feed."""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

import feedparser
import pytest
import srt
import webvtt
from lxml import etree

from media_pipeline.errors import MediaError
from media_pipeline.feeds.feed import build_feed, podcast_guid_for
from media_pipeline.model import StoredFile, TranscriptSettings
from media_pipeline.transcripts.captions import label_speakers
from media_pipeline.transcripts.forms import to_json, to_srt, to_vtt
from media_pipeline.transcripts.norms import check_norms
from media_pipeline.transcripts.read import load_transcript
from media_pipeline.transcripts.sanitise import clean

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
    out = list(srt.parse(to_srt(label_speakers(transcript)).decode("utf-8")))
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
     "cue 2 (line 6)", "before the cue before it"),
    ("backwards.vtt", "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nA\n", None, "cue 1 (line 3)", "before it starts"),
    ("long.srt", "1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:50,000 --> 00:01:02,000\nB\n", 30.0,
     "cue 2 (line 6)", "after the end of the episode (00:00:30.000)"),
    ("timing.srt", "1\n00:00:01 --> 00:00:02\nA\n", None, "cue 1 (line 2)", "no timing line"),
    ("header.vtt", "00:00:01.000 --> 00:00:02.000\nA\n", None, "line 1", "WEBVTT"),
    ("empty.vtt", "WEBVTT\n", None, "line 1", "no cue after it"),
    # the shapes of webvtt-py's test data (tests/subtitles): a cue number replaced by text, a
    # number with no timing line, a file of nothing
    ("text_for_number.srt", "jotain tekstiä\n00:00:00,500 --> 00:00:07,000", None, "line 1",
     "stands where the cue number should be"),
    ("number_only.srt", "1\njotain tekstiä", None, "cue 1 (line 2)", "no timing line"),
    ("nothing.srt", "", None, "line 1", "is empty"),
    ("blank.vtt", "\n\n  \n", None, "line 1", "only blank lines"),
    ("wordless.srt", "1\n00:00:00,500 --> 00:00:07,000\n\n2\n00:00:07,000 --> 00:00:09,000\n", None,
     "cue 1 (line 2)", "none of its 2 cues has any words"),
    ("zero.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:00.000\nHei\n", None, "cue 1 (line 3)",
     "lasts no time: it starts and ends at 00:00:00.000"),
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
    with pytest.raises(MediaError, match="not UTF-8") as caught:
        load_transcript(latin1, duration=None)
    assert caught.value.field == "line 3" and "(byte 0xe4)" in caught.value.reason
    with pytest.raises(MediaError, match="unknown transcript format"):
        load_transcript(write(tmp_path, "notes.txt", "hello"), duration=None)
    with pytest.raises(MediaError, match="cannot read"):
        load_transcript(tmp_path / "missing.srt", duration=None)


def test_last_cue_may_end_on_the_rounded_end_of_the_episode(tmp_path):
    path = write(tmp_path, "edge.srt", "1\n00:00:01,000 --> 00:00:20,300\nLoppu\n")
    assert load_transcript(path, duration=20.0).end == 20.3
    with pytest.raises(MediaError):
        load_transcript(path, duration=19.5)


# The cue shapes of webvtt-py's tests/subtitles (invalid_timeframe_in_cue_text.vtt,
# missing_caption_text.vtt, empty_caption_text.srt, captions_with_bom.vtt), in words of our own.
TIMING_IN_TEXT_VTT = """WEBVTT

00:00:00.500 --> 00:00:07.000
Ensimmäinen tekstitys

00:00:07.000 --> 00:00:10.890
00:00:07.000 --> 00:00:10.890
Toinen tekstitys

00:00:11.890 --> 00:00:16.320
Kolmas tekstitys
"""

MISSING_BLANK_SRT = """1
00:00:00,500 --> 00:00:07,000
Ensimmäinen tekstitys
2
00:00:07,000 --> 00:00:11,890
Toinen tekstitys

3
00:00:11,890 --> 00:00:16,320
Kolmas tekstitys
"""

EMPTY_CUE_SRT = """1
00:00:00,500 --> 00:00:07,000
Ensimmäinen tekstitys

2
00:00:07,000 --> 00:00:11,890


3
00:00:11,890 --> 00:00:16,320
Kolmas tekstitys
"""


def test_a_timing_line_inside_a_cue_starts_a_new_cue_as_webvtts_parser_does(tmp_path):
    t = load_transcript(write(tmp_path, "in_text.vtt", TIMING_IN_TEXT_VTT), duration=None)
    # WebVTT's parser ends the second cue at the repeated timing line (an empty cue) and reads the
    # words under it as a cue of their own; no timing is ever caption text
    assert [(c.start, c.end, c.plain, c.line) for c in t.cues] == [
        (0.5, 7.0, "Ensimmäinen tekstitys", 3), (7.0, 10.89, "", 6), (7.0, 10.89, "Toinen tekstitys", 7),
        (11.89, 16.32, "Kolmas tekstitys", 10)]
    published = write(tmp_path, "out.vtt", to_vtt(clean(t)).decode())
    assert [c.text for c in webvtt.read(str(published))] == ["Ensimmäinen tekstitys", "Toinen tekstitys",
                                                            "Kolmas tekstitys"]
    srt_file = load_transcript(write(tmp_path, "missing_blank.srt", MISSING_BLANK_SRT), duration=None)
    assert [(c.start, c.plain, c.identifier, c.line) for c in srt_file.cues] == [
        (0.5, "Ensimmäinen tekstitys", "1", 2), (7.0, "Toinen tekstitys", "2", 5),
        (11.89, "Kolmas tekstitys", "3", 9)]
    assert [c.content for c in srt.parse(to_srt(clean(srt_file)).decode())] == [
        "Ensimmäinen tekstitys", "Toinen tekstitys", "Kolmas tekstitys"]


def test_an_empty_cue_is_left_out_of_every_form_and_named_by_check(tmp_path):
    t = load_transcript(write(tmp_path, "empty_cue.srt", EMPTY_CUE_SRT), duration=None)
    assert [c.plain for c in t.cues] == ["Ensimmäinen tekstitys", "", "Kolmas tekstitys"]
    breaches = check_norms(t, TranscriptSettings(max_duration=10))
    assert [(b.where, b.rule) for b in breaches] == [("cue 2 at 00:00:07.000", "empty")]
    assert "has no words; it is left out of the published forms" in breaches[0].reason
    published = clean(t)
    assert [c.content for c in srt.parse(to_srt(published).decode())] == ["Ensimmäinen tekstitys",
                                                                          "Kolmas tekstitys"]
    assert [s["body"] for s in json.loads(to_json(published))["segments"]] == ["Ensimmäinen tekstitys",
                                                                               "Kolmas tekstitys"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le", "utf-32"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path, encoding):
    # "utf-16" and "utf-32" write the platform's byte order with its mark; the -be/-le forms write
    # none, so the mark is added as the file's first character as Windows editors do
    text = PRODUCER_SRT if encoding in ("utf-16", "utf-32") else "\ufeff" + PRODUCER_SRT
    path = write(tmp_path, "unicode.srt", text.replace("\n", "\r\n"), encoding)
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    t = load_transcript(path, duration=None)
    assert [c.plain for c in t.cues] == [c.plain for c in load_transcript(
        write(tmp_path, "utf8.srt", PRODUCER_SRT), duration=None).cues]
    assert t.cues[0].plain == "Tervetuloa kuuntelemaan Näkökulmia ihmiskeskeisyyteen -podcastia."


def test_utf16_without_a_byte_order_mark_is_refused_naming_the_line(tmp_path):
    path = write(tmp_path, "nobom.srt", PRODUCER_SRT, "utf-16-le")
    with pytest.raises(MediaError) as caught:
        load_transcript(path, duration=None)
    assert caught.value.field == "line 1" and "as UTF-16 without a byte-order mark" in caught.value.reason
