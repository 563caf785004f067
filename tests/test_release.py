"""release-due: staged episodes go live on time, once, never early (issue 7 must-show 1, 2, 4, 5)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import feedparser
import requests

from publish_support import RequestLog, bucket_state, cli_here, feed_guids, manifest_of, run_cli, stored_feed, use_s3

T = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def _stage(workspace, slugs_and_times, now):
    workspace.show()
    for slug, moment in slugs_and_times:
        workspace.episode(slug, publish_at=moment.isoformat(), seconds=3)
    run = run_cli(workspace.root, "publish", "--all", "--now", now.isoformat())
    assert run.code == 0, run.err
    return {r.slug: r for r in manifest_of(workspace.root).episodes.values()}


def test_releases_exactly_what_is_due_and_a_second_run_writes_nothing(workspace, s3, capsys, monkeypatch):
    use_s3(workspace, s3)
    records = _stage(workspace, [("early", T - timedelta(hours=1)), ("ontime", T), ("late", T + timedelta(hours=1))],
                     now=T - timedelta(hours=2))
    assert {r.state for r in records.values()} == {"staged"}
    assert feed_guids(workspace.root) == []

    first = run_cli(workspace.root, "release-due", "--now", T.isoformat())
    assert first.code == 0, first.err
    assert len(first.lines) == 2
    assert "released testi/early" in first.lines[0] and "released testi/ontime" in first.lines[1]
    assert sorted(feed_guids(workspace.root)) == sorted([records["early"].guid, records["ontime"].guid])
    states = {r.slug: r.state for r in manifest_of(workspace.root).episodes.values()}
    assert states == {"early": "live", "ontime": "live", "late": "staged"}

    before = bucket_state(s3)
    log = RequestLog(s3, monkeypatch)
    second = cli_here(capsys, workspace.root, "release-due", "--now", T.isoformat())
    assert second.code == 0, second.err
    assert log.count() == 1 and log.count("GetObject") == 1  # the manifest of the one show; no writes
    assert bucket_state(s3) == before
    assert second.lines == [f"nothing due at {T.isoformat()}"]
    quiet = cli_here(capsys, workspace.root, "--quiet", "release-due", "--now", T.isoformat())
    assert quiet.code == 0 and quiet.out == "" and quiet.err == ""


def test_release_at_the_right_instant_across_daylight_saving_changes(workspace):
    """Europe/Helsinki: 2026-03-29 03:00 EET jumps to 04:00 EEST, so 03:30 never happens on the wall
    clock; it is read as 04:30 EEST = 01:30 UTC. On 2026-10-25 03:30 happens twice; the first
    (EEST, 00:30 UTC) counts. The file states the wall-clock time without an offset."""
    workspace.show()
    workspace.episode("spring", publish_at="2026-03-29T03:30", seconds=3)
    workspace.episode("autumn", publish_at="2026-10-25T03:30", seconds=3)
    assert run_cli(workspace.root, "publish", "--all", "--now", "2026-03-01T00:00:00Z").code == 0

    def release(now: str) -> list[str]:
        run = run_cli(workspace.root, "release-due", "--now", now)
        assert run.code == 0, run.err
        return [line for line in run.lines if line.startswith("released")]

    assert release("2026-03-29T01:29:59+00:00") == []
    assert release("2026-03-29T04:29:59") == []  # local wall clock, one second before
    spring = release("2026-03-29T01:30:00+00:00")
    assert spring == ["released testi/spring (due 2026-03-29T04:30:00+03:00)"]
    assert release("2026-10-25T00:29:59+00:00") == []
    assert release("2026-10-25T00:30:00+00:00") == ["released testi/autumn (due 2026-10-25T03:30:00+03:00)"]


def test_missing_staged_media_blocks_only_its_episode(workspace, s3):
    use_s3(workspace, s3)
    records = _stage(workspace, [(s, T - timedelta(minutes=10 * i)) for i, s in enumerate(("a01", "a02", "a03"))],
                     now=T - timedelta(days=1))
    broken = records["a02"]
    staged = broken.staged_key("testi", broken.media[0])
    s3.client.delete_object(Bucket=s3.bucket, Key=f"podcasts/{staged}")

    run = run_cli(workspace.root, "release-due", "--now", T.isoformat())
    assert run.code == 1
    assert sorted(line.split()[1] for line in run.lines) == ["testi/a01", "testi/a03"]
    errors = [line for line in run.err.splitlines() if line.strip()]
    assert len(errors) == 1 and "testi/a02" in errors[0] and "no such object" in errors[0]
    assert sorted(feed_guids(workspace.root)) == sorted([records["a01"].guid, records["a03"].guid])
    assert manifest_of(workspace.root).episodes[broken.guid].state == "staged"
    public = requests.get(f"{s3.endpoint}/{s3.bucket}/podcasts/testi/a02.mp3", timeout=10)
    assert public.status_code != 200


def test_embargoed_media_is_unreachable_and_dry_run_changes_nothing(workspace, s3):
    public = use_s3(workspace, s3)
    records = _stage(workspace, [("soon", T + timedelta(minutes=5))], now=T)
    record = records["soon"]
    url = f"{public}/testi/soon.mp3"

    def anonymous_get(address: str) -> int:
        return requests.get(address, timeout=10).status_code  # no credentials: a listener's app

    assert anonymous_get(url) == 404
    assert record.guid not in feed_guids(workspace.root)
    assert b"soon.mp3" not in stored_feed(workspace.root)
    # the staged copy lives under a random token below _private/, which listeners are never given
    staged = record.staged_key("testi", record.media[0])
    assert staged.startswith(f"_private/testi/staged/{record.staging}/")
    assert anonymous_get(f"{public}/{staged}") == 403

    before = bucket_state(s3)
    dry = run_cli(workspace.root, "release-due", "--dry-run", "--now", (T + timedelta(minutes=5)).isoformat())
    assert dry.code == 0, dry.err
    assert dry.lines == [f"would release testi/soon (due {(T + timedelta(minutes=5)).isoformat()})"]
    assert bucket_state(s3) == before
    assert anonymous_get(url) == 404

    too_early = run_cli(workspace.root, "release-due", "--now", (T + timedelta(minutes=4)).isoformat())
    assert too_early.code == 0 and bucket_state(s3) == before

    done = run_cli(workspace.root, "release-due", "--now", (T + timedelta(minutes=5)).isoformat())
    assert done.code == 0, done.err
    assert anonymous_get(url) == 200
    assert record.guid in feed_guids(workspace.root)
    # the staging copies are gone once the feed lists the public ones
    assert not [k for k in bucket_state(s3) if "/staged/" in k]


def test_json_log_format_gives_one_json_object_per_release(workspace):
    _stage(workspace, [("j1", T - timedelta(minutes=1))], now=T - timedelta(hours=1))
    run = run_cli(workspace.root, "--log-format", "json", "release-due", "--now", T.isoformat())
    assert run.code == 0, run.err
    entries = [json.loads(line) for line in run.lines]
    assert [e["episode"] for e in entries] == ["testi/j1"]
    assert entries[0]["due"] == (T - timedelta(minutes=1)).isoformat()
    nothing = run_cli(workspace.root, "--log-format", "json", "release-due", "--now", T.isoformat())
    assert [json.loads(line)["due"] for line in nothing.lines] == [0]


def _pub_dates(root) -> dict[str, datetime]:
    """guid -> pubDate of the stored feed, read by feedparser."""
    parsed = feedparser.parse(stored_feed(root))
    return {e.id: datetime(*e.published_parsed[:6], tzinfo=timezone.utc) for e in parsed.entries}


def _move(workspace, slug: str, moment: datetime) -> None:
    """Edit the publish time in the episode file, keeping every other line (the guid too)."""
    path = workspace.root / "episodes" / "testi" / f"{slug}.md"
    lines = [f"publish_at: {moment.isoformat()}" if line.startswith("publish_at:") else line
             for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_live_episode_moved_into_the_future_is_refused_and_keeps_its_date(workspace):
    """It is in subscribers' apps already: a later time cannot hide it, and the feed must not show
    a date in the future, whichever command rebuilds the feed."""
    records = _stage(workspace, [("out", T - timedelta(hours=1)), ("next", T + timedelta(hours=2))], now=T)
    guid = records["out"].guid
    assert _pub_dates(workspace.root) == {guid: T - timedelta(hours=1)}
    before = stored_feed(workspace.root)

    _move(workspace, "out", T + timedelta(days=1))
    refused = run_cli(workspace.root, "publish", "--all", "--now", T.isoformat())
    assert refused.code == 1
    assert (f"episodes/testi/out.md: publish_at: {(T + timedelta(days=1)).isoformat()} is in the future, but the "
            f"episode has been public since {(T - timedelta(hours=1)).isoformat()}") in refused.err
    assert "media-pipeline unpublish testi/out" in refused.err
    assert stored_feed(workspace.root) == before
    assert manifest_of(workspace.root).episodes[guid].state == "live"

    # release-due rebuilds the feed from the episode files: the edited time must not leak into it
    released = run_cli(workspace.root, "release-due", "--now", (T + timedelta(hours=2)).isoformat())
    assert released.code == 0, released.err
    dates = _pub_dates(workspace.root)
    assert dates == {guid: T - timedelta(hours=1), records["next"].guid: T + timedelta(hours=2)}


def test_a_staged_episode_moved_in_its_file_goes_live_with_the_new_time(workspace):
    records = _stage(workspace, [("moved", T + timedelta(hours=3))], now=T)
    _move(workspace, "moved", T + timedelta(hours=1))  # earlier, without publishing again
    assert run_cli(workspace.root, "release-due", "--now", T.isoformat()).lines == [f"nothing due at {T.isoformat()}"]
    released = run_cli(workspace.root, "release-due", "--now", (T + timedelta(hours=1)).isoformat())
    assert released.code == 0 and len(released.lines) == 1, released.err
    assert _pub_dates(workspace.root) == {records["moved"].guid: T + timedelta(hours=1)}
    assert manifest_of(workspace.root).episodes[records["moved"].guid].publish_at == T + timedelta(hours=1)
