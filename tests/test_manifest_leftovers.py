"""The manifest's leftovers: staged copies a write retired stay listed until a later write deletes them."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from media_pipeline import layout
from media_pipeline.errors import StorageError
from media_pipeline.publishing import manifest
from media_pipeline.publishing.manifest import EpisodeRecord, FileRecord, Manifest
from media_pipeline.storage import open_storage

WHEN = datetime(2026, 3, 29, 4, 30, tzinfo=timezone.utc)


def _staged(guid: str, token: str) -> EpisodeRecord:
    return EpisodeRecord(guid=guid, slug=guid, state="staged", publish_at=WHEN, duration=3.0, staging=token,
                         files=[FileRecord("media", f"testi/{guid}.mp3", 5, "ab" * 32, "audio/mpeg"),
                                FileRecord("transcript", f"testi/{guid}.vtt", 5, "cd" * 32, "text/vtt")])


def _render(m: Manifest) -> bytes:
    return "\n".join(sorted(g for g, r in m.episodes.items() if r.state == "live")).encode()


def _put(storage, key: str) -> None:
    storage.put_bytes(key, b"bytes", content_type="audio/mpeg", cache_control="no-store")


def test_a_manifest_without_leftovers_keeps_its_old_bytes_and_one_with_them_round_trips():
    m = Manifest("testi", podcast_guid="pg", episodes={"a": _staged("a", "t1")})
    old = m.to_bytes()
    assert "leftovers" not in json.loads(old)  # as written before the list existed: no rewrite after an upgrade
    assert Manifest.from_bytes("testi", old).leftovers == []

    keys = m.retire_staging(m.episodes["a"])
    assert keys == ["_private/testi/staged/t1/a.mp3", "_private/testi/staged/t1/a.vtt"]
    assert m.episodes["a"].staging is None and m.leftovers == sorted(keys)
    assert m.retire_staging(m.episodes["a"]) == []  # idempotent: a retry of a change adds nothing twice
    back = Manifest.from_bytes("testi", m.to_bytes())
    assert back == m and json.loads(m.to_bytes())["leftovers"] == sorted(keys)


@pytest.mark.parametrize("listed", [["testi/feed.xml"], ["testi/index.html"], ["testi/001/index.html"], ["muu/a.mp3"],
                                    ["testi/"], ["_private/testi/manifest.json"], ["_private/muu/staged/t/a.mp3"],
                                    ["_private/testi/staged/t/../../../testi/a.mp3"], ["testi/../muu/a.mp3"],
                                    "_private/testi/staged/t/a.mp3"])
def test_a_manifest_listing_anything_but_this_shows_staged_copies_and_files_is_refused(listed):
    """Every listed key gets deleted, so a damaged manifest must never name the feed, a page, another
    show's files or the manifest."""
    data = json.loads(Manifest("testi").to_bytes())
    data["leftovers"] = listed
    with pytest.raises(StorageError, match="leftovers"):
        Manifest.from_bytes("testi", json.dumps(data).encode())


def test_a_write_deletes_what_the_stored_manifest_lists_and_a_run_that_writes_nothing_deletes_nothing(tmp_path):
    storage = open_storage("file://./public", tmp_path)
    public = tmp_path / "public"

    def stage(m: Manifest) -> None:
        m.episodes.setdefault("a", _staged("a", "t1"))

    manifest.update(storage, "testi", stage, _render, feed_cache_control="max-age=60")
    staged = [layout.staging_key("testi", "t1", f.key) for f in _staged("a", "t1").files]
    for key in staged:
        _put(storage, key)

    def release(m: Manifest) -> list[str]:
        m.episodes["a"].state = "live"
        return m.retire_staging(m.episodes["a"])

    released = manifest.update(storage, "testi", release, _render, feed_cache_control="max-age=60")
    assert released.result == staged
    # listed in the write that made them garbage, and not deleted by it: that is the caller's job
    assert manifest.read_manifest(storage, "testi")[0].leftovers == staged
    assert all((public / key).is_file() for key in staged)

    before = (public / layout.manifest_key("testi")).stat().st_mtime_ns
    idle = manifest.update(storage, "testi", stage, _render, feed_cache_control="max-age=60")
    assert idle.manifest.leftovers == staged and all((public / key).is_file() for key in staged)
    assert (public / layout.manifest_key("testi")).stat().st_mtime_ns == before  # no write, so no sweep

    def add_b(m: Manifest) -> None:
        m.episodes.setdefault("b", _staged("b", "t2"))

    manifest.update(storage, "testi", add_b, _render, feed_cache_control="max-age=60")
    stored = manifest.read_manifest(storage, "testi")[0]
    assert stored.leftovers == [] and sorted(stored.episodes) == ["a", "b"]
    assert not any((public / key).exists() for key in staged)
    assert not list((public / "_private" / "meta").rglob("t1/*"))  # their metadata sidecars went too


def test_a_replaced_public_file_is_deleted_only_once_neither_a_record_nor_the_stored_feed_names_it(tmp_path):
    """Changed bytes go to a new key and the old key becomes a leftover: it is deleted once the feed
    that stopped naming it is stored, never while a record (republished with those bytes) or the
    stored feed (a run stopped between manifest and feed) still points at it."""
    storage = open_storage("file://./public", tmp_path)
    public = tmp_path / "public"
    live = EpisodeRecord(guid="a", slug="a", state="live", publish_at=WHEN, duration=3.0,
                         files=[FileRecord("media", "testi/a.mp3", 5, "ab" * 32, "audio/mpeg")])
    for key in ("testi/a.mp3", "testi/a.0123456789.mp3"):
        _put(storage, key)

    def publish(record: EpisodeRecord):
        def change(m: Manifest) -> list[str]:
            return m.put_record(record)
        return manifest.update(storage, "testi", change, lambda m: " ".join(
            f.key for r in m.episodes.values() for f in r.files).encode(), feed_cache_control="no-store")

    publish(live)
    changed = EpisodeRecord(guid="a", slug="a", state="live", publish_at=WHEN, duration=3.0,
                            files=[FileRecord("media", "testi/a.0123456789.mp3", 5, "ef" * 32, "audio/mpeg")])
    updated = publish(changed)
    assert updated.result == ["testi/a.mp3"] and updated.manifest.leftovers == ["testi/a.mp3"]
    assert not (public / "testi/a.mp3").exists() and (public / "testi/a.0123456789.mp3").exists()

    # a leftover that a record names again is kept, and no longer listed once a write sees it named
    _put(storage, "testi/a.mp3")
    back = publish(live)
    assert (public / "testi/a.mp3").exists() and "testi/a.mp3" not in manifest.read_manifest(storage, "testi")[0].leftovers
    assert back.manifest.leftovers == ["testi/a.0123456789.mp3"]
