"""Tagging MP3 and MP4 files, read back by independent readers: eyeD3 and ffmpeg's own reader."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import eyed3
import pytest
from mutagen.id3 import ID3

from media_pipeline.errors import ConfigError, MediaError
from media_pipeline.model import Chapter, Person
from media_pipeline.tags import tagging
from media_pipeline.tags.chapters import ChapterMark
from media_pipeline_demo import synth

from tagging_support import (
    demo_episode,
    demo_show,
    extract_cover,
    ffmetadata,
    make_image,
    mpeg_audio_bytes,
    sha256,
    stream_hash,
)

SECONDS = 10.0
FEED = "https://media.example.fi/ihmiskeskeisyys/feed.xml"
GUID = "urn:uuid:6f1c4a52-7d4e-5c8a-9e0b-2f5d3c1a9b70"
PAGE = "https://example.fi/ihmiskeskeisyys/003"


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """One synthetic speech MP3, one webinar MP4 and one cover, made once for the module."""
    root = tmp_path_factory.mktemp("media")
    return {
        "mp3": synth.speech(root / "speech.mp3", SECONDS),
        "mp4": synth.webinar(root / "webinar.mp4", 8.0),
        "cover": make_image(root / "cover.jpg", 1400, noise=False),
        "chapter_image": make_image(root / "chapter.png", 400, noise=False),
    }


@pytest.fixture
def mp3(media, tmp_path) -> Path:
    return Path(shutil.copy(media["mp3"], tmp_path / "003.mp3"))


@pytest.fixture
def data(media) -> tagging.TagData:
    episode = demo_episode()
    episode = dataclasses.replace(episode, chapters=episode.chapters[:2] + (
        dataclasses.replace(episode.chapters[2], image=media["chapter_image"]),))
    return tagging.tag_data(demo_show(media["cover"]), episode, guid=GUID, feed_url=FEED, episode_url=PAGE,
                            duration=SECONDS, cover=media["cover"])


def test_tag_data_gathers_the_show_and_episode_fields(media):
    show, episode = demo_show(media["cover"]), demo_episode()
    data = tagging.tag_data(show, episode, guid=GUID, feed_url=FEED, episode_url=PAGE, duration=SECONDS,
                            cover=media["cover"])
    assert data.title == "Palvelupolut ja elämäntapahtumat"
    assert data.artist == "Ohjelman Juontaja"  # the host, not the guest
    assert data.album == "Näkökulmia ihmiskeskeisyyteen" and data.album_artist == "AuroraAI-ohjelma"
    assert (data.track, data.season, data.date) == (3, 1, "2026-03-15")  # the date in Helsinki, not UTC
    assert data.summary == "Miten elämäntapahtumat ohjaavat julkisten palveluiden suunnittelua?"
    assert "Sari Esimerkki (https://example.fi/sari)" in data.description and "**" not in data.description
    assert data.copyright == "© 2026 AuroraAI-ohjelma; CC BY 4.0"
    assert data.language == "fi" and data.length_ms == 10000
    assert [(c.start_ms, c.end_ms) for c in data.chapters] == [(0, 3217), (3217, 6500), (6500, 10000)]

    nobody = tagging.tag_data(dataclasses.replace(show, persons=()), dataclasses.replace(
        episode, persons=(Person("Vieras", role="guest"),), summary="Oma *tiivistelmä*."),
        guid=GUID, feed_url=FEED, episode_url=None, duration=SECONDS, cover=None)
    assert nobody.artist == "AuroraAI-ohjelma"  # no host anywhere: the show's author
    assert nobody.summary == "Oma tiivistelmä."


@pytest.mark.parametrize("version", [3, 4])
def test_mp3_read_by_eyed3(mp3, data, media, version):
    """Must show 1 (eyeD3): every podcast field, the cover and the chapters in order."""
    tagging.tag_file(mp3, data, id3_version=version)
    tag = eyed3.load(mp3).tag
    assert tag.version == (2, version, 0)
    assert tag.title == data.title
    assert tag.artist == "Ohjelman Juontaja"
    assert tag.album == "Näkökulmia ihmiskeskeisyyteen"
    assert tag.track_num[0] == 3 and tag.disc_num[0] == 1
    assert str(tag.getBestDate()) == "2026-03-15"
    assert tag.genre.name == "Podcast"
    comments = list(tag.comments)
    assert [(c.description, c.lang, c.text) for c in comments] == [("", b"fin", data.summary)]
    assert tag.getTextFrame(b"TDES") == data.description
    assert tag.getTextFrame(b"TLAN") == "fin"
    assert tag.getTextFrame(b"TGID") == GUID
    assert tag.frame_set[b"WFED"][0].text == FEED  # eyeD3 reads Apple's WFED as a text frame
    assert b"PCST" in tag.frame_set
    assert tag.audio_file_url == PAGE
    assert tag.copyright_url == "https://creativecommons.org/licenses/by/4.0/"
    cover = [img for img in tag.images if img.picture_type == 3]
    assert len(cover) == 1 and cover[0].mime_type == "image/jpeg"
    assert cover[0].image_data == media["cover"].read_bytes()

    toc = list(tag.table_of_contents)
    assert len(toc) == 1 and toc[0].toplevel and toc[0].ordered
    read = [tag.chapters.get(element_id) for element_id in toc[0].child_ids]
    assert [c.title for c in read] == [c.title for c in data.chapters]
    assert [c.times for c in read] == [(c.start_ms, c.end_ms) for c in data.chapters]
    assert read[1].user_url == "https://example.fi/el"
    images = [f for f in read[2].sub_frames.get(b"APIC", [])]
    if version == 3:
        assert len(images) == 1 and images[0].image_data == media["chapter_image"].read_bytes()
    else:  # left out in v2.4: ffmpeg-based players would drop the whole chapter (see tagging.py)
        assert images == []


@pytest.mark.parametrize("version", [3, 4])
def test_mp3_read_by_ffmpeg(mp3, data, media, tmp_path, version):
    """Must show 1 (ffmpeg's own metadata reader): the same fields, the cover stream, the chapters."""
    tagging.tag_file(mp3, data, id3_version=version)
    meta, chapters, listing = ffmetadata(mp3, copyts=True)
    assert meta["title"] == data.title
    assert meta["artist"] == "Ohjelman Juontaja"
    assert meta["album"] == "Näkökulmia ihmiskeskeisyyteen"
    assert meta["track"] == "3" and meta["disc"] == "1"
    assert meta["date"] == "2026-03-15"  # from TYER+TDAT in v2.3, TDRC in v2.4
    assert meta["genre"] == "Podcast"
    assert meta["comment"] == data.summary
    assert meta["TDES"] == data.description
    assert meta["language"] == "fin"
    assert meta["TGID"] == GUID
    # ffmpeg lists text frames only: it has no name for the PCST flag nor Apple's WFED, so those
    # two are read here from ffmpeg's own ID3 demuxing of the raw frames instead
    assert "(attached pic)" in listing
    assert extract_cover(mp3, tmp_path / "cover.jpg") == media["cover"].read_bytes()
    assert [c["title"] for c in chapters] == [c.title for c in data.chapters]
    for got, want in zip(chapters, data.chapters, strict=True):
        assert abs(got["start"] - want.start) <= 0.001 and abs(got["end"] - want.end) <= 0.001

    # Without -copyts the ffmpeg command line moves every time by the MP3's encoder delay, which it
    # reports as the stream start; the chapter starts still agree once that is taken back.
    _, shifted, listing = ffmetadata(mp3)
    delay = float(listing.split("start: ")[1].split(",")[0])
    assert 0 < delay < 0.1
    for got, want in zip(shifted, data.chapters, strict=True):
        assert abs(got["start"] - max(0.0, want.start - delay)) <= 0.001


def test_podcast_flag_and_feed_url_as_raw_frames(mp3, data):
    """The two Apple frames ffmpeg does not list, checked in the file's bytes against Apple's layout."""
    tagging.tag_file(mp3, data)
    raw = mp3.read_bytes()
    pcst = raw.index(b"PCST")
    assert raw[pcst + 4:pcst + 8] == b"\x00\x00\x00\x04" and raw[pcst + 10:pcst + 14] == b"\x00" * 4
    wfed = raw.index(b"WFED")
    size = int.from_bytes(raw[wfed + 4:wfed + 8], "big")
    # a text frame despite the W: encoding byte 0 (ISO-8859-1), then the URL
    assert raw[wfed + 10:wfed + 10 + size].rstrip(b"\x00") == b"\x00" + FEED.encode()


SCRIPTS = {
    "finnish": "Äänekoski, Hämeenlinna, Åland, öljy – ÄÖÅ äöå",
    "sami": "Sámegiella: Anár, čuđit, ŋ, šaldi, ž",
    "cyrillic": "Искусственный интеллект",
    "greek": "Τεχνητή νοημοσύνη",
    "arabic": "الذكاء الاصطناعي",
    "cjk": "人工知能と公共サービス 인공지능",
    "emoji": "Tekoäly 🤖 ja ihmiset 👩‍👩‍👧 🇫🇮 ✨",
}


@pytest.mark.parametrize("version", [3, 4])
def test_every_text_frame_round_trips_any_script(mp3, data, version):
    """Must show 2: Finnish, other scripts and emoji come back exactly from every text frame."""
    text = " | ".join(SCRIPTS.values())
    data = dataclasses.replace(
        data, title=f"T {text}", artist=f"A {text}", album=f"B {text}", album_artist=f"C {text}",
        summary=f"S {text}", description=f"D {text}\n\n{SCRIPTS['emoji']}", copyright=f"2026 {text}",
        keywords=f"K {text}", guid=f"G {text}",
        chapters=tuple(ChapterMark(c.start_ms, c.end_ms, f"{name}: {value}")
                       for c, (name, value) in zip(data.chapters, list(SCRIPTS.items())[:3])))
    tagging.tag_file(mp3, data, id3_version=version)

    tag = eyed3.load(mp3).tag
    expected = {b"TIT2": data.title, b"TPE1": data.artist, b"TALB": data.album, b"TPE2": data.album_artist,
                b"TDES": data.description, b"TCOP": data.copyright, b"TKWD": data.keywords, b"TGID": data.guid}
    text_frames = {fid for fid in tag.frame_set if fid.startswith(b"T") and
                   any(ord(ch) > 127 for ch in tag.getTextFrame(fid) or "")}
    assert text_frames == set(expected), "every non-ASCII text frame is checked"
    for fid, value in expected.items():
        assert tag.getTextFrame(fid) == value, fid
    assert [c.text for c in tag.comments] == [data.summary]
    toc = next(iter(tag.table_of_contents))
    assert [tag.chapters.get(i).title for i in toc.child_ids] == [c.title for c in data.chapters]
    # ID3v2.3 has no UTF-8: text is UTF-16 there (encoding 1); v2.4 uses UTF-8 (encoding 3)
    assert {ID3(mp3).get("TIT2").encoding} == {1 if version == 3 else 3}

    meta, chapters, _ = ffmetadata(mp3, copyts=True)
    assert (meta["title"], meta["artist"], meta["album"], meta["comment"], meta["TDES"]) == \
        (data.title, data.artist, data.album, data.summary, data.description)
    assert [c["title"] for c in chapters] == [c.title for c in data.chapters]


def test_tagging_twice_replaces_frames_and_keeps_the_audio(mp3, data, tmp_path):
    """Must show 3: no duplicate frames, and the MPEG audio frames are byte-identical."""
    audio_before = sha256(mpeg_audio_bytes(mp3))
    packets_before = stream_hash(mp3, "0:a")
    tagging.tag_file(mp3, data)
    changed = dataclasses.replace(data, title="Uusi otsikko", chapters=data.chapters[:2], episode_url=None)
    tagging.tag_file(mp3, changed)
    frames = [f.FrameID for f in ID3(mp3).values()]
    counts = {fid: frames.count(fid) for fid in frames}
    assert counts.pop("CHAP") == 2
    assert set(counts.values()) == {1}, counts
    assert "WOAF" not in counts  # a field dropped from the data is dropped from the file
    assert ID3(mp3)["TIT2"].text == ["Uusi otsikko"]
    assert sha256(mpeg_audio_bytes(mp3)) == audio_before
    assert stream_hash(mp3, "0:a") == packets_before

    # deterministic: the re-tagged file equals a fresh copy tagged once with the same data
    fresh = Path(shutil.copy(mp3, tmp_path / "fresh.mp3"))
    tagging.tag_file(fresh, changed)
    assert fresh.read_bytes() == mp3.read_bytes()
    assert not list(mp3.parent.glob(".*")), "no temporary file left behind"


def test_webinar_mp4_tags_chapters_and_untouched_video(media, data, tmp_path):
    """Must show 4: title, artist, album, date, cover and chapters read back by ffmpeg; video unchanged."""
    mp4 = Path(shutil.copy(media["mp4"], tmp_path / "003.mp4"))
    video_before, audio_before = stream_hash(mp4, "0:v:0"), stream_hash(mp4, "0:a:0")
    data = dataclasses.replace(data, length_ms=8000, chapters=(
        ChapterMark(0, 2500, "Avaus"), ChapterMark(2500, 5125, "Tekoäly 🤖 palveluissa"),
        ChapterMark(5125, 8000, "Kysymykset; vastaukset = #1")))
    tagging.tag_file(mp4, data)
    tagging.tag_file(mp4, data)  # twice: chapters and atoms replaced, not added

    meta, chapters, listing = ffmetadata(mp4)
    assert meta["title"] == data.title
    assert meta["artist"] == "Ohjelman Juontaja"
    assert meta["album"] == "Näkökulmia ihmiskeskeisyyteen"
    assert meta["date"] == "2026-03-15"
    assert meta["description"] == data.summary and meta["synopsis"] == data.description
    assert meta["podcast"] == "1" and meta["media_type"] == "21"
    assert meta["track"] == "3" and meta["season_number"] == "1"
    assert [c["title"] for c in chapters] == [c.title for c in data.chapters]
    for got, want in zip(chapters, data.chapters, strict=True):
        assert abs(got["start"] - want.start) <= 0.001
    assert listing.count("(attached pic)") == 1
    assert extract_cover(mp4, tmp_path / "cover.jpg") == media["cover"].read_bytes()
    assert stream_hash(mp4, "0:v:0") == video_before
    assert stream_hash(mp4, "0:a:0") == audio_before

    read = tagging.read_tags(mp4)
    assert read["fields"]["feed_url"] == FEED and read["fields"]["guid"] == GUID
    assert [c["title"] for c in read["chapters"]] == [c.title for c in data.chapters]

    fresh = Path(shutil.copy(media["mp4"], tmp_path / "fresh.mp4"))
    tagging.tag_file(fresh, data)
    assert fresh.read_bytes() == mp4.read_bytes(), "same input, same bytes"


def test_m4a_audio_rendition(tmp_path, data):
    m4a = synth.speech(tmp_path / "003.m4a", 6.0)
    data = dataclasses.replace(data, length_ms=6000, chapters=(ChapterMark(0, 3000, "Yksi"),
                                                               ChapterMark(3000, 6000, "Kaksi")))
    tagging.tag_file(m4a, data)
    meta, chapters, _ = ffmetadata(m4a)
    assert (meta["title"], meta["album"]) == (data.title, data.album)
    assert [(c["start"], c["title"]) for c in chapters] == [(0.0, "Yksi"), (3.0, "Kaksi")]


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path, data):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 100)
    before = broken.read_bytes()
    with pytest.raises(MediaError) as error:
        tagging.tag_file(broken, data)
    assert str(broken) in str(error.value)
    assert broken.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


