"""Apple Podcasts and Podcasting 2.0 rules on a real workspace on disk."""

from __future__ import annotations

import pytest

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.feeds.lint import APPLE_CATEGORIES, category_problem, lint

from check_support import SHOW, image, make_workspace, write_episode

SHOW_FILE = f"feeds/{SHOW}.toml"


def ep(slug: str) -> str:
    return f"episodes/{SHOW}/{slug}.md"


def run_lint(root, **kwargs):
    ws = load_workspace(root, environ={})
    catalog, problems = load_catalog(ws)
    assert problems == [], problems
    return lint(ws, catalog, **kwargs)


def lines(problems) -> list[str]:
    return [f"{p.severity}: {p}" for p in problems]


def find(problems, path: str, field: str | None, words: str, severity: str = "error"):
    hits = [p for p in problems if p.path == path and p.field == field and words in p.reason
            and p.severity == severity]
    assert hits, f"no {severity} {path}: {field}: ...{words}... in\n" + "\n".join(lines(problems))
    return hits[0]


@pytest.fixture(scope="module")
def clean_root(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("clean"))


def test_a_clean_workspace_has_no_problems(clean_root):
    assert run_lint(clean_root) == []
    assert run_lint(clean_root, durations={f"{SHOW}/001-ihmiskeskeisyys": 3.0,
                                           f"{SHOW}/002-elamantapahtumat": 3.0}) == []


def test_show_rules(tmp_path):
    root = make_workspace(tmp_path, email="", extra='medium = "radio"')
    show_file = root / SHOW_FILE
    text = show_file.read_text(encoding="utf-8")
    text = text.replace('categories = ["Government", "Education > Courses"]',
                        'categories = ["Tech", "Technology > Gadgets", "Courses"]')
    text = text.replace('description = "AuroraAI-ohjelman', 'description = "' + "Ä" * 1990 + ' AuroraAI-ohjelman')
    show_file.write_text(text, encoding="utf-8")
    image(root / "feeds" / f"{SHOW}.jpg", 1200, 1000)
    ws = load_workspace(root, environ={})
    catalog, loaded = load_catalog(ws)
    # the loader reports the empty email itself; lint adds Apple's reason
    assert [str(p) for p in loaded] == [f"{SHOW_FILE}: owner.email: must not be empty"]
    problems = lint(ws, catalog)
    find(problems, SHOW_FILE, "owner.email", "Apple Podcasts requires the owner's email")
    find(problems, SHOW_FILE, "categories", "'Tech' is not an Apple Podcasts category; did you mean 'Technology'?")
    find(problems, SHOW_FILE, "categories", "'Gadgets' is not a subcategory of 'Technology'")
    find(problems, SHOW_FILE, "categories", 'it is a subcategory, write "Education > Courses"')
    find(problems, SHOW_FILE, "description", "4067 bytes; Apple Podcasts allows at most 4000 bytes")
    find(problems, SHOW_FILE, "medium", "'radio' is not a Podcasting 2.0 medium")
    art = f"feeds/{SHOW}.jpg"  # artwork problems name the image file (artwork.check_artwork)
    find(problems, art, "artwork", "is 1200x1000 px; Apple Podcasts needs square artwork")
    find(problems, art, "artwork", "Apple Podcasts needs 1400 to 3000 px")


