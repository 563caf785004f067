"""Concurrent publish, release-due and a second machine against one storage (issue 12, must show 2),
and a failed publish that changes nothing public (must show 4, item 4)."""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from media_pipeline.config.load import load_workspace
from media_pipeline.storage import open_storage, sha256_bytes

from publish_support import manifest_of, run_cli, start_cli, stored_feed, use_s3

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=timezone.utc)


def _check(root: Path, what: str) -> None:
    """Every file a live record names is stored byte for byte as recorded; every live episode is in
    the feed exactly once, with the recorded length."""
    ws = load_workspace(root)
    storage = open_storage(ws.storage_url, ws.root)
    manifest = manifest_of(root)
    live = {g: r for g, r in manifest.episodes.items() if r.state == "live"}
    for record in live.values():
        for f in record.files:
            got = storage.get_bytes(f.key)
            assert got is not None, f"{what}: {f.key} is missing"
            assert len(got[0]) == f.size and sha256_bytes(got[0]) == f.sha256, f"{what}: {f.key} differs from the manifest"
    parsed = feedparser.parse(stored_feed(root))
    assert not parsed.bozo, what
    counts = Counter(e.id for e in parsed.entries)
    assert set(counts) == set(live) and max(counts.values()) == 1, f"{what}: feed {counts} against live {sorted(live)}"
    for entry in parsed.entries:
        media = live[entry.id].media[0]
        assert int(entry.enclosures[0].length) == media.size and entry.enclosures[0].href.endswith(media.key), what


def _rounds(workspace, tmp_path, rounds: int) -> None:
    workspace.show()
    path = workspace.episode("001", seconds=3, publish_at=T0.isoformat())
    workspace.episode("002", seconds=3, publish_at=T0.isoformat())
    first = run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat())
    assert first.code == 0, first.err
    other_machine = {"MEDIA_PIPELINE_LOCK_DIR": str(tmp_path / "other-machine-locks")}
    conflicts = 0
    for r in range(1, rounds + 1):
        now = (T0 + timedelta(hours=r)).isoformat()
        # changed bytes of a live episode (new title: new tags) and an episode staged to be due now
        path.write_text(path.read_text().replace("Jakso 001", f"Jakso 001 {r}").replace(f"Jakso 001 {r} {r - 1}",
                                                                                         f"Jakso 001 {r}"))
        workspace.episode(f"s{r:02d}", seconds=2, publish_at=(T0 + timedelta(hours=r, minutes=-1)).isoformat())
        staged = run_cli(workspace.root, "publish", f"testi/s{r:02d}", "--now", (T0 + timedelta(hours=r - 1)).isoformat())
        assert staged.code == 0, staged.err
        runs = [start_cli(workspace.root, "publish", "--all", "--now", now) for _ in range(3)]
        runs += [start_cli(workspace.root, "release-due", "--now", now) for _ in range(2)]
        runs.append(start_cli(workspace.root, "publish", "--all", "--now", now, env=other_machine))
        results = [(p.wait(timeout=300), *p.communicate()) for p in runs]
        for code, out, err in results:
            assert "Traceback" not in out + err, f"round {r}: {out}\n{err}"
            # a run that lost a race to another storing the same episode says so and changes nothing
            assert code == 0 or "publish it again" in out + err, f"round {r}: {out}\n{err}"
            conflicts += code != 0
        _check(workspace.root, f"round {r}")
        again = run_cli(workspace.root, "publish", "--all", "--now", now)
        assert again.code == 0, again.err
        _check(workspace.root, f"round {r}, then one more run")
        assert manifest_of(workspace.root).episodes[manifest_of(workspace.root).by_slug("001").guid].meta["title"] == \
            f"Jakso 001 {r}"
    print(f"{rounds} rounds of 6 runs: {conflicts} run(s) told to publish again")
    runs_dir = workspace.root / ".media-pipeline" / "cache" / ".runs"
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == [], "every run removes its work folder"


def test_concurrent_publish_release_and_a_second_machine_keep_every_file_as_recorded(workspace, tmp_path):
    _rounds(workspace, tmp_path, rounds=2)


@pytest.mark.slow
def test_ten_rounds_of_concurrent_runs_on_s3_keep_every_file_as_recorded(workspace, s3, tmp_path):
    use_s3(workspace, s3)
    _rounds(workspace, tmp_path, rounds=10)


def test_a_failed_publish_changes_no_other_episode_in_the_feed(workspace):
    workspace.show()
    workspace.episode("001", seconds=3)
    other = workspace.episode("002", seconds=3, publish_at="2026-02-01T09:00:00+02:00")
    assert run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat()).code == 0
    public = workspace.root / "public"
    before = {p: p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()}
    other.write_text(other.read_text().replace("Jakso 002", "Julkaisematon muutos"))  # not published yet
    (workspace.root / "media/testi/001.wav").write_bytes(os.urandom(50_000))  # 001 cannot be processed

    failed = run_cli(workspace.root, "publish", "testi/001", "--now", T0.isoformat())
    assert failed.code == 1
    errors = [line for line in failed.err.splitlines() if line.strip()]
    assert len(errors) == 1 and "testi/001" in errors[0] and "Traceback" not in failed.out, errors
    assert {p: p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()} == before
    assert b"Julkaisematon" not in stored_feed(workspace.root)


def test_a_publish_whose_feed_cannot_be_built_uploads_nothing_public(workspace):
    """The feed is rendered before any upload: when it cannot be (a live episode's file is gone),
    the new episode's media is not uploaded to public keys that no manifest would name."""
    workspace.show()
    gone = workspace.episode("001", seconds=2)
    assert run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat()).code == 0
    public = workspace.root / "public"
    before = {p: p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()}
    gone.unlink()
    workspace.episode("002", seconds=2)
    for _ in range(2):
        failed = run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat())
        assert failed.code == 1 and "episode file is gone" in failed.err and "Traceback" not in failed.err
        assert {p: p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()} == before
