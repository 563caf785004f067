"""Podcasting 2.0 JSON chapters: valid by the spec's rules and in agreement with the ID3 chapters."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import eyed3
import jsonschema
import pytest

from media_pipeline.errors import ConfigError
from media_pipeline.model import Chapter
from media_pipeline.tags import chapters, tagging
from media_pipeline_demo import synth

from tagging_support import demo_episode, demo_show, make_image

# The rules of podcast-namespace chapters/jsonChapters.md (version 1.2), as a JSON Schema:
# required `version` (string) and `chapters` (array); each chapter requires `startTime` (a number of
# seconds); `title`, `img`, `url` are strings, `toc` a boolean, `endTime` a number, `location` an
# object with `name` and `geo`; optional episode-level `author`, `title`, `podcastName`,
# `description`, `fileName` strings and `waypoints` boolean.
SPEC_SCHEMA = {
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string", "pattern": r"^1\.2(\.\d+)?$"},
        "author": {"type": "string"}, "title": {"type": "string"}, "podcastName": {"type": "string"},
        "description": {"type": "string"}, "fileName": {"type": "string"}, "waypoints": {"type": "boolean"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime"],
                "additionalProperties": False,
                "properties": {
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "title": {"type": "string"},
                    "img": {"type": "string", "format": "uri", "pattern": "^https?://"},
                    "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                    "toc": {"type": "boolean"},
                    "id": {"type": "string"},
                    "location": {"type": "object", "required": ["name", "geo"]},
                },
            },
        },
    },
}


def validate(document: dict) -> None:
    """The schema, plus the spec's prose rules a schema cannot say."""
    jsonschema.validate(document, SPEC_SCHEMA, format_checker=jsonschema.FormatChecker())
    starts = [c["startTime"] for c in document["chapters"]]
    assert starts == sorted(starts), "chapter order is ascending startTime"
    for chapter in document["chapters"]:
        if "endTime" in chapter:
            assert chapter["endTime"] > chapter["startTime"]


@pytest.fixture
def episode(tmp_path):
    image = make_image(tmp_path / "kaavio.jpg", 600, noise=False)
    episode = demo_episode()
    return dataclasses.replace(episode, chapters=(
        episode.chapters[0], episode.chapters[1],
        Chapter(6.5, "Yhteenveto – äöå 🤖", image=image, url="https://example.fi/yhteenveto")))


def public_url(path: Path) -> str:
    return f"https://media.example.fi/ihmiskeskeisyys/{path.name}"


def test_json_chapters_follow_the_spec(episode):
    raw = chapters.chapters_json(episode, duration=10.0, image_url=public_url)
    document = json.loads(raw.decode("utf-8"))
    validate(document)
    assert document["version"] == "1.2.0"
    assert document["title"] == episode.title
    assert document["chapters"] == [
        {"startTime": 0, "endTime": 3.217, "title": "Alku"},
        {"startTime": 3.217, "endTime": 6.5, "title": "Elämäntapahtumat", "url": "https://example.fi/el"},
        {"startTime": 6.5, "endTime": 10, "title": "Yhteenveto – äöå 🤖",
         "img": "https://media.example.fi/ihmiskeskeisyys/kaavio.jpg", "url": "https://example.fi/yhteenveto"},
    ]
    assert "äöå 🤖" in raw.decode("utf-8"), "UTF-8 text, not \\u escapes"
    assert chapters.chapters_json(episode, duration=10.0, image_url=public_url) == raw, "deterministic"


def test_the_schema_rejects_what_the_spec_forbids():
    """The validator is not a rubber stamp: each broken document is refused."""
    good = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Alku"}]}
    validate(good)
    broken = [
        {"chapters": []},
        {"version": 1.2, "chapters": []},
        {"version": "1.2.0", "chapters": [{"title": "no start"}]},
        {"version": "1.2.0", "chapters": [{"startTime": "0", "title": "string time"}]},
        {"version": "1.2.0", "chapters": [{"startTime": 0, "image": "https://x/y.jpg"}]},
        {"version": "1.2.0", "chapters": [{"startTime": 0, "img": "kaavio.jpg"}]},
        {"version": "1.2.0", "chapters": [{"startTime": 5}, {"startTime": 1}]},
    ]
    for document in broken:
        with pytest.raises((jsonschema.ValidationError, AssertionError)):
            validate(document)


def test_without_image_urls_chapter_images_are_left_out(episode):
    document = json.loads(chapters.chapters_json(episode, duration=10.0))
    validate(document)
    assert all("img" not in c for c in document["chapters"])


def test_json_chapters_agree_with_the_id3_chapters(episode, tmp_path):
    """Must show 5: the JSON file and the MP3's CHAP frames (read by eyeD3) say the same thing."""
    mp3 = synth.speech(tmp_path / "003.mp3", 10.0)
    data = tagging.tag_data(demo_show(episode.chapters[2].image), episode, guid="g", feed_url="https://x/feed.xml",
                            episode_url=None, duration=10.0, cover=None)
    tagging.tag_file(mp3, data)
    document = json.loads(chapters.chapters_json(episode, duration=10.0, image_url=public_url))
    validate(document)

    tag = eyed3.load(mp3).tag
    toc = next(iter(tag.table_of_contents))
    id3_chapters = [tag.chapters.get(i) for i in toc.child_ids]
    assert len(id3_chapters) == len(document["chapters"]) == 3
    for frame, entry in zip(id3_chapters, document["chapters"]):
        start_ms, end_ms = frame.times
        assert start_ms == round(entry["startTime"] * 1000)
        assert end_ms == round(entry["endTime"] * 1000)
        assert frame.title == entry["title"]
        assert frame.user_url == entry.get("url")
        assert bool(frame.sub_frames.get(b"APIC")) == ("img" in entry)


def test_chapter_ends_come_from_the_next_start_or_the_duration():
    marks = chapters.marks([Chapter(0.0, "a"), Chapter(61.0004, "b", end=90.0), Chapter(120.5, "c")], 150.25)
    assert [(m.start_ms, m.end_ms) for m in marks] == [(0, 61000), (61000, 90000), (120500, 150250)]
    with pytest.raises(ConfigError, match=r"x\.md: chapters: chapter 2 \('b'\) starts at 00:02:30"):
        chapters.marks([Chapter(0.0, "a"), Chapter(150.0, "b")], 150.0, source="x.md")
