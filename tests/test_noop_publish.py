"""A publish run where nothing changed does no per-episode work beyond reading the manifest: no
ffmpeg, no hash of an unchanged recording, no copy, no re-tag, no upload; any changed input still
gets its episode published again (issue 16, must show 1; benchmarks/noop.py measures the time)."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from conftest import make_jpeg

from media_pipeline import layout
from media_pipeline.audio import stamps
from media_pipeline.publishing import publish as publishing

from publish_support import load

NOW = datetime(2026, 5, 1, tzinfo=timezone.utc)


def _age(path: Path, seconds: float = 3600) -> None:
    """Date a file back, as a recording made long before the run (outside the racy window)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _workspace(workspace, count: int = 2) -> list[Path]:
    workspace.show()
    for i in range(1, count + 1):
        workspace.episode(f"00{i}", seconds=2)
    sources = sorted((workspace.root / "media" / "testi").glob("*.wav"))
    for path in [*sources, workspace.root / "artwork" / "show.jpg"]:
        _age(path)
    return sources


def _publish(workspace, caplog):
    ws, catalog = load(workspace.root)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="media_pipeline"):
        report = publishing.publish(ws, catalog, catalog.episodes["testi"], now=NOW)
    assert report.ok, report.failures
    return report


def _ffmpeg_runs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "media_pipeline.audio.ffmpeg" and r.getMessage().startswith("run:")]


def _hashed(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "media_pipeline.audio.stamps" and "hashing" in r.getMessage()]


def _unchanged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unchanged since it was last published" in r.getMessage()]


def test_a_run_with_nothing_changed_starts_no_ffmpeg_hashes_no_recording_and_tags_nothing(workspace, caplog):
    sources = _workspace(workspace)
    first = _publish(workspace, caplog)
    assert _ffmpeg_runs(caplog) and all(o.uploaded for o in first.outcomes)
    tagged = {p: p.stat().st_mtime_ns for p in (workspace.root / ".media-pipeline").rglob("*.mp3")}

    second = _publish(workspace, caplog)
    assert second.written == [] and [o.uploaded for o in second.outcomes] == [(), ()]
    assert _ffmpeg_runs(caplog) == []  # no probe, no analysis, no subtitle mux
    assert not [line for line in _hashed(caplog) if any(str(s) in line for s in sources)]
    assert len(_unchanged(caplog)) == 2
    # the tagged copies of the first run were neither rewritten nor made again
    assert {p: p.stat().st_mtime_ns for p in (workspace.root / ".media-pipeline").rglob("*.mp3")} == tagged


def test_a_touched_recording_with_the_same_bytes_is_hashed_again_and_nothing_else(workspace, caplog):
    sources = _workspace(workspace)
    _publish(workspace, caplog)
    _age(sources[0], 1800)  # a new modification time, same content (a copy kept its bytes)

    again = _publish(workspace, caplog)
    assert [line for line in _hashed(caplog) if str(sources[0]) in line]
    assert not [line for line in _hashed(caplog) if str(sources[1]) in line]
    assert again.written == [] and len(_unchanged(caplog)) == 2


def test_a_changed_recording_is_processed_and_uploaded_again(workspace, caplog):
    sources = _workspace(workspace)
    _publish(workspace, caplog)
    other = workspace.root / "media" / "testi" / "other.wav"
    from media_pipeline_demo import synth

    synth.speech(other, 2.0, level_lufs=-20, channels=1, seed=7)
    os.replace(other, sources[0])
    _age(sources[0])

    again = _publish(workspace, caplog)
    changed = _media_uploaded(again)
    assert changed["testi/001"] == {"testi/001.mp3"} and changed["testi/002"] == set()
    assert any("audio work: testi/001" in r.getMessage() for r in caplog.records)


def test_an_edited_title_retags_and_uploads_that_episode_only(workspace, caplog):
    _workspace(workspace)
    _publish(workspace, caplog)
    episode = workspace.root / "episodes" / "testi" / "002.md"
    episode.write_text(episode.read_text(encoding="utf-8").replace("Jakso 002", "Jakso 002, korjattu"),
                       encoding="utf-8")

    again = _publish(workspace, caplog)
    changed = _media_uploaded(again)
    assert changed["testi/001"] == set() and changed["testi/002"] == {"testi/002.mp3"}
    assert _ffmpeg_runs(caplog) == []  # the renditions come from the cache: tagging is mutagen's
    assert len(_unchanged(caplog)) == 1


