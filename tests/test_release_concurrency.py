"""Overlapping runs against one bucket never drop or duplicate an episode (issue 7 must-show 3)."""

from __future__ import annotations

import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from publish_support import feed_guids, manifest_of, run_cli, start_cli, use_s3

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=timezone.utc)
ROUNDS = 10


@pytest.mark.parametrize("rounds", [3, pytest.param(ROUNDS, marks=pytest.mark.slow)])
def test_two_release_runs_and_a_publish_started_together_keep_every_episode_once(workspace, s3, tmp_path, rounds):
    """Each round starts, at the same moment, two `release-due` runs and one `publish` of a new
    episode that is due at once. One release run uses its own lock folder, as a second machine
    sharing the bucket would: only the conditional writes of manifest and feed protect it."""
    use_s3(workspace, s3)
    workspace.show()
    for r in range(1, rounds + 1):
        workspace.episode(f"s{r:02d}", publish_at=(T0 + timedelta(hours=r)).isoformat(), seconds=3)
    staged = run_cli(workspace.root, "publish", "--all", "--now", T0.isoformat())
    assert staged.code == 0, staged.err
    other_machine = {"MEDIA_PIPELINE_LOCK_DIR": str(tmp_path / "other-machine-locks")}

    retries = waits = 0
    for r in range(1, rounds + 1):
        now = (T0 + timedelta(hours=r)).isoformat()
        episode = workspace.episode(f"p{r:02d}", publish_at=(T0 + timedelta(hours=r, minutes=-30)).isoformat(),
                                    seconds=3)
        runs = [
            start_cli(workspace.root, "-v", "release-due", "--now", now),
            start_cli(workspace.root, "-v", "release-due", "--now", now, env=other_machine),
            start_cli(workspace.root, "-v", "publish", str(episode), "--now", now),
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in runs]
        for code, out, err in results:
            assert code == 0, f"round {r}: {out}\n{err}"
            retries += err.count("reading again")
            waits += err.count("waiting for another run")
        released = [line for _, out, _ in results[:2] for line in out.splitlines() if line.startswith("released")]
        assert released == [f"released testi/s{r:02d} (due {now})"], f"round {r}: released once, by one run"

        guids = feed_guids(workspace.root)
        live = {g for g, rec in manifest_of(workspace.root).episodes.items() if rec.state == "live"}
        assert Counter(guids).most_common(1)[0][1] == 1, f"round {r}: an episode listed twice"
        said = "\n".join(f"run {i} (exit {code}):\n{err}" for i, (code, _, err) in enumerate(results))
        assert set(guids) == live and len(live) == 2 * r, f"round {r}: feed and manifest disagree\n{said}"
    print(f"conditional-write conflicts retried: {retries}; lock waits: {waits}")
    slugs = sorted(rec.slug for rec in manifest_of(workspace.root).episodes.values())
    assert slugs == sorted([f"s{r:02d}" for r in range(1, rounds + 1)] + [f"p{r:02d}" for r in range(1, rounds + 1)])


def test_a_run_waits_for_the_lock_another_run_holds_on_the_same_machine(workspace):
    from media_pipeline.publishing.lock import lock_path, locked

    from publish_support import load

    workspace.show()
    workspace.episode("w1", publish_at=T0.isoformat(), seconds=3)
    assert run_cli(workspace.root, "publish", "--all", "--now", (T0 - timedelta(hours=1)).isoformat()).code == 0
    ws, _ = load(workspace.root)
    with locked(lock_path(ws, "testi")):
        waiting = start_cli(workspace.root, "release-due", "--now", T0.isoformat())
        try:
            waiting.wait(timeout=3)
        except subprocess.TimeoutExpired:  # still waiting, as it should
            pass
        assert waiting.poll() is None, waiting.communicate()
        assert feed_guids(workspace.root) == []
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert out.startswith("released testi/w1") and len(feed_guids(workspace.root)) == 1
