"""Chapters proposed from a webinar's slides through `media-pipeline chapters`: the scripted 1080p
deck whose slides change at known times under a moving speaker inset, its draft in the episode
file, the slide pictures in the JSON chapters and on the page, and what is never overwritten."""

from __future__ import annotations

import json

import pytest
from lxml import etree, html

from publish_support import load, run_cli
from video_support import SLIDE_CHANGES, ffprobe, slide_webinar

from media_pipeline.video.chapters import DRAFT_MARK
from media_pipeline.video.slides import slide_changes

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def test_the_slide_changes_of_the_scripted_deck_are_found_and_the_moving_inset_is_not(tmp_path):
    from media_pipeline_demo import synth

    deck = synth.slides_webinar(tmp_path / "deck.mp4", 10.0, (3.0, 6.5), size="1280x720")
    found = slide_changes(deck)
    assert len(found) == 2 and all(abs(f - k) <= 2.0 for f, k in zip(found, (3.0, 6.5))), found
    still = tmp_path / "inset-only.mp4"  # one slide the whole time; only the speaker moves
    synth.slides_webinar(still, 8.0, (), size="1280x720")
    assert slide_changes(still) == ()


def test_a_dry_run_shows_the_proposal_and_writes_nothing(workspace):
    path = slide_webinar(workspace)
    before = path.read_bytes()
    run = run_cli(workspace.root, "chapters", "webinaari/01", "--dry-run")
    assert run.code == 0, run.err
    assert "Dia 1" in run.out and "Dia 3" in run.out and "dry run" in run.out
    assert path.read_bytes() == before
    assert not (workspace.root / "chapters").exists()


@pytest.fixture
def drafted(workspace):
    path = slide_webinar(workspace, extra="keywords: [a, b]\n")
    before = path.read_text(encoding="utf-8")
    run = run_cli(workspace.root, "chapters", "webinaari/01")
    assert run.code == 0, run.err
    return workspace, path, before


def test_the_draft_chapters_start_within_two_seconds_of_each_slide_with_one_picture_each(drafted):
    workspace, path, before = drafted
    _, catalog = load(workspace.root)
    episode = catalog.find_episode("webinaari/01")
    starts = [c.start for c in episode.chapters]
    assert starts[0] == 0.0 and len(starts) == len(SLIDE_CHANGES) + 1
    for found, known in zip(starts[1:], SLIDE_CHANGES):
        assert abs(found - known) <= 2.0, starts
    images = [c.image for c in episode.chapters]
    assert len(set(images)) == len(images)
    for image in images:
        stream = ffprobe(image)["streams"][0]
        assert stream["codec_name"] == "mjpeg" and (stream["width"], stream["height"]) == (640, 360)
    # the draft is added to the front matter and every other byte is kept
    text = path.read_text(encoding="utf-8")
    assert DRAFT_MARK in text
    assert text.replace(text[text.index(DRAFT_MARK) - 1:text.index("\n---\n", text.index(DRAFT_MARK))], "") == before


def test_a_second_run_replaces_its_own_draft_and_never_chapters_the_producer_wrote(drafted):
    workspace, path, _ = drafted
    first = path.read_bytes()
    assert run_cli(workspace.root, "chapters", "webinaari/01").code == 0
    assert path.read_bytes() == first  # the same draft again, not a second block
    kept = path.read_text(encoding="utf-8").replace(DRAFT_MARK + "\n", "").replace("title: Dia 2", "title: Ohjelma")
    path.write_text(kept, encoding="utf-8")
    run = run_cli(workspace.root, "chapters", "webinaari/01")
    assert run.code == 1
    assert run.err.strip().count("\n") == 0 and "01.md" in run.err and "chapters" in run.err, run.err
    assert "Traceback" not in run.err
    assert path.read_text(encoding="utf-8") == kept


def test_an_audio_episode_is_refused_in_one_line_naming_its_recording(workspace):
    workspace.show("testi")
    path = workspace.episode("01")
    before = path.read_bytes()
    run = run_cli(workspace.root, "chapters", "testi/01")
    assert run.code == 1 and "01.wav" in run.err and "no video stream" in run.err, run.err
    assert run.err.strip().count("\n") == 0
    assert path.read_bytes() == before


def test_the_slide_pictures_are_in_the_json_chapters_and_on_the_page_and_not_the_square_image(drafted):
    workspace, _, _ = drafted
    run = run_cli(workspace.root, "publish", "--all")
    assert run.code == 0, run.err
    public = workspace.root / "public" / "webinaari"
    document = json.loads((public / "01.chapters.json").read_text(encoding="utf-8"))
    pictures = [c.get("img") for c in document["chapters"]]
    assert len(pictures) == len(SLIDE_CHANGES) + 1 and all(pictures) and len(set(pictures)) == len(pictures)
    for url in pictures:
        name = url.rsplit("/", 1)[-1]
        assert (public / name).read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG, published beside the episode
    page = html.fromstring((public / "01" / "index.html").read_bytes())
    shown = [img.get("src") for img in page.xpath("//ol[@class='chapters']//img")]
    assert shown == pictures
    assert all(img.get("alt") == "" for img in page.xpath("//ol[@class='chapters']//img"))  # the title beside says it
    feed = etree.fromstring((public / "feed.xml").read_bytes())
    item_images = [e.get("href") for e in feed.iterfind(f".//item/{{{ITUNES}}}image")]
    assert not set(item_images) & set(pictures)
