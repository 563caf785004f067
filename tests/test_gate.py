"""The one validation gate: `check`, `publish()` and `release_due()` give the same verdict."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone


from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.publishing import publish as publishing
from media_pipeline.publishing import release
from media_pipeline.publishing.manifest import read_manifest
from media_pipeline.storage import open_storage

from check_support import SHOW, make_workspace, write_episode

CLI = "from media_pipeline.cli import main; main()"
DUPLICATE = f"episodes/{SHOW}/003-kaksoisnumero.md: number: 1 is also the number of"


def check_errors(root) -> list[str]:
    result = subprocess.run([sys.executable, "-c", CLI, "--root", str(root), "check"], cwd=root,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result
    return [line for line in result.stdout.splitlines() if not line.startswith("warning:")]


def test_publish_called_as_a_library_refuses_what_check_rejects_with_the_same_line(tmp_path):
    root = make_workspace(tmp_path)
    write_episode(root, "003-kaksoisnumero", {"title": "Jakso 3", "number": 1, "season": 1,
                                              "publish_at": "2026-04-01T09:00:00+03:00"})
    [line] = check_errors(root)
    assert line.startswith(DUPLICATE)

    ws = load_workspace(root)
    catalog, loaded = load_catalog(ws)
    assert not loaded, "a rule of the feed, not of the loader: only the gate finds it"
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    bad = [e for e in catalog.episodes[SHOW] if e.slug == "003-kaksoisnumero"]
    alone = publishing.publish(ws, catalog, bad, now=now)
    assert [reason for _, reason in alone.failures] == [line]
    assert not (root / "public").exists(), "refused before any audio work or upload"

    # With the others, it fails alone: the rest go ahead, and the report names only it.
    report = publishing.publish(ws, catalog, catalog.episodes[SHOW], now=now)
    assert [reason for _, reason in report.failures] == [line]
    assert sorted(o.key for o in report.outcomes if o.state == "live") == [
        f"{SHOW}/001-ihmiskeskeisyys", f"{SHOW}/002-elamantapahtumat"]


def test_release_due_keeps_staged_an_episode_that_check_now_rejects(tmp_path):
    root = make_workspace(tmp_path)
    ws = load_workspace(root)
    catalog, _ = load_catalog(ws)
    staged = publishing.publish(ws, catalog, catalog.episodes[SHOW], now=datetime(2026, 2, 10, tzinfo=timezone.utc))
    assert staged.ok, staged.failures
    assert [o.state for o in staged.outcomes] == ["live", "staged"]

    # The producer edits the staged episode into a duplicate number before its time comes.
    path = root / "episodes" / SHOW / "002-elamantapahtumat.md"
    path.write_text(path.read_text(encoding="utf-8").replace("number: 2", "number: 1"), encoding="utf-8")
    [line] = check_errors(root)

    catalog, loaded = load_catalog(ws)
    report = release.release_due(ws, catalog, now=datetime(2026, 4, 1, tzinfo=timezone.utc), loaded=loaded)
    assert report.released == []
    assert report.failures == [(f"{SHOW}/002-elamantapahtumat", line)]
    current = read_manifest(open_storage(ws.storage_url, ws.root), SHOW)[0]
    assert [r.state for r in sorted(current.episodes.values(), key=lambda r: r.slug)] == ["live", "staged"]
