"""Loading the workspace, show and episode files: the demo loads cleanly, and every problem is
reported with its file, key and reason."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from media_pipeline.config.frontmatter import record_guid
from media_pipeline.config.load import load_catalog, load_episode, load_show, load_workspace
from media_pipeline.config.times import localize
from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.feeds.lint import APPLE_CATEGORIES, lint

from config_support import copy_workspace, write_episode

UTC = dt.timezone.utc
HELSINKI = ZoneInfo("Europe/Helsinki")
TODAY = dt.datetime(2026, 11, 29, tzinfo=UTC)


@pytest.fixture
def ws_root(tmp_path: Path) -> Path:
    return copy_workspace(tmp_path / "ws")


@pytest.fixture
def ws(ws_root: Path):
    return load_workspace(ws_root, environ={})


def problem_lines(problems: list[Problem]) -> set[str]:
    return {str(p) for p in problems}


# -- the demo workspace ------------------------------------------------------------------------


def test_demo_workspace_and_shows_load_without_problems(ws):
    assert (ws.storage_url, ws.public_url, ws.timezone) == ("file://./public", "http://127.0.0.1:8000",
                                                           "Europe/Helsinki")
    catalog, problems = load_catalog(ws)
    assert problems == []
    assert set(catalog.shows) == {"ihmiskeskeisyys", "tekoalywebinaarit"}
    assert [e.slug for e in catalog.episodes["ihmiskeskeisyys"]] == ["001", "002", "003"]
    assert [e.slug for e in catalog.episodes["tekoalywebinaarit"]] == ["01", "02"]

    podcast, webinars = catalog.shows["ihmiskeskeisyys"], catalog.shows["tekoalywebinaarit"]
    assert podcast.title == "Näkökulmia ihmiskeskeisyyteen"
    assert webinars.title == "Tekoälywebinaarisarja"
    for show in (podcast, webinars):
        assert show.language == "fi" and show.explicit is False and show.transcripts_required
        assert show.owner.email.endswith("@example.fi")
        assert show.link == ""  # the feed links to the show's page on the listener site
        assert show.apple_podcasts_url.startswith("https://podcasts.apple.com/") and show.directory_urls
        assert show.license == "CC-BY-4.0" and show.license_url
        assert show.funding_url and show.funding_text
        assert "AuroraAI" in show.description and "#osaaminen" in show.description
        assert show.artwork.is_file()
        assert all(c.name in APPLE_CATEGORIES for c in show.categories)
    assert (podcast.audio.channels, podcast.audio.target_lufs) == (1, -19.0)
    assert (webinars.audio.channels, webinars.audio.target_lufs) == (2, -16.0)
    assert webinars.show_type == "serial" and webinars.medium == "video"


def test_demo_episodes_are_complete_and_in_the_past(ws):
    catalog, problems = load_catalog(ws)
    assert problems == []
    for episodes in catalog.episodes.values():
        numbers = [e.number for e in episodes]
        assert numbers == list(range(1, len(episodes) + 1))
        for e in episodes:
            assert e.publish_at.tzinfo is not None
            assert dt.datetime(2026, 1, 1, tzinfo=UTC) <= e.publish_at < TODAY
            assert uuid.UUID(e.guid).version == 4  # as assigned at first publish: the demo writes no file
            assert e.source.relative_to(ws.root).parts[0] == "media"
            assert e.summary and e.keywords and e.notes.count("## ") >= 2 and "https://example.fi/" in e.notes
            assert e.explicit is False and e.season == 1 and e.episode_type == "full"
            assert {p.role for p in e.persons} == {"host", "guest"}
            assert {p.group for p in e.persons} == {"cast"}
            assert e.chapters[0].start == 0 and len(e.chapters) >= 3
            assert e.transcript is not None and e.transcript.suffix in (".srt", ".vtt")
    suffixes = {e.transcript.suffix for eps in catalog.episodes.values() for e in eps}
    assert suffixes == {".srt", ".vtt"}


# -- problems in episode files -----------------------------------------------------------------


def test_every_problem_of_an_episode_is_reported_with_file_key_and_reason(ws):
    write_episode(ws.root, "ihmiskeskeisyys", "009", """
number: kolme
publish_at: ensi tiistaina
source: media/ihmiskeskeisyys/001.wav
episode_type: special
explicit: "no"
keywords: tekoäly
chapters:
  - start: "00:00:10"
    title: Ei alussa
  - start: 5
    title: Väärässä järjestyksessä
  - start: puoli tuntia
    title: Huono aika
