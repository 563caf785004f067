"""`media-pipeline new`: the scaffold is numbered after its siblings, names every key, loads once
filled in, and never overwrites."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from media_pipeline.cli import cli
from media_pipeline.config.load import load_episode, load_workspace
from media_pipeline.config.scaffold import PLACEHOLDER_MARK, new_episode, next_episode
from media_pipeline.errors import ConfigError, Problem

from config_support import copy_workspace, front_matter, write_episode

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def ws(tmp_path: Path):
    return load_workspace(copy_workspace(tmp_path / "ws"), environ={})


def fill_in(path: Path, *, title: str | None, source: str) -> None:
    text = path.read_text(encoding="utf-8")
    if title is not None:
        text = text.replace('title: ""', f'title: "{title}"', 1)
    path.write_text(text.replace('source: ""', f"source: {source}", 1), encoding="utf-8")


def uncomment_keys(path: Path) -> None:
    """Turn every commented-out key on, as a producer would, except guid (publish assigns it)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key = re.match(r"^# [a-z_]+:", line) and not line.startswith("# guid:")
        lines.append(line[2:] if key or line.startswith("#   ") else line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_next_episode_follows_the_highest_number_and_padding(ws):
    assert next_episode(ws, "ihmiskeskeisyys") == ("004", 4, 1)
    assert next_episode(ws, "tekoalywebinaarit") == ("03", 3, 1)
    write_episode(ws.root, "tekoalywebinaarit", "erikoisjakso", "number: 11\nseason: 2")
    assert next_episode(ws, "tekoalywebinaarit") == ("12", 12, 2)
    (ws.episodes_dir / "uusi").mkdir()
    assert next_episode(ws, "uusi") == ("001", 1, None)


def test_scaffold_loads_cleanly_once_title_and_source_are_filled_in(ws):
    path = new_episode(ws, "ihmiskeskeisyys", now=NOW)
    assert path == ws.episodes_dir / "ihmiskeskeisyys" / "004.md"
    problems: list[Problem] = []
    load_episode(ws, "ihmiskeskeisyys", path, problems)
    assert [str(p) for p in problems] == [
        "episodes/ihmiskeskeisyys/004.md: title: must not be empty",
        "episodes/ihmiskeskeisyys/004.md: source: must not be empty",
    ]
    fill_in(path, title="Ihmiskeskeinen tekoäly kunnissa", source="media/ihmiskeskeisyys/001.wav")
    episode = load_episode(ws, "ihmiskeskeisyys", path)
    assert episode.title == "Ihmiskeskeinen tekoäly kunnissa"
    assert (episode.number, episode.season, episode.episode_type) == (4, 1, "full")
    # tomorrow at 09:00 in the workspace zone (Helsinki, winter time)
    assert episode.publish_at.isoformat() == "2026-11-30T09:00:00+02:00"
    assert episode.notes.startswith(PLACEHOLDER_MARK)  # marked so that check refuses it unedited
    assert episode.notes.removeprefix(PLACEHOLDER_MARK).lstrip().startswith("Kirjoita tähän")  # the show is in fi


def test_every_optional_key_of_the_scaffold_loads_when_turned_on(ws):
    path = new_episode(ws, "ihmiskeskeisyys", title="Kaikki avaimet", now=NOW)
    fill_in(path, title=None, source="media/ihmiskeskeisyys/001.wav")
    for name in ("transcripts/ihmiskeskeisyys/004.vtt", "transcripts/ihmiskeskeisyys/004.kuvailu.vtt",
                 "artwork/ihmiskeskeisyys-004.jpg", "artwork/ihmiskeskeisyys-004-poster.jpg",
                 "artwork/chapter.jpg", "transcripts/ihmiskeskeisyys/004.html"):
        (ws.root / name).touch()
    uncomment_keys(path)
    episode = load_episode(ws, "ihmiskeskeisyys", path)
    assert episode.explicit is False and episode.summary
    assert [p.role for p in episode.persons] == ["host", "guest"]
    assert episode.persons[0].name == "Aino Lehtonen"  # the show's host, prefilled
    assert [c.start for c in episode.chapters] == [0.0, 330.0] and episode.chapters[1].end == 1260.0
    assert episode.transcript.name == "004.vtt" and episode.artwork.name == "ihmiskeskeisyys-004.jpg"
    assert episode.keywords == ("keyword", "another keyword")
    keys = set(front_matter(path))
    assert keys == {"title", "source", "publish_at", "number", "season", "episode_type", "explicit", "summary",
                    "persons", "chapters", "transcript", "artwork", "poster", "keywords", "accept_damaged_source",
                    "descriptions", "slides_described_aloud", "order", "soundbites", "text_transcript", "location",
                    "alternates"}


def test_the_title_is_quoted_whatever_it_holds(ws):
    title = 'Kysymys: "mitä" # ei kommentti'
    path = new_episode(ws, "tekoalywebinaarit", title=title, now=NOW)
    assert path.name == "03.md"
    assert front_matter(path)["title"] == title


def test_an_existing_file_is_never_overwritten(ws):
    before = (ws.episodes_dir / "ihmiskeskeisyys" / "003.md").read_bytes()
    with pytest.raises(ConfigError, match="episodes/ihmiskeskeisyys/003.md: already exists"):
        new_episode(ws, "ihmiskeskeisyys", slug="003")
    assert (ws.episodes_dir / "ihmiskeskeisyys" / "003.md").read_bytes() == before
    assert sorted(p.name for p in (ws.episodes_dir / "ihmiskeskeisyys").iterdir()) == ["001.md", "002.md", "003.md"]


@pytest.mark.parametrize("slug", ["Jakso 4", "../004", "004.md", "jäsen"])
def test_a_slug_must_be_safe_for_file_names_and_urls(ws, slug):
    with pytest.raises(ConfigError, match="slug: the slug names"):
        new_episode(ws, "ihmiskeskeisyys", slug=slug)


def test_cli_prints_the_path_and_refuses_to_overwrite(ws, monkeypatch):
    monkeypatch.chdir(ws.root)
    runner = CliRunner()
    result = runner.invoke(cli, ["new", "tekoalywebinaarit", "--title", "Kolmas webinaari"])
    assert result.exit_code == 0, result.output
    assert result.output == "episodes/tekoalywebinaarit/03.md\n"
    assert front_matter(ws.root / "episodes/tekoalywebinaarit/03.md")["title"] == "Kolmas webinaari"
    result = runner.invoke(cli, ["new", "tekoalywebinaarit", "--slug", "03"])
    assert result.exit_code != 0 and isinstance(result.exception, ConfigError)
    result = runner.invoke(cli, ["new", "uutiset"])
    assert "no such show (known shows: ihmiskeskeisyys, tekoalywebinaarit)" in str(result.exception)


def test_help_ends_with_an_example():
    result = CliRunner().invoke(cli, ["new", "--help"])
    assert result.exit_code == 0
    description = result.output.split("Options:")[0].rstrip()
    assert re.search(r"Example:\n\s+media-pipeline new ihmiskeskeisyys .+\n\s+media-pipeline check .+$", description)
