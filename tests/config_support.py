"""Shared by the config, new and demo tests: a copy of the demo workspace in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from media_pipeline.config.frontmatter import FrontMatterLoader, split_front_matter

REPO = Path(__file__).resolve().parent.parent
WORKSPACE_PARTS = ("media-pipeline.toml", "feeds", "episodes", "artwork", "transcripts")


def copy_workspace(dest: Path, *, placeholders: bool = True) -> Path:
    """Copy the demo workspace's files to `dest`.

    With `placeholders`, each episode's source recording is created as an empty file: the loader
    only checks that the source exists, and generating real media here would be slow.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKSPACE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            shutil.copy2(source, dest / part)
    if placeholders:
        for episode in (dest / "episodes").glob("*/*.md"):
            source = front_matter(episode)["source"]
            (dest / source).parent.mkdir(parents=True, exist_ok=True)
            (dest / source).touch()
    return dest


def front_matter(path: Path) -> dict:
    parts = split_front_matter(path.read_text(encoding="utf-8"))
    assert parts is not None, f"{path} has no front matter"
    return yaml.load(parts[0], Loader=FrontMatterLoader)


def write_episode(ws_root: Path, show: str, name: str, front: str, body: str = "Notes.") -> Path:
    path = ws_root / "episodes" / show / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n{body}\n", encoding="utf-8")
    return path