def test_unsupported_files_and_versions_are_refused(tmp_path, data, mp3):
    with pytest.raises(MediaError, match=r"broken\.ogg: cannot tag \.ogg"):
        tagging.tag_file(tmp_path / "broken.ogg", data)
    with pytest.raises(MediaError, match="ID3 version must be 3 or 4"):
        tagging.tag_file(mp3, data, id3_version=2)


def test_a_chapter_after_the_end_of_the_audio_is_an_error(media):
    episode = demo_episode(chapters=(Chapter(0.0, "Alku"), Chapter(12.0, "Liian myöhään")))
    with pytest.raises(ConfigError) as error:
        tagging.tag_data(demo_show(media["cover"]), episode, guid=GUID, feed_url=FEED, episode_url=None,
                         duration=SECONDS, cover=None)
    assert str(error.value).startswith("episodes/ihmiskeskeisyys/003-palvelupolut.md: chapters: chapter 2")
    assert "00:00:12" in str(error.value) and "00:00:10" in str(error.value)


def test_tags_are_a_table_not_per_format_branches():
    """Every logical field of TagData has a row, and each row names a place in at least one format."""
    names = {f.name for f in dataclasses.fields(tagging.TagData)}
    rows = {row.name for row in tagging.FIELDS}
    assert rows == names
    assert all(row.id3 is not None or row.mp4 is not None for row in tagging.FIELDS)


def test_plain_text_from_markdown():
    # the tag frames carry the same plain text as the feed's description (notes.render_notes)
    notes = ("# Otsikko\n\nTämä on **lihavoitu** ja *kursivoitu* ja `koodi`.\nJatkuu samalla rivillä.\n\n"
             "* [AuroraAI](https://example.fi/aurora)\n* <https://example.fi/x>\n\n> lainaus snake_case_nimi")
    assert tagging.plain_text(notes) == (
        "Otsikko\n\nTämä on lihavoitu ja kursivoitu ja koodi. Jatkuu samalla rivillä.\n\n"
        "- AuroraAI (https://example.fi/aurora)\n- https://example.fi/x\n\nlainaus snake_case_nimi")
