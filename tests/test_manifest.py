"""The manifest: deterministic bytes, and conditional updates that never lose a writer's change."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pytest

from media_pipeline.errors import StorageError
from media_pipeline.publishing import manifest
from media_pipeline.publishing.manifest import EpisodeRecord, FileRecord, Manifest
from media_pipeline.storage import open_storage

WHEN = datetime(2026, 3, 29, 4, 30, tzinfo=timezone.utc)


def _record(guid: str, state: str = "live") -> EpisodeRecord:
    return EpisodeRecord(guid=guid, slug=f"slug-{guid}", state=state, publish_at=WHEN, duration=6.0,
                         files=[FileRecord("media", f"testi/{guid}.mp3", 1234, "ab" * 32, "audio/mpeg")],
                         staging="t0k3n" if state == "staged" else None)


def test_manifest_bytes_round_trip_and_do_not_depend_on_insertion_order():
    one = Manifest("testi", podcast_guid="pg", episodes={"b": _record("b"), "a": _record("a", "staged")})
    two = Manifest("testi", podcast_guid="pg", episodes={"a": _record("a", "staged"), "b": _record("b")})
    assert one.to_bytes() == two.to_bytes()
    back = Manifest.from_bytes("testi", one.to_bytes())
    assert back == one
    assert back.episodes["a"].staged_key("testi", back.episodes["a"].files[0]) == \
        "_private/testi/staged/t0k3n/a.mp3"
    assert json.loads(one.to_bytes())["episodes"]["a"]["publish_at"] == "2026-03-29T04:30:00+00:00"


def test_a_damaged_manifest_is_an_error_not_an_empty_show():
    with pytest.raises(StorageError, match="_private/testi/manifest.json"):
        Manifest.from_bytes("testi", b"{not json")


def _render(m: Manifest) -> bytes:
    return "\n".join(sorted(g for g, r in m.episodes.items() if r.state == "live")).encode()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_concurrent_writers_without_any_lock_lose_nothing(tmp_path, request, backend):
    """Eight writers each add their own episode at the same moment, with no machine-local lock:
    the conditional writes alone must keep all eight in the manifest and in the feed."""
    url = "file://./public" if backend == "local" else request.getfixturevalue("s3").storage_url()
    storage = open_storage(url, tmp_path)
    barrier = threading.Barrier(8)
    errors = []

    def writer(n: int) -> None:
        try:
            snapshot = manifest.read(storage, "testi")
            barrier.wait()
            manifest.update(storage, "testi", lambda m: m.episodes.__setitem__(f"g{n}", _record(f"g{n}")), _render,
                            feed_cache_control="max-age=60", snapshot=snapshot, attempts=40)
        except Exception as exc:  # reported below with the writer's number
            errors.append((n, exc))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = manifest.read(storage, "testi")
    assert sorted(final.manifest.episodes) == [f"g{n}" for n in range(8)]
    assert final.feed == _render(final.manifest)


def test_a_feed_that_cannot_be_built_leaves_storage_untouched(tmp_path):
    storage = open_storage("file://./public", tmp_path)
    manifest.update(storage, "testi", lambda m: m.episodes.__setitem__("a", _record("a")), _render,
                    feed_cache_control="max-age=60")
    before = manifest.read(storage, "testi")

    def broken(m: Manifest) -> bytes:
        raise StorageError("cannot build", path="testi/feed.xml")

    with pytest.raises(StorageError):
        manifest.update(storage, "testi", lambda m: m.episodes.__setitem__("b", _record("b")), broken,
                        feed_cache_control="max-age=60")
    after = manifest.read(storage, "testi")
    assert (after.manifest_bytes, after.feed) == (before.manifest_bytes, before.feed)
