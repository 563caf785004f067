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

from audio_support import independent_loudness
from media_pipeline import ffmpeg
from media_pipeline.config import load_catalog, load_workspace
from media_pipeline.demo import generate_demo_media

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
    assert len(measured) == 7  # 3 MP3s, and an MP4 and an MP3 for each of the 2 webinars


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
