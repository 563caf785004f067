"""A full disk, a name too long, a refused folder: one line naming the path and what was being
written, the run going on where it can, nothing half-written public, and a later run on free space
giving the tree a run never interrupted gives.

The full disks are real: small tmpfs file systems mounted over the storage folder and over the
build cache, and one remounted read-only for a refused folder (mounting needs root; elsewhere
those tests are skipped, and a folder without write permission stands in for the refusal).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from check_support import SHOW, SHOW_TOML, make_workspace, write_episode
from publish_support import run_cli

OTHER = "toinen"
NOW = "2026-03-10T12:00"


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def small_fs():
    """mount(folder, kilobytes): a tmpfs of that size over `folder`; `grow(folder)` makes it roomy."""
    if not can_mount():
        pytest.skip("mounting a small file system needs root")
    mounted: list[Path] = []

    def mount(folder: Path, kilobytes: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    def grow(folder: Path) -> None:
        subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True)

    mount.grow = grow  # type: ignore[attr-defined]
    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def two_shows(root: Path) -> Path:
    """Two shows, three episodes, every guid written in the files (so two workspaces made alike
    publish alike)."""
    root.mkdir(parents=True)
    make_workspace(root)
    (root / "feeds" / f"{OTHER}.toml").write_text(SHOW_TOML.format(email="toinen@example.fi", extra=""),
                                                  encoding="utf-8")
    write_episode(root, "01", {"title": "Toisen ohjelman jakso", "publish_at": "2026-02-03T09:00:00+02:00"},
                  show=OTHER)
    for path in sorted((root / "episodes").glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        guid = uuid.uuid5(uuid.NAMESPACE_URL, path.name)
        path.write_text(text.replace("---\n\n", f"guid: {guid}\n---\n\n", 1), encoding="utf-8")
    return root


def tree(folder: Path) -> dict[str, object]:
    """Every file under `folder` with its bytes; the local store's metadata sidecars without the
    modification time they record (the lock file aside: it is empty)."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or path.name == ".lock":
            continue
        if name.startswith("_private/meta/"):
            out[name] = {k: v for k, v in json.loads(path.read_bytes()).items() if k != "mtime_ns"}
        else:
            out[name] = path.read_bytes()
    return out


def assert_nothing_half_written(public: Path) -> None:
    """No temporary file left, and every feed stored names only files stored whole."""
    assert not [p for p in public.rglob("*") if p.name.endswith(".part") or p.name.startswith(".tmp")]
    for feed in public.glob("*/feed.xml"):
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        for entry in parsed.entries:
            for enclosure in entry.enclosures:
                stored = public / urlsplit(enclosure.href).path.lstrip("/")
                assert stored.is_file() and stored.stat().st_size == int(enclosure.length), enclosure.href


def reference(tmp_path: Path) -> dict[str, bytes]:
    root = two_shows(tmp_path / "never-interrupted")
    result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    assert result.code == 0, result.err
    return tree(root / "public")


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_local_storage_on_a_full_disk_says_where_and_a_later_run_converges(tmp_path, small_fs):
    root = two_shows(tmp_path / "ws")
    public = small_fs(root / "public", 300)
    result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    assert result.code == 1
    assert "unexpected" not in result.err and "Traceback" not in result.err
    lines = error_lines(result.err)
    assert lines and all("no space left on device (storing " in line and str(public) in line for line in lines), lines
    assert_nothing_half_written(public)

    small_fs.grow(public)
    result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    assert result.code == 0, result.err
    assert tree(public) == reference(tmp_path)


def test_a_full_build_cache_fails_the_episodes_it_stops_and_a_later_run_converges(tmp_path, small_fs):
    root = two_shows(tmp_path / "ws")
    cache = small_fs(root / ".media-pipeline" / "cache", 64)
    result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    assert result.code == 1
    assert "unexpected" not in result.err and "Traceback" not in result.err
    lines = error_lines(result.err)
    assert lines and all(str(cache) in line and "no space left on device" in line for line in lines), lines
    if (root / "public").exists():
        assert_nothing_half_written(root / "public")

    small_fs.grow(cache)
    result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    assert result.code == 0, result.err
    assert tree(root / "public") == reference(tmp_path)


def test_a_read_only_storage_folder_of_one_show_stops_that_show_alone(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    root = two_shows(tmp_path / "ws")
    (root / "public" / SHOW).mkdir(parents=True)
    (root / "public" / SHOW).chmod(0o555)
    try:
        result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    finally:
        (root / "public" / SHOW).chmod(0o755)
    assert result.code == 1
    assert f"{OTHER}/01: live, 5 file(s) uploaded" in result.lines
    lines = error_lines(result.err)
    assert lines and all("permission denied" in line and f"public/{SHOW}/" in line for line in lines), lines


def test_a_slug_too_long_for_a_file_name_is_one_line(tmp_path):
    root = make_workspace(tmp_path)
    result = run_cli(root, "new", SHOW, "--slug", "a" * 300)
    assert result.code == 1
    assert "unexpected" not in result.err
    [line] = error_lines(result.err)
    assert f"episodes/{SHOW}/{'a' * 300}.md: slug: " in line and "characters" in line
    assert not list((root / "episodes" / SHOW).glob("a*"))


def test_a_read_only_storage_folder_stops_its_show_alone_and_says_where(tmp_path, small_fs):
    """As root a folder's permissions refuse nothing, so the refusal is a file system mounted
    read-only over one show's storage folder."""
    root = two_shows(tmp_path / "ws")
    folder = small_fs(root / "public" / SHOW, 4096)
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    result = run_cli(root, "publish", "--all", "--now", NOW, "--no-notify")
    assert result.code == 1
    assert "unexpected" not in result.err and "Traceback" not in result.err
    assert f"{OTHER}/01: live, 5 file(s) uploaded" in result.lines
    lines = error_lines(result.err)
    assert lines and all("read-only file system (storing " in line and str(folder) in line for line in lines), lines