subtitle: Tätä avainta ei ole
""")
    _, problems = load_catalog(ws)
    f = "episodes/ihmiskeskeisyys/009.md"
    assert problem_lines(problems) == {
        f"{f}: title: is required",
        f"{f}: number: must be a whole number, not text",
        f"{f}: publish_at: cannot read 'ensi tiistaina' as a date and time; write it like 2026-03-05T09:00:00+02:00",
        f"{f}: episode_type: must be one of full, trailer, bonus, not 'special'",
        f"{f}: explicit: must be true or false, not text",
        f"{f}: keywords: must be a list of text",
        f"{f}: chapters[2].start: must be a time like 00:12:30 or 750.5 seconds, not 'puoli tuntia'",
        f"{f}: subtitle: unknown key",
        f"{f}: chapters: must be in order of start time",
        f"{f}: chapters: the first chapter must start at 00:00:00 (players and the JSON chapters spec expect it)",
    }


def test_load_episode_raises_all_problems_together(ws):
    path = write_episode(ws.root, "ihmiskeskeisyys", "009", "title: 5\nsource: media/puuttuu.wav\n")
    with pytest.raises(ValidationError) as raised:
        load_episode(ws, "ihmiskeskeisyys", path)
    f = "episodes/ihmiskeskeisyys/009.md"
    assert str(raised.value).splitlines() == [
        f"{f}: title: must be text, not a number",
        f"{f}: publish_at: is required",
        f"{f}: source: file not found: media/puuttuu.wav",
    ]


@pytest.mark.parametrize("written", ["2026-02-30 10:00:00", "2026-02-30T10:00:00+02:00", "2026-13-01", "'2026-02-30'"])
def test_an_impossible_date_is_a_problem_not_a_crash(ws, written):
    # PyYAML itself raised ValueError on these before the loader read dates as text
    path = write_episode(ws.root, "ihmiskeskeisyys", "009",
                         f"title: T\nsource: media/ihmiskeskeisyys/001.wav\npublish_at: {written}\n")
    problems: list[Problem] = []
    assert load_episode(ws, "ihmiskeskeisyys", path, problems) is None
    assert [(p.path, p.field) for p in problems] == [("episodes/ihmiskeskeisyys/009.md", "publish_at")]
    assert "cannot read" in problems[0].reason


@pytest.mark.parametrize("front, field, reason", [
    ("transcript: transcripts/ihmiskeskeisyys/001.srt\nchapters: 3", "chapters", "must be a list, not a number"),
    ("chapters:\n  - start: '00:00:00'\n    end: '00:00:00'\n    title: A", "chapters[0].end", "must be after start"),
    ("persons:\n  - role: guest", "persons[0].name", "is required"),
    ("persons:\n  - name: A\n    rooli: guest", "persons[0].rooli", "unknown key"),
    ("number: -1", "number", "must be at least 0, not -1"),
    ("season: 1.5", "season", "must be a whole number, not a number"),
    ("transcript: https://example.fi/t.vtt", "transcript", "must be a file path in the workspace; URLs are not supported"),
    ("transcript: artwork/ihmiskeskeisyys.jpg", "transcript", "must be a WebVTT (.vtt) or SubRip (.srt) file"),
])
def test_wrong_values_in_episode_keys(ws, front, field, reason):
    path = write_episode(ws.root, "ihmiskeskeisyys", "009",
                         f"title: T\nsource: media/ihmiskeskeisyys/001.wav\npublish_at: 2026-03-05T09:00:00+02:00\n{front}\n")
    problems: list[Problem] = []
    load_episode(ws, "ihmiskeskeisyys", path, problems)
    assert [str(p) for p in problems] == [f"episodes/ihmiskeskeisyys/009.md: {field}: {reason}"]


def test_front_matter_that_is_not_keys_is_one_problem(ws):
    path = write_episode(ws.root, "ihmiskeskeisyys", "009", "- title: T\n- source: x")
    problems: list[Problem] = []
    assert load_episode(ws, "ihmiskeskeisyys", path, problems) is None
    assert [str(p) for p in problems] == ["episodes/ihmiskeskeisyys/009.md: front matter must be keys and values, not a list"]


def test_an_episode_without_a_required_transcript_is_loaded_and_left_to_lint(ws):
    # Loading never drops an episode (that could drop it from a feed); the feed rules in lint.py
    # report the missing transcript, and check/publish stop on it.
    write_episode(ws.root, "tekoalywebinaarit", "03",
                  "title: T\nsource: media/tekoalywebinaarit/01.mp4\npublish_at: 2026-11-01T14:00:00+02:00\n")
    catalog, problems = load_catalog(ws)
    assert problems == []
    assert [e.slug for e in catalog.episodes["tekoalywebinaarit"]] == ["01", "02", "03"]
    assert any(p.path == "episodes/tekoalywebinaarit/03.md" and p.field == "transcript" and p.severity == "error"
               for p in lint(ws, catalog))


# -- publish times -----------------------------------------------------------------------------


@pytest.mark.parametrize("written, utc", [
    ("2026-03-05T09:00:00+02:00", "2026-03-05T07:00:00"),
    ("2026-03-05T07:00:00Z", "2026-03-05T07:00:00"),
    ("2026-03-05 09:00", "2026-03-05T07:00:00"),  # winter: EET, UTC+2
    ("2026-06-05 09:00:00", "2026-06-05T06:00:00"),  # summer: EEST, UTC+3
    ("2026-03-05", "2026-03-04T22:00:00"),  # a date alone: midnight in the workspace zone
    ("2026-03-29 03:30", "2026-03-29T01:30:00"),  # spring gap: 03:30 never happens; 04:30 EEST
    ("2026-10-25 03:30", "2026-10-25T00:30:00"),  # autumn overlap: the first 03:30, still EEST
    ("2026-10-25 04:30", "2026-10-25T02:30:00"),  # after the overlap: EET
])
def test_publish_time_without_offset_is_read_in_the_workspace_zone(ws, written, utc):
    path = write_episode(ws.root, "ihmiskeskeisyys", "009",
                         f"title: T\nsource: media/ihmiskeskeisyys/001.wav\npublish_at: {written}\n")
    episode = load_episode(ws, "ihmiskeskeisyys", path)
    assert episode.publish_at.tzinfo is not None
    assert episode.publish_at.astimezone(UTC).replace(tzinfo=None).isoformat() == utc


def test_the_workspace_zone_comes_from_the_environment_too(ws_root):
    ws = load_workspace(ws_root, environ={"MEDIA_PIPELINE_TIMEZONE": "America/New_York"})
    path = write_episode(ws_root, "ihmiskeskeisyys", "009",
                         "title: T\nsource: media/ihmiskeskeisyys/001.wav\npublish_at: 2026-07-01 09:00\n")
    assert load_episode(ws, "ihmiskeskeisyys", path).publish_at.astimezone(UTC) == dt.datetime(2026, 7, 1, 13, tzinfo=UTC)


def test_localize_across_daylight_saving_changes():
    gap = localize(dt.datetime(2026, 3, 29, 3, 30), HELSINKI)
    assert (gap.hour, gap.minute, gap.utcoffset()) == (4, 30, dt.timedelta(hours=3))
    assert gap.astimezone(UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    overlap = localize(dt.datetime(2026, 10, 25, 3, 30), HELSINKI)
    assert overlap.utcoffset() == dt.timedelta(hours=3)
    assert overlap.astimezone(UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    aware = dt.datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert localize(aware, HELSINKI) is aware


# -- problems in show files --------------------------------------------------------------------


def test_every_problem_of_a_show_is_reported_with_file_key_and_reason(ws):
    path = ws.feeds_dir / "ihmiskeskeisyys.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('email = "podcast@example.fi"', "")
    text = text.replace('explicit = false', 'explicit = "ei"')
    text = text.replace('categories = ["Government", "Technology", "Education"]',
                        'categories = ["Goverment", "Education > Kurssit", "Technology > AI"]')
    text = text.replace('type = "episodic"', 'type = "sarja"\nkieli = "fi"')
    text = text.replace('medium = "podcast"', 'medium = "radio"')
    text = text.replace("channels = 1", "channels = 6")
    text = text.replace("bitrate = 96", "bitrate = 96.0")
    text = text.replace('url = "https://example.fi/auroraai/osaaminen"', "")
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    load_show(ws, "ihmiskeskeisyys", problems)
    f = "feeds/ihmiskeskeisyys.toml"
    assert problem_lines(problems) == {
        f"{f}: owner.email: is required",
        f"{f}: explicit: must be true or false, not text",
        f"{f}: type: must be one of episodic, serial, not 'sarja'",
        f"{f}: kieli: unknown key",
        f"{f}: audio.channels: must be 1 (mono) or 2 (stereo), not 6",
        f"{f}: audio.bitrate: must be a whole number, not a number",
    }  # categories, medium and funding are feed rules: lint.py reports them (tests/test_lint.py)
    with pytest.raises(ValidationError) as raised:
        load_show(ws, "ihmiskeskeisyys")
    assert len(str(raised.value).splitlines()) == len(problems)


def test_a_show_file_that_is_not_toml_is_one_problem(ws):
    (ws.feeds_dir / "rikki.toml").write_text('title = "Avoin lainaus\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_show(ws, "rikki", [])
    assert str(raised.value).startswith("feeds/rikki.toml: not valid TOML: ")
    _, problems = load_catalog(ws)
    assert [p.path for p in problems] == ["feeds/rikki.toml"]


def test_an_unknown_show_names_the_known_ones(ws):
    with pytest.raises(ConfigError, match=r"no such show \(known shows: ihmiskeskeisyys, tekoalywebinaarit\)"):
        load_show(ws, "uutiset")


# -- the workspace file ------------------------------------------------------------------------


def test_environment_overrides_the_workspace_file_without_making_its_keys_unknown(ws_root):
    ws = load_workspace(ws_root, environ={"MEDIA_PIPELINE_STORAGE": "s3://bucket/prefix",
                                          "MEDIA_PIPELINE_PUBLIC_URL": "https://cdn.example.fi/x/",
                                          "MEDIA_PIPELINE_TIMEZONE": "UTC"})
    assert (ws.storage_url, ws.public_url, ws.timezone) == ("s3://bucket/prefix", "https://cdn.example.fi/x", "UTC")


def test_workspace_problems_are_reported_together(tmp_path):
    (tmp_path / "media-pipeline.toml").write_text('storage = 3\ntimezone = "Europe/Turku"\nbucket = "x"\n')
    with pytest.raises(ValidationError) as raised:
        load_workspace(tmp_path, environ={})
    f = tmp_path / "media-pipeline.toml"
    assert str(raised.value).splitlines() == [
        f"{f}: storage: must be text, not a number",
        f"{f}: bucket: unknown key",
        f"{f}: timezone: unknown time zone 'Europe/Turku'",
    ]


def test_workspace_is_found_from_a_subfolder(ws_root, monkeypatch):
    monkeypatch.chdir(ws_root / "episodes" / "ihmiskeskeisyys")
    assert load_workspace(environ={}).root == ws_root.resolve()


# -- writing back an assigned value ------------------------------------------------------------


def test_record_guid_adds_the_guid_once_and_keeps_the_rest(ws):
    path = ws.episodes_dir / "ihmiskeskeisyys" / "002.md"
    path.write_text(re.sub(r"^guid: .*\n", "", path.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    before = path.read_text(encoding="utf-8")  # an episode never published: no guid yet
    assert "guid" not in before
    assert record_guid(path, "a1b2c3d4-0000-4000-8000-000000000002") == "a1b2c3d4-0000-4000-8000-000000000002"
    after = path.read_text(encoding="utf-8")
    assert after.replace("\nguid: a1b2c3d4-0000-4000-8000-000000000002", "", 1) == before
    assert load_episode(ws, "ihmiskeskeisyys", path).guid == "a1b2c3d4-0000-4000-8000-000000000002"
    assert record_guid(path, "toinen") == "a1b2c3d4-0000-4000-8000-000000000002"  # never changes
    assert path.read_text(encoding="utf-8") == after
    assert sorted(p.name for p in path.parent.iterdir()) == ["001.md", "002.md", "003.md"]


def test_record_guid_fills_the_commented_line_of_a_scaffold(ws):
    from media_pipeline.config.scaffold import new_episode

    path = new_episode(ws, "ihmiskeskeisyys", title="T")
    record_guid(path, "g-1")
    text = path.read_text(encoding="utf-8")
    assert "guid: g-1" in text and "# guid:" not in text and text.count("guid") == 1


def test_max_loudness_range_is_off_by_default_and_refused_outside_3_to_20_lu(ws):
    path = ws.feeds_dir / "ihmiskeskeisyys.toml"
    assert load_show(ws, "ihmiskeskeisyys").audio.max_loudness_range is None
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("# max_loudness_range = 8.0", "max_loudness_range = 8"), encoding="utf-8")
    assert load_show(ws, "ihmiskeskeisyys").audio.max_loudness_range == 8.0
    path.write_text(text.replace("# max_loudness_range = 8.0", "max_loudness_range = 40"), encoding="utf-8")
    problems: list[Problem] = []
    load_show(ws, "ihmiskeskeisyys", problems)
    assert problem_lines(problems) == {
        "feeds/ihmiskeskeisyys.toml: audio.max_loudness_range: must be between 3 and 20 LU, not 40"}
