"""The build cache keeps one entry per episode: superseded entries go, unless a live run still uses them."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from media_pipeline.audio import process
from media_pipeline_demo import synth

from audio_support import add_episode, load, make_workspace

TESTS = Path(__file__).parent
ENTRY = re.compile(r"[0-9a-z-]+-[0-9a-f]{20}")


def entries(show_dir: Path) -> list[str]:
    """Entry folders in a show's cache folder (hidden staging folders and the lock file left out)."""
    return sorted(p.name for p in show_dir.iterdir() if ENTRY.fullmatch(p.name))


def set_target(root: Path, lufs: float) -> None:
    toml = root / "feeds" / "testi.toml"
    text = re.sub(r"\ntarget_lufs = .*", "", toml.read_text())
    toml.write_text(text.replace("[audio]", f"[audio]\ntarget_lufs = {lufs}"))


def test_a_changed_setting_leaves_only_the_new_entry(tmp_path: Path, caplog) -> None:
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "001", synth.speech(tmp_path / "speech.wav", 5.0, level_lufs=-22.0))
    ws, show, episode = load(root, "testi/001")
    first = process.process_episode(ws, show, episode)
    old = first.renditions[0].path.parent
    show_dir = old.parent
    # what runs with other settings left: one still building (young), one killed two days ago
    building = show_dir / f".001-{'a' * 20}.x1.tmp"
    killed = show_dir / f".001-{'b' * 20}.x2.tmp"
    for staging in (building, killed):
        staging.mkdir()
        (staging / "001.mp3").write_bytes(b"part of a file")
    os.utime(killed, (time.time() - 2 * 86400,) * 2)

    set_target(root, -19.0)
    ws, show, episode = load(root, "testi/001")
    caplog.set_level(logging.INFO, logger="media_pipeline")
    caplog.clear()
    second = process.process_episode(ws, show, episode)
    new = second.renditions[0].path.parent
    assert not second.cached and caplog.text.count("audio work: testi/001") == 1
    assert entries(show_dir) == [new.name] != [old.name]
    assert not old.exists() and all(r.path.is_file() for r in second.renditions)
    assert f"cache: removed {old}, superseded" in caplog.text
    assert building.is_dir() and not killed.exists(), "a young staging folder may be a concurrent build"
    assert not [p for p in show_dir.iterdir() if ".removing-" in p.name]

    caplog.clear()
    third = process.process_episode(ws, show, episode)
    assert third.cached and third.renditions == second.renditions
    assert "audio work" not in caplog.text, "the same settings again: no audio work"
    assert entries(show_dir) == [new.name] and "removed" not in caplog.text


def test_an_episode_whose_slug_is_a_prefix_of_another_leaves_the_others_entries(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "001", synth.speech(tmp_path / "a.wav", 5.0, level_lufs=-22.0))
    add_episode(root, "001-extra", synth.speech(tmp_path / "b.wav", 5.0, level_lufs=-22.0, seed=3))
    ws, show, short = load(root, "testi/001")
    _, _, extra = load(root, "testi/001-extra")
    extra_entry = process.process_episode(ws, show, extra).renditions[0].path.parent
    old = process.process_episode(ws, show, short).renditions[0].path.parent
    assert extra_entry.name.startswith("001-extra-")

    synth.speech(tmp_path / "a.wav", 5.0, level_lufs=-22.0, seed=2)  # 001 is recorded again
    new = process.process_episode(ws, show, short)
    assert not new.cached
    assert entries(old.parent) == sorted([extra_entry.name, new.renditions[0].path.parent.name])
    assert process.process_episode(ws, show, extra).cached, "the other episode needs no audio work"


HOLDER = """
import sys
from pathlib import Path
from audio_support import load
from media_pipeline.audio import process
ws, show, episode = load(Path(sys.argv[1]), "testi/001")
result = process.process_episode(ws, show, episode)
print(result.cached, result.renditions[0].path.parent, flush=True)
sys.stdin.readline()  # publish would now copy the renditions out of the entry
print(all(r.path.read_bytes() for r in result.renditions), flush=True)
"""


def test_an_entry_another_live_run_was_handed_is_kept_until_that_run_ends(tmp_path: Path, caplog) -> None:
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "001", synth.speech(tmp_path / "speech.wav", 5.0, level_lufs=-22.0))
    ws, show, episode = load(root, "testi/001")
    old = process.process_episode(ws, show, episode).renditions[0].path.parent

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().split() == ["True", str(old)], "the other run had a cache hit"
        set_target(root, -19.0)
        ws, show, episode = load(root, "testi/001")
        caplog.set_level(logging.INFO, logger="media_pipeline")
        new = process.process_episode(ws, show, episode).renditions[0].path.parent
        assert entries(old.parent) == sorted([old.name, new.name])
        assert f"cache: kept {old}, superseded but in use by another run" in caplog.text
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "True", "the other run could still read its renditions"
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0

    caplog.clear()
    assert process.process_episode(ws, show, episode).cached
    assert entries(old.parent) == [new.name] and f"cache: removed {old}" in caplog.text
