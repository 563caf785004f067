"""`media-pipeline check` on a workspace on disk, as the command line runs it."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest

from check_support import SHOW, make_workspace, write_episode
from cli_support import invoke


def check(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`media-pipeline --root ROOT check ARGS` from `cwd`, run in this process (tests/cli_support.py)."""
    with contextlib.chdir(cwd or root):
        result = invoke("--root", str(root), "check", *args)
    return subprocess.CompletedProcess(["media-pipeline", "check", *args], result.returncode, result.stdout,
                                       result.stderr)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("clean"))


def test_broken_episode_file_exits_1_naming_the_file_and_each_problem(tmp_path):
    root = make_workspace(tmp_path)
    write_episode(root, "003-rikki", {"publish_at": "ensi tiistaina", "number": 3, "kuvaus": "tuntematon avain"})
    before = snapshot(root)
    result = check(root)
    assert result.returncode == 1, result
    out = result.stdout.splitlines()
    file = f"episodes/{SHOW}/003-rikki.md"
    assert f"{file}: kuvaus: unknown key" in out
    assert f"{file}: title: is required" in out
    assert any(line.startswith(f"{file}: publish_at: cannot read 'ensi tiistaina'") for line in out)
    assert len([line for line in out if line.startswith(file)]) == 3, out
    assert "1 show(s), 2 valid episode(s) checked: 3 error(s), 0 warning(s)" in result.stderr
    assert snapshot(root) == before  # no side effects: nothing written, not even a cache


def test_clean_workspace_exits_0(clean):
    before = snapshot(clean)
    result = check(clean)
    assert (result.returncode, result.stdout) == (0, ""), result
    assert "1 show(s), 2 valid episode(s) checked: 0 error(s), 0 warning(s)" in result.stderr
    assert snapshot(clean) == before


def test_warnings_pass_unless_strict(tmp_path):
    root = make_workspace(tmp_path)
    write_episode(root, "003-ilman-tekstia", {"title": "Jakso 3", "number": 3, "transcript": None,
                                              "publish_at": "2026-04-01T09:00:00+03:00"})
    relaxed = check(root)
    line = (f"warning: episodes/{SHOW}/003-ilman-tekstia.md: transcript: has none; an audio episode's page needs "
            "its full text beside the player")
    assert relaxed.returncode == 0 and line in relaxed.stdout.splitlines()
    assert check(root, "--strict").returncode == 1


def test_targets_narrow_the_report(tmp_path):
    root = make_workspace(tmp_path)
    write_episode(root, "003-rikki", {"title": "Rikki", "number": 0, "publish_at": "2026-04-01T09:00:00+03:00"})
    broken = f"episodes/{SHOW}/003-rikki.md"
    assert check(root, f"{SHOW}/001-ihmiskeskeisyys").returncode == 0
    assert check(root, f"{SHOW}/003-rikki").stdout.startswith(f"{broken}: number: must be 1 or more")
    by_path = check(root, broken)
    assert by_path.returncode == 1 and broken in by_path.stdout
    assert check(root, SHOW).returncode == 1
    unknown = check(root, "eioleolemassa")
    assert unknown.returncode == 2 and "neither a show (ihmiskeskeisyys)" in unknown.stderr


def test_problems_in_the_workspace_file_are_reported(tmp_path):
    root = make_workspace(tmp_path)
    (root / "media-pipeline.toml").write_text('storage = "file://./public"\ntimezone = "Mars/Olympus"\n')
    result = check(root)
    assert result.returncode == 1
    assert "media-pipeline.toml: timezone: unknown time zone 'Mars/Olympus'" in result.stderr


def test_hidden_files_in_an_episodes_folder_are_not_episodes(tmp_path):
    """A write a killed run left behind (`.004.<random>.part.md`: `util.fsutil.replacing`) or
    macOS's `._004.md` beside a copied file is not an episode: check passes over them."""
    root = make_workspace(tmp_path)
    assert check(root).returncode == 0
    folder = root / "episodes" / SHOW
    (folder / ".004.x1lml838.part.md").write_text("", encoding="utf-8")  # killed before a byte was written
    (folder / "._004.md").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    result = check(root)
    assert result.returncode == 0, result
    assert ".part.md" not in result.stdout + result.stderr and "._004" not in result.stdout + result.stderr
