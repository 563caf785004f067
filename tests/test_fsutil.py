"""The one atomic-write helper: whole files or none, one temporary-name rule, one file-mode rule."""

from __future__ import annotations

import os
import stat

import pytest

from media_pipeline.model import Workspace
from media_pipeline.util.fsutil import atomic_write, display_path, replacing, temp_name_pattern


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
