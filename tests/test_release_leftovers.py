"""No staged copy is orphaned: a run stopped (or a delete refused) after the manifest write that
retires a staging folder leaves its keys listed, and the next write of that show deletes them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from media_pipeline.publishing import release, uploads
from media_pipeline.storage import open_storage

from publish_support import (
    RequestLog,
    bucket_state,
    cli_here,
    feed_guids,
    load,
    manifest_of,
    run_cli,
    start_cli,
    use_s3,
)

T = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def _stage(workspace, slugs_and_times) -> dict:
    workspace.show()
    for slug, moment in slugs_and_times:
        workspace.episode(slug, publish_at=moment.isoformat(), seconds=3)
    run = run_cli(workspace.root, "publish", "--all", "--now", (T - timedelta(days=1)).isoformat())
    assert run.code == 0, run.err
    records = {r.slug: r for r in manifest_of(workspace.root).episodes.values()}
    assert {r.state for r in records.values()} == {"staged"}
    return records


def _staged_keys(record) -> list[str]:
    return sorted(record.staged_key("testi", f) for f in record.files)


def _storage(workspace):
    ws, _ = load(workspace.root)
    return open_storage(ws.storage_url, ws.root)


def _existing(workspace, keys) -> list[str]:
    storage = _storage(workspace)
    return [key for key in keys if storage.head(key) is not None]


def _stored_staged(workspace, s3=None) -> list[str]:
    """Every object below a staging folder, as the storage itself lists it (metadata sidecars of
    the local backend included)."""
    if s3 is not None:
        return sorted(k for k in bucket_state(s3) if "/staged/" in k)
    public = workspace.root / "public"
    return sorted(str(p.relative_to(public)) for p in public.rglob("*") if p.is_file() and "/staged/" in str(p))


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_release_stopped_after_its_manifest_write_is_cleaned_up_by_the_next_write(workspace, request, backend):
    """The release's own steps, run up to its manifest write and no further: what a run killed
    there leaves behind. The next release (a write that happens anyway) deletes it."""
    s3 = None
    if backend == "s3":
        s3 = request.getfixturevalue("s3")
        use_s3(workspace, s3)
    records = _stage(workspace, [("a", T), ("b", T + timedelta(hours=1))])
    a, b = records["a"], records["b"]

    ws, catalog = load(workspace.root)
    storage, show = open_storage(ws.storage_url, ws.root), catalog.shows["testi"]
    uploads.make_public(storage, show, a, [])
    release.mark_live(ws, storage, catalog, show, [a.guid])
    # ...and the run dies here, before its deletes.
    after_kill = manifest_of(workspace.root)
    assert after_kill.episodes[a.guid].state == "live" and after_kill.episodes[a.guid].staging is None
    assert feed_guids(workspace.root) == [a.guid]
    assert after_kill.leftovers == _staged_keys(a)
    assert _existing(workspace, _staged_keys(a)) == _staged_keys(a)  # orphans, but listed

    nothing_due = run_cli(workspace.root, "release-due", "--now", T.isoformat())
    assert nothing_due.code == 0 and nothing_due.lines == [f"nothing due at {T.isoformat()}"]
    assert _existing(workspace, _staged_keys(a)) == _staged_keys(a)  # a run that writes nothing deletes nothing

    later = (T + timedelta(hours=1)).isoformat()
    run = run_cli(workspace.root, "release-due", "--now", later)
    assert run.code == 0, run.err
    assert run.lines == [f"released testi/b (due {later})"]
    swept = manifest_of(workspace.root)
    assert _existing(workspace, _staged_keys(a)) == []
    assert not set(_staged_keys(a)) & set(swept.leftovers)
    # what remains listed is b's, deleted by that same run right after its write: no orphan at all
    assert swept.leftovers == _staged_keys(b) and _existing(workspace, swept.leftovers) == []
    assert _stored_staged(workspace, s3) == []
    assert sorted(feed_guids(workspace.root)) == sorted([a.guid, b.guid])


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_release_killed_while_deleting_the_staged_copies_leaves_nothing_behind(workspace, s3, fault_proxy,
                                                                                  capsys, monkeypatch):
    """A real SIGKILL: the storage swallows every DELETE (connection dropped, so the client keeps
    retrying), and the release process is killed at its first one, after manifest and feed."""
    use_s3(workspace, s3)
    records = _stage(workspace, [("a", T), ("b", T + timedelta(hours=2))])
    a = records["a"]
    fault_proxy.reset()
    fault_proxy.drop_all(method="DELETE")

    proc = start_cli(workspace.root, "release-due", "--now", T.isoformat())
    try:
        # the run's first write asks the server about conditional writes with a probe object,
        # whose delete is dropped too: wait for the first delete of the run's own keys
        _wait_for(lambda: any(seen.method == "DELETE" and "/_private/probe/" not in seen.path
                              for seen in fault_proxy.log))
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -9  # killed, not finished: its deletes never reached the storage
    fault_proxy.drop_all(False)
    writes = [(seen.method, seen.path.rsplit("/", 1)[-1]) for seen in fault_proxy.log
              if seen.method != "GET" and "/_private/probe/" not in seen.path]
    first_delete = writes.index(next(w for w in writes if w[0] == "DELETE"))
    assert ("PUT", "manifest.json") in writes[:first_delete] and ("PUT", "feed.xml") in writes[:first_delete]
    orphans = [f"podcasts/{key}" for key in _staged_keys(a)]
    assert set(orphans) <= set(_stored_staged(workspace, s3))
    assert manifest_of(workspace.root).leftovers == _staged_keys(a)
    assert feed_guids(workspace.root) == [a.guid]

    # Cron's next runs with nothing due: one GET, no DELETE, no write, whatever is listed.
    log = RequestLog(s3, monkeypatch)
    idle = cli_here(capsys, workspace.root, "release-due", "--now", T.isoformat())
    assert idle.code == 0 and log.calls == ["GetObject"]
    # A producer's publish with no change: reads only, however many leftovers are listed.
    log.reset()
    same = cli_here(capsys, workspace.root, "publish", "--all", "--now", T.isoformat())
    assert same.code == 0, same.err
    assert set(log.calls) == {"GetObject"}, log.calls
    assert set(orphans) <= set(_stored_staged(workspace, s3))

    # The next write of the show (here: a publish that changes an episode) deletes them first.
    workspace.episode("b", publish_at=(T + timedelta(hours=3)).isoformat(), seconds=3)
    log.reset()
    moved = cli_here(capsys, workspace.root, "publish", "testi/b", "--now", T.isoformat())
    assert moved.code == 0, moved.err
    assert log.count("DeleteObject") == len(orphans)
    assert manifest_of(workspace.root).leftovers == []
    assert _stored_staged(workspace, s3) == [f"podcasts/{key}" for key in _staged_keys(records["b"])]


def _retire(workspace, how: str, x) -> None:
    if how == "release":
        run = run_cli(workspace.root, "release-due", "--now", T.isoformat())
        assert run.lines == [f"released testi/x (due {T.isoformat()})"]
    elif how == "publish":  # published again once due: straight to the public keys, staging retired
        run = run_cli(workspace.root, "publish", "testi/x", "--now", T.isoformat())
        assert run.lines[0].startswith("testi/x: live")
    else:
        run = run_cli(workspace.root, "unpublish", "testi/x", "--yes")
        assert run.lines == [f"testi/x: unpublished ({2 * len(x.files)} file(s) deleted, guid {x.guid} retired)"]
    assert run.code == 0, run.err
    assert "could not delete" in run.err  # a warning, not a failure: the feed is right


@pytest.mark.parametrize("how", ["release", "publish", "unpublish"])
def test_staged_copies_whose_delete_was_refused_are_deleted_by_the_next_write(workspace, s3, fault_proxy, how):
    """Every command that retires a staging folder lists it; the storage refuses the deletes
    (403, not retried), and the next publish of another episode removes them and empties the list."""
    use_s3(workspace, s3)
    x = _stage(workspace, [("x", T)])["x"]
    fault_proxy.fail_all(status=403, code="AccessDenied", method="DELETE", path_contains="/staged/")
    _retire(workspace, how, x)
    fault_proxy.fail_all(False)
    left = manifest_of(workspace.root)
    assert left.leftovers == _staged_keys(x) and left.episodes[x.guid].staging is None
    assert _stored_staged(workspace, s3) == [f"podcasts/{key}" for key in _staged_keys(x)]

    workspace.episode("y", publish_at=(T - timedelta(hours=1)).isoformat(), seconds=3)
    run = run_cli(workspace.root, "publish", "testi/y", "--now", T.isoformat())
    assert run.code == 0, run.err
    assert manifest_of(workspace.root).leftovers == []
    assert _stored_staged(workspace, s3) == []
    expected = {"release": 2, "publish": 2, "unpublish": 1}[how]
    assert len(feed_guids(workspace.root)) == expected


def test_a_normal_release_leaves_no_staged_file_on_the_local_backend(workspace):
    records = _stage(workspace, [("a", T)])
    assert _stored_staged(workspace)  # the staged copy and its metadata sidecar
    run = run_cli(workspace.root, "release-due", "--now", T.isoformat())
    assert run.code == 0, run.err
    assert _stored_staged(workspace) == []
    assert manifest_of(workspace.root).leftovers == _staged_keys(records["a"])  # listed, already gone
