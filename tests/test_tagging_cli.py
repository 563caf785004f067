"""`media-pipeline tags FILE`: what a tagged file says, as text and as JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from media_pipeline.cli import cli
from media_pipeline.tags import tagging
from media_pipeline_demo import synth

from tagging_support import demo_episode, demo_show, make_image


@pytest.fixture
def tagged(tmp_path):
    mp3 = synth.speech(tmp_path / "003.mp3", 10.0)
    cover = make_image(tmp_path / "cover.jpg", 1400, noise=False)
    data = tagging.tag_data(demo_show(cover), demo_episode(), guid="urn:uuid:1234", feed_url="https://x.fi/feed.xml",
                            episode_url="https://x.fi/003", duration=10.0, cover=cover)
    tagging.tag_file(mp3, data)
    return mp3


def test_tags_json(tagged):
    result = CliRunner().invoke(cli, ["tags", "--json", str(tagged)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["format"] == "ID3v2.3"
    assert info["fields"]["title"] == "Palvelupolut ja elämäntapahtumat"
    assert info["fields"]["feed_url"] == "https://x.fi/feed.xml" and info["fields"]["podcast"] is True
    assert info["cover"] == {"mime": "image/jpeg", "width": 1400, "height": 1400,
                             "bytes": (tagged.parent / "cover.jpg").stat().st_size}
    assert [(c["start"], c["title"]) for c in info["chapters"]] == [
        (0.0, "Alku"), (3.217, "Elämäntapahtumat"), (6.5, "Yhteenveto ja kiitokset")]
    assert set(info["frames"].values()) == {1, 3} and info["frames"]["CHAP"] == 3


def test_tags_text(tagged):
    result = CliRunner().invoke(cli, ["tags", str(tagged)])
    assert result.exit_code == 0, result.output
    assert f"{tagged}: ID3v2.3" in result.output
    assert "album         Näkökulmia ihmiskeskeisyyteen" in result.output
    assert "cover         image/jpeg 1400x1400 px" in result.output
    assert "00:00:03.217–00:00:06.500  Elämäntapahtumat  (https://example.fi/el)" in result.output


def test_tags_of_an_unsupported_file_is_one_error_line(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("x")
    result = CliRunner().invoke(cli, ["tags", str(other)])
    assert result.exit_code != 0
    assert "cannot read tags of .txt" in str(result.exception)


def test_tags_help_ends_with_an_example():
    result = CliRunner().invoke(cli, ["tags", "--help"])
    assert result.exit_code == 0
    assert "Example:\n      media-pipeline tags public/" in result.output
