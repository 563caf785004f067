"""Each run's work folder is its own, removed at the end; a killed run's folder is swept by the next."""

from __future__ import annotations

import fcntl
import os

from media_pipeline.publishing.run import RUNS_DIR, scratch
from media_pipeline.util.fsutil import SCRATCH_ALIVE as ALIVE


def test_a_run_gets_a_folder_of_its_own_and_removes_it(tmp_path):
    with scratch(tmp_path) as one, scratch(tmp_path) as two:
        assert one != two and one.is_dir() and two.is_dir()
        (one / "tagged.mp3").write_bytes(b"x")
    assert list((tmp_path / RUNS_DIR).iterdir()) == []


def test_the_folder_of_a_killed_run_is_swept_and_that_of_a_live_run_is_kept(tmp_path):
    runs = tmp_path / RUNS_DIR
    dead, alive = runs / "111-dead", runs / "222-alive"
    for folder in (dead, alive):
        folder.mkdir(parents=True)
        (folder / ALIVE).touch()
        (folder / "tagged.mp3").write_bytes(b"half")
    fd = os.open(alive / ALIVE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the live run holds it
        with scratch(tmp_path):
            assert not dead.exists() and (alive / "tagged.mp3").exists()
    finally:
        os.close(fd)
