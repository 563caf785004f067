"""A problem stays where it is: one bad episode file, text field or recording is reported for itself
in one line naming file, field and reason, and every other episode, show and due release goes ahead
(exit 1 at the end, naming only the bad ones). Through the command line, as cron runs it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import feedparser

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.publishing import manifest
from media_pipeline.publishing.publish import publish_show
from media_pipeline.publishing.run import ShowRun, scratch
from media_pipeline.storage import open_storage

from check_support import SHOW, SHOW_TOML, make_workspace, write_episode
from publish_support import run_cli

OTHER = "toinen"
BELL = f"episodes/{SHOW}/003-kello.md: title: holds "  # the loader's wording or the feed rule's
DRAFT = f"episodes/{SHOW}/004.md: title: must not be empty"


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def titles(root, show: str = SHOW) -> dict[str, str]:
    parsed = feedparser.parse((root / "public" / show / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return {entry.title: entry.id for entry in parsed.entries}


def workspace_with_bad_episodes(tmp_path):
    """Two shows: beside healthy episodes (001 due, 002 staged until March) a title with a bell
    character pasted in (003), the draft `new` leaves (004), and a second show with one episode."""
    root = make_workspace(tmp_path)
    (root / "feeds" / f"{OTHER}.toml").write_text(SHOW_TOML.format(email="toinen@example.fi", extra=""),
                                                  encoding="utf-8")
    write_episode(root, "01", {"title": "Toisen ohjelman jakso", "publish_at": "2026-02-03T09:00:00+02:00"},
                  show=OTHER)
    write_episode(root, "003-kello", {"title": "bell \u0007 char", "number": 3, "season": 1,
                                      "publish_at": "2026-02-04T09:00:00+02:00"},
                  notes="Muistiinpanot \u001b[1mWordistä\u001b[0m.\n")
    made = run_cli(root, "new", SHOW)
    assert made.code == 0, made.err
    assert (root / "episodes" / SHOW / "004.md").is_file()
    return root


def test_check_names_each_bad_episode_with_its_file_and_field(tmp_path):
    root = workspace_with_bad_episodes(tmp_path)
    result = run_cli(root, "check")
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if not line.startswith("warning:")]
    assert any(line.startswith(BELL) and "control character" in line for line in lines), lines
    assert any(line.startswith(f"episodes/{SHOW}/003-kello.md: notes: holds ") and "control character" in line
               for line in lines), lines
    assert DRAFT in lines
    assert not any("001-" in line or "002-" in line or f"{OTHER}/" in line for line in lines), lines


def test_publish_all_and_release_due_go_ahead_past_bad_episodes_and_name_only_them(tmp_path):
    root = workspace_with_bad_episodes(tmp_path)
    result = run_cli(root, "publish", "--all", "--now", "2026-02-10T12:00", "--no-notify")
    assert result.code == 1
    assert "unexpected" not in result.err
    assert result.lines == [
        f"{SHOW}/001-ihmiskeskeisyys: live, 5 file(s) uploaded",
        f"{SHOW}/002-elamantapahtumat: staged until 2026-03-03T09:00:00+02:00, 6 file(s) uploaded",
        f"{OTHER}/01: live, 5 file(s) uploaded",
        f"feed: https://media.example.fi/{SHOW}/feed.xml",
        f"feed: https://media.example.fi/{OTHER}/feed.xml",
    ]
    failed = errors(result.err)
    assert len(failed) == 4, failed  # 004's title and source, 003's title and notes: nothing else
    assert all(f"episodes/{SHOW}/003-kello.md:" in line or f"episodes/{SHOW}/004.md:" in line for line in failed)
    assert f"error: {DRAFT}" in failed
    assert list(titles(root)) == ["Jakso 1: mitä ihmiskeskeisyys on"]
    assert list(titles(root, OTHER)) == ["Toisen ohjelman jakso"]

    # The one bad episode named alone is refused alone; the good one beside it goes ahead.
    result = run_cli(root, "publish", f"{SHOW}/003-kello", f"{OTHER}/01", "--now", "2026-02-10T12:00",
                     "--no-notify")
    assert result.code == 1 and result.lines[0] == f"{OTHER}/01: live, 0 file(s) uploaded"
    assert all("003-kello.md" in line for line in errors(result.err))

    # The unfinished draft does not hold back a due release: it is released, and only the bad are named.
    result = run_cli(root, "release-due", "--now", "2026-03-04T12:00", "--no-notify")
    assert result.lines == [f"released {SHOW}/002-elamantapahtumat (due 2026-03-03T09:00:00+02:00)"]
    assert result.code == 1 and f"error: {DRAFT}" in errors(result.err)
    assert all(f"episodes/{SHOW}/003-kello.md:" in line or f"episodes/{SHOW}/004.md:" in line
               for line in errors(result.err))
    assert list(titles(root)) == ["Jakso 2: elämäntapahtumat", "Jakso 1: mitä ihmiskeskeisyys on"]


def test_a_live_episode_whose_file_breaks_stays_in_the_feed_as_published(tmp_path):
    root = workspace_with_bad_episodes(tmp_path)
    for name in ("003-kello", "004"):
        (root / "episodes" / SHOW / f"{name}.md").unlink()
    assert run_cli(root, "publish", "--all", "--now", "2026-02-10T12:00", "--no-notify").code == 0
    before = titles(root)
    # The producer starts an edit of the live 001 and leaves its title on two lines.
    path = root / "episodes" / SHOW / "001-ihmiskeskeisyys.md"
    text = path.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    path.write_text(text.replace(title, 'title: "Jakso\\n1"'), encoding="utf-8")
    assert f"episodes/{SHOW}/001-ihmiskeskeisyys.md: title: must be one line" in run_cli(root, "check").out
    result = run_cli(root, "publish", "--show", SHOW, "--now", "2026-03-04T12:00", "--no-notify")
    assert result.code == 1
    assert [line.split(": ", 2)[1] for line in errors(result.err)] == [f"episodes/{SHOW}/001-ihmiskeskeisyys.md"]
    assert result.lines[0].startswith(f"{SHOW}/002-elamantapahtumat: live, "), "released by this publish"
    after = titles(root)
    assert after["Jakso 1: mitä ihmiskeskeisyys on"] == before["Jakso 1: mitä ihmiskeskeisyys on"], \
        "kept as it was published, never dropped from subscribers' apps"
    assert set(after) == {"Jakso 1: mitä ihmiskeskeisyys on", "Jakso 2: elämäntapahtumat"}


def test_a_record_the_feed_cannot_hold_fails_its_episode_and_the_feed_keeps_the_last_good_one(tmp_path):
    """The render is guarded too: an episode that reached the feed stage with a control character
    (here handed past the gate, as a library caller could) fails alone, and its live entry keeps
    the title it was published with."""
    root = make_workspace(tmp_path)
    assert run_cli(root, "publish", "--show", SHOW, "--now", "2026-03-10T12:00", "--no-notify").code == 0
    ws = load_workspace(root)
    catalog, _ = load_catalog(ws)
    storage = open_storage(ws.storage_url, ws.root)
    first, second = catalog.episodes[SHOW]
    bad = dataclasses.replace(first, title="bell \u0007 char")
    edited = dataclasses.replace(second, title="Jakso 2, uusi nimi")
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    with scratch(ws.build_dir) as work:
        run = ShowRun(ws, storage, catalog, catalog.shows[SHOW], manifest.read(storage, SHOW), now, work / SHOW)
        result = publish_show(run, [bad, edited])
    assert [key for key, _ in result.failures] == [f"{SHOW}/001-ihmiskeskeisyys"]
    [(_, failure)] = result.failures
    assert str(failure).startswith(f"episodes/{SHOW}/001-ihmiskeskeisyys.md: title: holds the control character U+0007")
    assert set(titles(root)) == {"Jakso 1: mitä ihmiskeskeisyys on", "Jakso 2, uusi nimi"}


def test_dry_run_says_would_go_live_only_for_what_would_change(tmp_path):
    root = make_workspace(tmp_path)
    assert run_cli(root, "publish", "--show", SHOW, "--now", "2026-03-10T12:00", "--no-notify").code == 0
    result = run_cli(root, "publish", "--show", SHOW, "--now", "2026-03-10T12:00", "--no-notify", "--dry-run")
    assert result.code == 0, result.err
    assert result.lines == [f"{SHOW}/001-ihmiskeskeisyys: live, unchanged",
                            f"{SHOW}/002-elamantapahtumat: live, unchanged"]
    path = root / "episodes" / SHOW / "002-elamantapahtumat.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Jakson muistiinpanot.", "Uudet muistiinpanot."),
                    encoding="utf-8")
    result = run_cli(root, "publish", "--show", SHOW, "--now", "2026-03-10T12:00", "--no-notify", "--dry-run")
    assert result.lines == [f"{SHOW}/001-ihmiskeskeisyys: live, unchanged",
                            f"{SHOW}/002-elamantapahtumat: would go live"]
    (root / "media" / "puhe.srt").write_text((root / "media" / "puhe.srt").read_text().replace("Kiitos", "Kiitokset"))
    result = run_cli(root, "publish", "--show", SHOW, "--now", "2026-03-10T12:00", "--no-notify", "--dry-run")
    assert result.lines[0] == f"{SHOW}/001-ihmiskeskeisyys: would go live", "its transcript changed"
