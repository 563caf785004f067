"""The one atomic-write helper: whole files or none, one temporary-name rule, one file-mode rule; and
scratch folders that a killed run does not leave behind."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from media_pipeline.model import Workspace
from media_pipeline.util import fsutil
from media_pipeline.util.fsutil import atomic_write, display_path, replacing, scratch_folder, temp_name_pattern


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "001.chapters.json"
    atomic_write(target, b"old")
    with pytest.raises(RuntimeError):
        with replacing(target) as tmp:
            assert tmp.parent == target.parent and tmp.name.startswith(".001.chapters.")
            assert tmp.suffix == ".json", "the suffix is kept: ffmpeg picks its muxer by it"
            assert tmp.match(temp_name_pattern(target))
            tmp.write_bytes(b"half")
            raise RuntimeError("stopped half-way")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["001.chapters.json"]


def test_a_new_file_is_readable_by_all_and_a_replaced_one_keeps_its_mode(tmp_path):
    new = tmp_path / "uusi.md"
    atomic_write(new, b"a")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    private = tmp_path / "oma.md"
    atomic_write(private, b"a")
    os.chmod(private, 0o600)
    atomic_write(private, b"b")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_bytes() == b"b"


def test_an_exclusive_write_never_replaces_an_existing_file(tmp_path):
    target = tmp_path / "003.md"
    atomic_write(target, b"producer's text", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"scaffold", exclusive=True)
    assert target.read_bytes() == b"producer's text" and len(list(tmp_path.iterdir())) == 1


def test_paths_in_messages_are_relative_to_the_workspace(tmp_path):
    ws = Workspace(root=tmp_path)
    assert display_path(ws, tmp_path / "episodes" / "testi" / "001.md") == "episodes/testi/001.md"
    assert display_path(ws, "/elsewhere/cover.png") == "/elsewhere/cover.png"



_HOLD = """
import sys, time
from pathlib import Path
from media_pipeline.util.fsutil import scratch_folder
with scratch_folder(Path(sys.argv[1]), "mp-test-") as folder:
    (folder / "log.txt").write_text("x" * 1000)
    print(folder, flush=True)
    time.sleep(600)
"""


def _holder(parent):
    run = subprocess.Popen([sys.executable, "-c", _HOLD, str(parent)], stdout=subprocess.PIPE, text=True)
    return run, Path(run.stdout.readline().strip())


def test_a_scratch_folder_is_gone_after_use_and_a_killed_runs_is_swept_by_the_next(tmp_path):
    """A real SIGKILL, in a process of its own (the publishing run's work folders and the analysis's
    log folders are this one mechanism)."""
    with scratch_folder(tmp_path, "mp-test-") as folder:
        assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
        (folder / "peaks.txt").write_text("1")
    assert list(tmp_path.iterdir()) == []

    killed, left = _holder(tmp_path)
    alive, working = _holder(tmp_path)
    other = tmp_path / "not-ours"
    other.mkdir()
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert left.is_dir() and (left / "log.txt").exists(), "a killed run cannot remove its own folder"
        with scratch_folder(tmp_path, "mp-test-") as folder:
            assert not left.exists(), "the killed run's folder is swept"
            assert (working / "log.txt").exists(), "a folder whose run is still working is kept"
            assert {p.name for p in tmp_path.iterdir()} == {working.name, folder.name, other.name}
    finally:
        alive.kill()
        alive.wait(timeout=30)
        killed.kill()


def test_a_scratch_folder_without_a_lock_is_swept_only_once_stale(tmp_path):
    old, new = tmp_path / "mp-test-old", tmp_path / "mp-test-new"
    for folder in (old, new):
        folder.mkdir()
    long_ago = time.time() - fsutil.SCRATCH_STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    fsutil.sweep_scratch(tmp_path, "mp-test-")
    assert not old.exists() and new.exists()
