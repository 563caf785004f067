"""unpublish: out of the feed first, then the media; the guid stays retired (issue 5 must-show 6)."""

from __future__ import annotations

import feedparser
import requests

from publish_support import bucket_state, feed_guids, manifest_of, run_cli, stored_feed, use_s3

NOW = "2026-05-01T12:00:00+03:00"


def test_unpublish_leaves_a_feed_without_the_episode_and_its_media_unreachable(workspace, s3):
    public = use_s3(workspace, s3)
    workspace.show()
    workspace.episode("001", seconds=3)
    workspace.episode("002", seconds=3)
    assert run_cli(workspace.root, "publish", "--all", "--now", NOW).code == 0
    records = {r.slug: r for r in manifest_of(workspace.root).episodes.values()}
    url = f"{public}/testi/002.mp3"
    assert requests.get(url, timeout=10).status_code == 200

    run = run_cli(workspace.root, "unpublish", "testi/002", "--yes")
    assert run.code == 0, run.err
    assert run.lines == [f"testi/002: unpublished (1 file(s) deleted, guid {records['002'].guid} retired)"]
    assert feed_guids(workspace.root) == [records["001"].guid]
    assert b"002.mp3" not in stored_feed(workspace.root)
    assert requests.get(url, timeout=10).status_code in (403, 404)
    assert "podcasts/testi/002.mp3" not in bucket_state(s3)
    assert requests.get(f"{public}/testi/001.mp3", timeout=10).status_code == 200
    assert manifest_of(workspace.root).episodes[records["002"].guid].state == "unpublished"

    # taking it down twice changes nothing and still succeeds
    before = bucket_state(s3)
    assert run_cli(workspace.root, "unpublish", "testi/002", "--yes").code == 0
    assert bucket_state(s3) == before


def test_unpublishing_a_staged_episode_removes_the_staged_copy_and_it_is_never_released(workspace):
    workspace.show()
    workspace.episode("later", seconds=3, publish_at="2026-06-01T09:00:00+03:00")
    assert run_cli(workspace.root, "publish", "--all", "--now", NOW).code == 0
    staged = list((workspace.root / "public/_private/testi/staged").rglob("*.mp3"))
    assert len(staged) == 1

    assert run_cli(workspace.root, "unpublish", "testi/later", "--yes").code == 0
    assert not staged[0].exists()
    release = run_cli(workspace.root, "release-due", "--now", "2026-07-01T00:00:00+03:00")
    assert release.code == 0 and not [line for line in release.lines if line.startswith("released")]
    assert feedparser.parse(stored_feed(workspace.root)).entries == []


def test_unpublish_asks_first_without_yes(workspace):
    workspace.show()
    workspace.episode("001", seconds=3)
    assert run_cli(workspace.root, "publish", "--all", "--now", NOW).code == 0
    run = run_cli(workspace.root, "unpublish", "testi/001")  # no terminal, no answer: nothing happens
    assert run.code == 1
    assert len(feed_guids(workspace.root)) == 1