def test_episode_rules(tmp_path):
    root = make_workspace(tmp_path)
    write_episode(root, "003-tekoäly", {"title": "Jakso 3", "number": 2, "season": 1,
                                        "publish_at": "2026-04-01T09:00:00+03:00",
                                        "guid": "urn:uuid:11111111-2222-3333-4444-555555555555"})
    write_episode(root, "004 haastattelu", {"title": "Jakso 4", "number": 4, "season": 1, "transcript": None,
                                            "publish_at": "2026-05-01T09:00:00+03:00",
                                            "guid": "urn:uuid:11111111-2222-3333-4444-555555555555",
                                            "persons": [{"name": "Aino Lehtinen", "role": "guest"},
                                                        {"name": "Pekka", "role": "juontaja"}]},
                  notes="Katso <a href=\"javascript:alert(1)\" onclick=\"x()\">tästä</a>.\n")
    (root / "media" / "sekaisin.srt").write_text(
        "1\n00:00:02,000 --> 00:00:03,000\nB\n\n2\n00:00:00,500 --> 00:00:01,000\nA\n", encoding="utf-8")
    write_episode(root, "005-bonus", {"title": "Bonus", "number": 0, "episode_type": "bonus",
                                      "publish_at": "2026-05-02T09:00:00+03:00", "transcript": "media/sekaisin.srt",
                                      "chapters": [{"start": 0, "title": "Alku"},
                                                   {"start": 12, "title": "Liian myöhään"}]})
    write_episode(root, "006-traileri", {"title": "Traileri", "number": 1, "season": 1, "episode_type": "trailer",
                                         "publish_at": "2026-01-01T09:00:00+02:00"})
    problems = run_lint(root, durations={f"{SHOW}/005-bonus": 3.0})

    find(problems, ep("003-tekoäly"), "file name", "use only ASCII letters")
    find(problems, ep("004 haastattelu"), "file name", "no spaces")
    find(problems, ep("003-tekoäly"), "number", f"2 is also the number of {ep('002-elamantapahtumat')} in season 1")
    find(problems, ep("004 haastattelu"), "guid", f"also the guid of {ep('003-tekoäly')}")
    find(problems, ep("004 haastattelu"), "transcript", "has none", severity="warning")
    find(problems, ep("004 haastattelu"), "notes", "removed from the feed", severity="warning")
    find(problems, ep("004 haastattelu"), "persons", "lists no host", severity="warning")
    find(problems, ep("004 haastattelu"), "persons[1].role", "'juontaja' is not a role", severity="warning")
    find(problems, ep("005-bonus"), "number", "must be 1 or more, not 0")
    find(problems, ep("005-bonus"), "transcript: cue 2 (line 6)", "before the cue before it")
    find(problems, ep("005-bonus"), "chapters[1].start", "12 s is at or after the end of the episode (3 s)")
    # a trailer may share its number with the full episode it introduces
    assert not [p for p in problems if p.path == ep("006-traileri")]
    # without a published duration the recording's own length (3 s) is the limit
    find(run_lint(root), ep("005-bonus"), "chapters[1].start", "12 s is at or after the end of the episode (3 s)")
    # and without probing the sources nothing is guessed about chapter times
    assert not [p for p in run_lint(root, sources=False) if p.field == "chapters[1].start"]


def test_transcripts_required_makes_a_missing_transcript_an_error(tmp_path):
    root = make_workspace(tmp_path, extra="transcripts_required = true")
    write_episode(root, "003-ilman", {"title": "Jakso 3", "number": 3, "transcript": None,
                                      "publish_at": "2026-04-01T09:00:00+03:00"})
    problems = run_lint(root)
    assert lines(problems) == [f"error: {ep('003-ilman')}: transcript: has none; an audio episode's page needs "
                               "its full text beside the player (the show requires a transcript for every episode)"]


def test_serial_show_needs_episode_numbers(tmp_path):
    root = make_workspace(tmp_path, extra='type = "serial"')
    write_episode(root, "003-ilman-numeroa", {"title": "Jakso", "publish_at": "2026-04-01T09:00:00+03:00"})
    find(run_lint(root), ep("003-ilman-numeroa"), "number", "serial show")


def test_every_apple_category_and_subcategory_is_accepted():
    assert len(APPLE_CATEGORIES) == 19
    assert sum(len(s) for s in APPLE_CATEGORIES.values()) == 91
    for name, subs in APPLE_CATEGORIES.items():
        assert category_problem(name, None) is None
        for sub in subs:
            assert category_problem(name, sub) is None
    assert category_problem("Society & Culture", "History") is not None  # moved to its own category in 2019
