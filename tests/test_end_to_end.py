"""The walking skeleton end to end: the built-in demo shows published as a user would publish them.

The repository's own workspace is copied to a temporary folder, its recordings generated, and
the real `media-pipeline` command run in a subprocess; feeds are read back with two independent
podcast parsers and the MP3s with mutagen.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import podcastparser
import pytest
from mutagen.id3 import ID3

from media_pipeline.audio import ffmpeg
from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline_demo.demo import generate_demo_media

from audio_support import independent_loudness

REPO = Path(__file__).resolve().parents[1]
SUFFIX_TYPES = {".mp3": "audio/mpeg", ".mp4": "video/mp4", ".m4a": "audio/mp4"}


def run_cli(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    for name in ("MEDIA_PIPELINE_STORAGE", "MEDIA_PIPELINE_PUBLIC_URL"):
        if not env or name not in env:
            environment.pop(name, None)
    return subprocess.run([sys.executable, "-m", "media_pipeline", "--root", str(root), *args],
                          capture_output=True, text=True, env=environment, timeout=600)


def copy_demo_workspace(target: Path, *, unpublished: bool = False) -> Path:
    """The repository's demo workspace; `unpublished` drops the episodes' committed guid lines, so
    the copy is published for the first time (the repository's own episodes look published)."""
    target.mkdir(parents=True)
    shutil.copy2(REPO / "media-pipeline.toml", target)
    for folder in ("feeds", "episodes", "artwork", "transcripts"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, target / folder)
    if unpublished:
        for episode in (target / "episodes").glob("*/*.md"):
            text = episode.read_text(encoding="utf-8")
            episode.write_text(re.sub(r"^guid: .*\n", "", text, flags=re.M), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workspace with its media generated and both shows published to local storage, by
    the ffmpeg the environment chooses (MEDIA_PIPELINE_FFMPEG, else the wheel's)."""
    root = copy_demo_workspace(tmp_path_factory.mktemp("demo") / "ws", unpublished=True)
    generate_demo_media(load_workspace(root))
    result = run_cli(root, "publish", "--all")
    assert result.returncode == 0, result.stderr
    return root


def demo_episodes(root: Path):
    catalog, problems = load_catalog(load_workspace(root))
    assert not [p for p in problems if p.severity == "error"], problems
    return catalog


def test_each_feed_lists_every_demo_episode_in_two_parsers(demo):
    catalog = demo_episodes(demo)
    assert set(catalog.shows) == {"ihmiskeskeisyys", "tekoalywebinaarit"}
    for slug, episodes in catalog.episodes.items():
        feed_path = demo / "public" / slug / "feed.xml"
        parsed = feedparser.parse(feed_path.read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        titles = {entry.title for entry in parsed.entries}
        assert titles == {e.title for e in episodes}
        with feed_path.open("rb") as fh:
            podcast = podcastparser.parse(f"http://127.0.0.1:8000/{slug}/feed.xml", fh)
        assert {e["title"] for e in podcast["episodes"]} == titles
        assert len(episodes) >= 2


def test_enclosures_are_exact(demo):
    for feed_path in sorted((demo / "public").glob("*/feed.xml")):
        parsed = feedparser.parse(feed_path.read_bytes())
        for entry in parsed.entries:
            for enclosure in entry.enclosures:
                key = enclosure.href.split("http://127.0.0.1:8000/", 1)[1]
                stored = demo / "public" / key
                assert stored.is_file(), enclosure.href
                assert int(enclosure.length) == stored.stat().st_size
                assert enclosure.type == SUFFIX_TYPES[stored.suffix]


def test_demo_mp3s_carry_title_show_and_cover(demo):
    catalog = demo_episodes(demo)
    for slug, episodes in catalog.episodes.items():
        show = catalog.shows[slug]
        for episode in episodes:
            tags = ID3(demo / "public" / slug / f"{episode.slug}.mp3")
            assert str(tags["TIT2"]) == episode.title
            assert str(tags["TALB"]) == show.title
            covers = tags.getall("APIC")
            assert covers and covers[0].data[:3] == b"\xff\xd8\xff"  # a JPEG


def test_guids_are_written_back_and_stable(demo):
    before = {e.key: e.guid for eps in demo_episodes(demo).episodes.values() for e in eps}
    assert len(before) == 5 and all(before.values())
    assert not set(before.values()) & set(re.findall(r"^guid: (\S+)", "".join(
        p.read_text(encoding="utf-8") for p in (REPO / "episodes").glob("*/*.md")), re.M))  # new, not the repo's
    result = run_cli(demo, "publish", "--all")
    assert result.returncode == 0, result.stderr
    after = {e.key: e.guid for eps in demo_episodes(demo).episodes.values() for e in eps}
    assert after == before


@pytest.mark.portability
def test_every_demo_rendition_is_within_half_a_lu_of_target_and_under_minus_one_dbtp(demo):
    """Measured independently (ffmpeg's ebur128 straight, true peak), on whichever ffmpeg the run
    used: CI runs this with the distribution's ffmpeg as MEDIA_PIPELINE_FFMPEG too."""
    catalog = demo_episodes(demo)
    measured = []
    for slug, episodes in catalog.episodes.items():
        settings = catalog.shows[slug].audio
        for episode in episodes:
            files = sorted((demo / "public" / slug).glob(f"{episode.slug}.*"))
            media = [f for f in files if f.suffix in SUFFIX_TYPES]
            assert media, files
            for path in media:
                level = independent_loudness(path)
                measured.append(f"{path.name} {level.integrated:.2f} LUFS {level.true_peak:.2f} dBTP")
                assert abs(level.integrated - settings.target_lufs) <= 0.5, measured[-1]
                assert level.true_peak <= min(-1.0, settings.true_peak_db), measured[-1]
    print(f"ffmpeg {ffmpeg.checked().version}:", "; ".join(measured))
    # 3 MP3s, an MP4 and an MP3 for each of the 2 webinars, and webinar 01's described MP4 and MP3
    assert len(measured) == 9


@pytest.mark.slow  # 13 to 19 s: the default run keeps under its 10-minute budget; CI runs it
def test_publish_to_s3_and_second_run_uploads_no_media(tmp_path, s3):
    root = copy_demo_workspace(tmp_path / "ws")
    # two short episodes are enough here; the demo's own media is generated for them
    for extra in sorted((root / "episodes" / "ihmiskeskeisyys").glob("*.md"))[2:]:
        extra.unlink()
    for extra in sorted((root / "episodes" / "tekoalywebinaarit").glob("*.md"))[1:]:
        extra.unlink()
    generate_demo_media(load_workspace(root))
    env = {"MEDIA_PIPELINE_STORAGE": s3.storage_url("podcasts"),
           "MEDIA_PIPELINE_PUBLIC_URL": f"{s3.endpoint}/{s3.bucket}/podcasts"}
    first = run_cli(root, "publish", "--all", env=env)
    assert first.returncode == 0, first.stderr

    def listing():
        objects = s3.client.list_objects_v2(Bucket=s3.bucket, Prefix="podcasts/")["Contents"]
        return {o["Key"]: (o["ETag"], o["LastModified"]) for o in objects}

    stored = listing()
    for key in ("podcasts/ihmiskeskeisyys/feed.xml", "podcasts/tekoalywebinaarit/feed.xml",
                "podcasts/ihmiskeskeisyys/001.mp3", "podcasts/tekoalywebinaarit/01.mp4",
                "podcasts/tekoalywebinaarit/01.mp3"):
        assert key in stored, sorted(stored)
    time.sleep(1.1)  # LastModified has one-second resolution
    second = run_cli(root, "publish", "--all", env=env)
    assert second.returncode == 0, second.stderr
    again = listing()
    media = [k for k in stored if k.endswith((".mp3", ".mp4", ".jpg", ".json", ".vtt"))]
    assert media and all(again[k] == stored[k] for k in media)


# -- transcripts: four forms in the feed, captions inside the webinar videos -----------------------

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
FORM_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip", ".transcript.html": "text/html",
              ".transcript.json": "application/json"}
PARTYTIME = REPO / "tests" / "node" / "read_transcripts.js"


def _transcript_tags(feed_path: Path) -> dict[str, list[dict]]:
    from lxml import etree

    root = etree.parse(str(feed_path)).getroot()
    return {item.findtext("guid"): [dict(t.attrib) for t in item.findall(f"{{{PODCAST_NS}}}transcript")]
            for item in root.iter("item")}


def _expected_forms(root: Path, episode, show) -> list[tuple[str, str, str, str | None]]:
    """(key, type, language, rel) of every form of every transcript the episode names."""
    out = []
    for t in episode.transcripts:
        language = t.language or show.language
        middle = "" if language == show.language else f".{language}"
        for suffix, mime in FORM_TYPES.items():
            rel = "captions" if suffix in (".vtt", ".srt") else None
            out.append((f"{show.slug}/{episode.slug}{middle}{suffix}", mime, language, rel))
    return out


def test_every_demo_transcript_is_in_the_feed_in_four_forms_each_with_its_type_and_language(demo):
    """Transcripts must-show 3: WebVTT, SRT, HTML and JSON, one podcast:transcript each, the timed
    ones rel="captions"; every URL points at the stored file; feedparser reads the tags."""
    catalog = demo_episodes(demo)
    seen_languages = set()
    for slug, show in catalog.shows.items():
        feed_path = demo / "public" / slug / "feed.xml"
        tags = _transcript_tags(feed_path)
        parsed = feedparser.parse(feed_path.read_bytes())
        assert not parsed.bozo
        for episode in catalog.episodes[slug]:
            assert episode.transcripts, episode.key  # every demo episode has one
            expected = _expected_forms(demo, episode, show)
            got = [(t["url"].split("/", 3)[3], t["type"], t["language"], t.get("rel")) for t in tags[episode.guid]]
            assert got == expected
            for key, *_ in expected:
                assert (demo / "public" / key).stat().st_size > 0
            seen_languages |= {language for _, _, language, _ in expected}
            item = next(e for e in parsed.entries if e.id == episode.guid)
            assert item.podcast_transcript["url"].endswith(expected[-1][0])  # feedparser keeps the last
    assert seen_languages == {"fi", "sv"}


def test_podcast_partytime_reads_every_transcript_form(demo):
    """The reader Podcasting 2.0 apps are built on sees the same tags (it names SRT application/srt)."""
    if not (REPO / "tests" / "node" / "node_modules" / "podcast-partytime").is_dir():
        if os.environ.get("CI"):
            pytest.fail("podcast-partytime is not installed: run .ci/run's npm line")
        pytest.skip("podcast-partytime not installed (npm ci --prefix tests/node)")
    import json

    catalog = demo_episodes(demo)
    for slug, show in catalog.shows.items():
        out = subprocess.run(["node", str(PARTYTIME), str(demo / "public" / slug / "feed.xml")],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        read = {item["guid"]: item["transcripts"] for item in json.loads(out)}
        for episode in catalog.episodes[slug]:
            expected = [(key, "application/srt" if mime == "application/x-subrip" else mime, language, rel)
                        for key, mime, language, rel in _expected_forms(demo, episode, show)]
            assert [(t["url"].split("/", 3)[3], t["type"], t["language"], t.get("rel"))
                    for t in read[episode.guid]] == expected


def test_the_json_transcripts_follow_the_podcasting_2_0_format(demo):
    import json

    import jsonschema

    from media_pipeline.text import strings
    from transcript_support import JSON_TRANSCRIPT_SCHEMA

    files = sorted((demo / "public").glob("*/*.transcript.json"))
    assert len(files) == 6
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(data, JSON_TRANSCRIPT_SCHEMA)
        vtt = path.with_name(path.name.replace(".transcript.json", ".vtt"))
        import webvtt

        # the same words; the captions add the speaker's name where the speaker changes and may
        # split a cue to keep the line norms
        # split a cue to keep the line norms; the descriptive transcript's descriptions are in the
        # JSON only (speaker "Kuvailu", "Beskrivning", ...)
        described = {strings.text(language, "description") for language in strings.LANGUAGES}
        spoken = [s for s in data["segments"] if s.get("speaker") not in described]
        names = {s["speaker"] for s in spoken if "speaker" in s}
        captions = " ".join(" ".join(c.text.split()) for c in webvtt.read(str(vtt)))
        for name in names:
            captions = captions.replace(f"{name}: ", "")
        assert " ".join(s["body"] for s in spoken) == captions


def test_each_webinar_mp4_carries_its_captions_as_subtitle_tracks_with_their_language(demo):
    """Transcripts must-show 4: ffmpeg lists a mov_text stream per language (ISO 639-2), and the
    cues it reads back from the MP4 are those of the published WebVTT."""
    from transcript_support import mp4_subtitles, vtt_cues

    catalog = demo_episodes(demo)
    show = catalog.shows["tekoalywebinaarit"]
    for episode in catalog.episodes["tekoalywebinaarit"]:
        mp4 = demo / "public" / show.slug / f"{episode.slug}.mp4"
        tracks = mp4_subtitles(mp4)
        languages = [t.language or show.language for t in episode.transcripts]
        assert [lang for lang, _ in tracks] == [{"fi": "fin", "sv": "swe"}[lang] for lang in languages]
        for (_, cues), language in zip(tracks, languages, strict=True):
            middle = "" if language == show.language else f".{language}"
            assert cues == vtt_cues(demo / "public" / show.slug / f"{episode.slug}{middle}.vtt")
    # audio-only renditions carry no subtitles, and the cached render none either
    cached = sorted((demo / ".media-pipeline" / "cache" / show.slug).glob("*/*.mp4"))
    assert cached and all(mp4_subtitles(path) == [] for path in cached)


def test_the_demo_transcripts_keep_every_captioning_norm(demo):
    result = run_cli(demo, "check")
    assert result.returncode == 0, result.stdout
    assert [line for line in result.stdout.splitlines() if "transcript" in line] == []


def test_the_demo_audio_interviews_name_both_speakers_in_every_form(demo):
    """Issue 25: two people talk in audio episodes 001 and 003; every form says who."""
    import json

    import srt
    from lxml import html as lxml_html

    public = demo / "public" / "ihmiskeskeisyys"
    for slug, guest in (("001", "Leena Koskinen"), ("003", "Sanna Heikkinen")):
        data = json.loads((public / f"{slug}.transcript.json").read_text(encoding="utf-8"))
        assert {s["speaker"] for s in data["segments"]} == {"Aino Lehtonen", guest}
        subtitles = "\n".join(c.content for c in srt.parse((public / f"{slug}.srt").read_text(encoding="utf-8")))
        assert subtitles.startswith("Aino Lehtonen: ") and f"\n{guest}: " in subtitles
        page = lxml_html.fromstring((public / slug / "index.html").read_bytes())
        assert {s.text_content() for s in page.xpath("//*[@class='speaker']")} == {"Aino Lehtonen:", f"{guest}:"}
