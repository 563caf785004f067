"""A 1080p webinar of slides with a moving speaker inset, published: its 720p and 360p renditions
in the feed and on the page, each read back by ffprobe, ebur128, feedparser and lxml."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from publish_support import run_cli
from video_support import WEBINAR_TOML, ffprobe, integrated_loudness, moov_before_mdat, slide_webinar

PC = "https://podcastindex.org/namespace/1.0"


@pytest.fixture(scope="module")
def published(tmp_path_factory, synthesised):
    """One publish of the slide webinar, shared by the tests of this module (it is the costly part)."""
    from conftest import WorkspaceFactory

    root = tmp_path_factory.mktemp("video") / "ws"
    root.mkdir()
    (root / "media-pipeline.toml").write_text('storage = "file://./public"\npublic_url = "http://127.0.0.1:8000"\n')
    ws = WorkspaceFactory(root, synthesised)
    slide_webinar(ws)
    run = run_cli(root, "publish", "--all")
    assert run.code == 0, run.err
    return root


def test_the_720p_and_360p_renditions_are_playable_h264_and_aac_with_faststart(published):
    public = published / "public" / "webinaari"
    for name, size in (("01.1280x720.mp4", (1280, 720)), ("01.640x360.mp4", (640, 360))):
        info = ffprobe(public / name)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", *size)
        assert video["pix_fmt"] == "yuv420p"
        assert audio["codec_name"] == "aac"
        assert moov_before_mdat(public / name), f"{name} is not faststart"
        assert abs(float(info["format"]["duration"]) - 12.0) < 0.2


def test_every_video_rendition_has_its_audio_on_the_target(published):
    public = published / "public" / "webinaari"
    for name in ("01.mp4", "01.1280x720.mp4", "01.640x360.mp4", "01.mp3"):
        assert abs(integrated_loudness(public / name) - -16.0) <= 0.5, name


def test_the_feed_offers_each_rendition_as_an_alternate_enclosure_with_height_title_and_integrity(published):
    body = (published / "public" / "webinaari" / "feed.xml").read_bytes()
    tree = etree.fromstring(body)
    alternates = tree.findall(f".//{{{PC}}}alternateEnclosure")
    by_uri = {a.find(f"{{{PC}}}source").get("uri").rsplit("/", 1)[-1]: a for a in alternates}
    assert set(by_uri) == {"01.mp4", "01.1280x720.mp4", "01.640x360.mp4", "01.mp3"}
    for name, height in (("01.1280x720.mp4", "720"), ("01.640x360.mp4", "360")):
        alt = by_uri[name]
        assert alt.get("type") == "video/mp4" and alt.get("height") == height
        assert alt.get("title") == f"Video {height}p"
        data = (published / "public" / "webinaari" / name).read_bytes()
        assert alt.get("length") == str(len(data))
        integrity = alt.find(f"{{{PC}}}integrity")
        assert integrity.get("type") == "sri"
        assert integrity.get("value") == "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert 0 < int(alt.get("bitrate")) < 1_600_000
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries[0].enclosures[0].href.endswith("/01.mp4")


def test_the_page_plays_a_rendition_by_default_and_links_every_one_with_its_size(published):
    page = html.fromstring((published / "public" / "webinaari" / "01" / "index.html").read_bytes())
    video = page.get_element_by_id("player")
    assert video.tag == "video" and video.get("preload") == "metadata"
    sources = [(s.get("src").rsplit("/", 1)[-1], s.get("media")) for s in video.xpath(".//source")]  # nested: libxml2 knows no void <source>
    assert sources[0] == ("01.640x360.mp4", "(max-width: 40em)")
    assert sources[1] == ("01.1280x720.mp4", None)
    assert sources[-1] == ("01.mp4", None)
    links = {a.get("href").rsplit("/", 1)[-1]: a.text_content() for a in page.xpath("//a[@download]")}
    assert "1280×720" in links["01.1280x720.mp4"] and "640×360" in links["01.640x360.mp4"]
    for name in ("01.mp4", "01.1280x720.mp4", "01.640x360.mp4", "01.mp3"):
        assert name in links and re.search(r"\d\s(kt|Mt)", links[name]), links


def test_a_second_run_reuses_the_renditions_from_the_cache(published):
    entries = sorted(p.name for p in (published / ".media-pipeline" / "cache" / "webinaari").iterdir()
                     if not p.name.startswith("."))
    again = run_cli(published, "process", "webinaari/01")
    assert again.code == 0 and "cached" in again.out, again.out + again.err
    assert sorted(p.name for p in (published / ".media-pipeline" / "cache" / "webinaari").iterdir()
                  if not p.name.startswith(".")) == entries


def test_a_show_turns_renditions_off_with_an_empty_list_and_an_unknown_one_is_an_error(workspace):
    from media_pipeline.config.load import load_catalog, load_workspace

    slide_webinar(workspace, toml=WEBINAR_TOML + "\n[video]\nrenditions = []\n")
    catalog, _ = load_catalog(load_workspace(workspace.root))
    assert catalog.shows["webinaari"].video.renditions == ()
    workspace.show("webinaari", WEBINAR_TOML + '\n[video]\nrenditions = ["360p", "720p", "4k"]\n')
    run = run_cli(workspace.root, "check", "webinaari")
    assert run.code == 1
    assert "feeds/webinaari.toml: video.renditions: unknown rendition '4k'" in run.out + run.err


def test_the_poster_is_a_16_9_frame_of_the_slides_not_black_and_the_feed_artwork_stays_square(published):
    public = published / "public" / "webinaari"
    for name in ("01.poster.jpg", "01.poster.webp"):
        info = ffprobe(public / name)
        stream = info["streams"][0]
        assert (stream["width"], stream["height"]) == (1280, 720), name
        assert stream["codec_name"] == ("mjpeg" if name.endswith(".jpg") else "webp")
    # the frame's mean luma, measured apart from the pipeline: a black frame is about 16
    err = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(public / "01.poster.jpg"), "-vf",
                          "signalstats,metadata=mode=print", "-f", "null", "-"], capture_output=True, text=True).stderr
    mean = float(re.search(r"lavfi\.signalstats\.YAVG=([\d.]+)", err).group(1))
    assert mean > 100
    page = html.fromstring((public / "01" / "index.html").read_bytes())
    assert page.get_element_by_id("player").get("poster").endswith("/webinaari/01.poster.jpg")
    tree = etree.fromstring((public / "feed.xml").read_bytes())
    itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd"
    images = [e.get("href") for e in tree.iter(f"{{{itunes}}}image")]
    assert images and not any("poster" in href for href in images)