def test_new_show_artwork_retags_every_episode(workspace, caplog):
    _workspace(workspace)
    _publish(workspace, caplog)
    art = workspace.root / "artwork" / "show.jpg"
    make_jpeg(art, 1500)
    _age(art)

    again = _publish(workspace, caplog)
    assert "testi/artwork.jpg" in again.written
    assert all(uploaded == {f"{key}.mp3"} for key, uploaded in _media_uploaded(again).items())
    assert _unchanged(caplog) == []


def test_a_kept_record_that_differs_from_the_manifest_is_not_trusted(workspace, caplog):
    """The kept fingerprint counts only while the manifest holds exactly the record it was kept with
    (here the kept copy is altered, as if another run had published the episode since)."""
    _workspace(workspace)
    _publish(workspace, caplog)
    kept = next((workspace.root / ".media-pipeline" / "cache" / "_published" / "testi").glob("001.json"))
    kept.write_text(kept.read_text(encoding="utf-8").replace('"sha256": "', '"sha256": "0'), encoding="utf-8")

    again = _publish(workspace, caplog)
    assert len(_unchanged(caplog)) == 1  # 001 was copied and tagged again; its bytes equal, so not sent
    assert again.written == []


def test_stamps_trust_an_unchanged_file_and_read_a_changed_or_recent_one(tmp_path, caplog):
    cache = tmp_path / "cache"
    cache.mkdir()
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    _age(path)
    known = stamps.Stamps(cache)
    first = known.digest(path)
    with caplog.at_level(logging.DEBUG, logger="media_pipeline.audio.stamps"):
        assert stamps.Stamps(cache).digest(path) == first  # a new process: from the index
        assert _hashed(caplog) == []
        path.write_bytes(b"two")  # changed and recent: hashed, and not kept while racy
        assert stamps.Stamps(cache).digest(path) != first
        assert stamps.Stamps(cache).digest(path) != first
        assert len(_hashed(caplog)) == 2


def _media_uploaded(report) -> dict[str, set[str]]:
    """Each episode's media uploaded by a run, by the key it replaces: changed bytes go to a
    versioned key (`001.<sha>.mp3`), never over the live file."""
    return {o.key: {layout.unversioned_key(k) for k in o.uploaded if k.endswith(".mp3")} for o in report.outcomes}


def _not_rendered(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "not rendered again" in r.getMessage()]


def test_a_run_with_nothing_changed_renders_no_feed_and_no_page_once_a_run_found_them_stored(workspace, caplog):
    _workspace(workspace)
    _publish(workspace, caplog)  # stores the feed and pages
    _publish(workspace, caplog)  # renders them, finds them stored byte for byte, and keeps that
    assert _not_rendered(caplog) == []
    third = _publish(workspace, caplog)
    assert third.written == [] and len(_not_rendered(caplog)) == 1


def test_a_changed_site_setting_renders_the_pages_again_though_no_episode_changed(workspace, caplog):
    _workspace(workspace)
    _publish(workspace, caplog)
    _publish(workspace, caplog)
    config = workspace.root / "media-pipeline.toml"
    config.write_text(config.read_text(encoding="utf-8") + 'site_title = "Uusi sivuston nimi"\n', encoding="utf-8")

    again = _publish(workspace, caplog)
    assert _not_rendered(caplog) == []
    page = workspace.root / "public" / layout.episode_page_key("testi", "001")
    assert "Uusi sivuston nimi" in page.read_text(encoding="utf-8")
    assert layout.episode_page_key("testi", "001") in again.written
    assert [o.uploaded for o in again.outcomes] == [(), ()]  # the media stayed as it was


def test_a_feed_changed_in_storage_by_hand_is_rendered_and_repaired_by_the_next_run(workspace, caplog):
    _workspace(workspace)
    _publish(workspace, caplog)
    _publish(workspace, caplog)
    feed = workspace.root / "public" / "testi" / "feed.xml"
    good = feed.read_bytes()
    feed.write_bytes(good.replace(b"Jakso 001", b"Jakso 001 (muokattu)"))

    again = _publish(workspace, caplog)
    assert _not_rendered(caplog) == [] and "testi/feed.xml" in again.written
    assert feed.read_bytes() == good
