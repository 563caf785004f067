"""Demo source media: writes the recording every demo episode names under `media/`, synthesised.

The recordings are never committed; they are generated on each machine, the same every time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

import yaml

from media_pipeline.config.frontmatter import FrontMatterLoader, split_front_matter
from media_pipeline.config.load import episode_paths, load_workspace, show_slugs
from media_pipeline.errors import PipelineError
from media_pipeline.model import Workspace
from media_pipeline.util.fsutil import replacing
from media_pipeline_demo import synth

log = logging.getLogger(__name__)

MEDIA_DIR = "media"
_VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


@dataclass(frozen=True)
class Recipe:
    """How one recording is synthesised: length, loudness, channels and noise seed."""

    seconds: float
    level_lufs: float
    channels: int = 2
    seed: int = 1


# The demo episodes' recordings, deliberately unlike each other and unlike the shows' targets
# (-19 and -16 LUFS), so a run shows the normaliser lifting quiet and taming loud sources, in
# every input format the pipeline reads. Each lasts past its last chapter and transcript cue.
RECIPES: dict[str, Recipe] = {
    "media/ihmiskeskeisyys/001.wav": Recipe(seconds=40, level_lufs=-28, channels=1, seed=1),
    "media/ihmiskeskeisyys/002.flac": Recipe(seconds=35, level_lufs=-22, channels=2, seed=2),
    "media/ihmiskeskeisyys/003.mp3": Recipe(seconds=30, level_lufs=-31, channels=1, seed=3),
    "media/tekoalywebinaarit/01.mp4": Recipe(seconds=45, level_lufs=-24, seed=4),
    "media/tekoalywebinaarit/02.mp4": Recipe(seconds=30, level_lufs=-30, seed=5),
}


def default_recipe(source: str) -> Recipe:
    """For an episode added with `new`: 30 seconds at -23 LUFS, seeded by its path (stable)."""
    return Recipe(seconds=30, level_lufs=-23, seed=zlib.crc32(source.encode("utf-8")) % 1000 + 1)


def demo_sources(ws: Workspace) -> list[str]:
    """The `source` of every episode file that points into `media/`, as written (relative, POSIX).

    Read straight from the front matter rather than through the loader, which rightly refuses an
    episode whose source does not exist yet: that is the state this module exists to fix.
    """
    sources: list[str] = []
    for show in show_slugs(ws):
        for path in episode_paths(ws, show):
            parts = split_front_matter(path.read_text(encoding="utf-8"))
            try:
                data = yaml.load(parts[0], Loader=FrontMatterLoader) if parts else None
            except yaml.YAMLError:
                data = None
            source = data.get("source") if isinstance(data, dict) else None
            if not isinstance(source, str):
                log.warning("%s: no source to generate; skipped", path)
                continue
            posix = PurePosixPath(source.strip())
            if posix.is_absolute() or "://" in source or ".." in posix.parts or posix.parts[:1] != (MEDIA_DIR,):
                continue  # a real recording somewhere else: not ours to write
            if str(posix) not in sources:
                sources.append(str(posix))
    return sources


def generate_demo_media(ws: Workspace, *, force: bool = False,
                        progress: Callable[[float], None] | None = None) -> list[Path]:
    """Write each demo episode's source recording; existing files are kept unless `force`.

    Returns the paths written. Audio sources get speech at the recipe's loudness in the format
    their suffix names (WAV, FLAC, MP3, ...); video sources get a webinar-like H.264 + AAC MP4.
    """
    sources = demo_sources(ws)
    written: list[Path] = []
    for done, source in enumerate(sources, start=1):
        target = ws.root / source
        if target.exists() and not force:
            log.info("%s: exists; kept", source)
        else:
            recipe = RECIPES.get(source) or default_recipe(source)
            _write(target, recipe)
            log.info("%s: %.0f s at %.0f LUFS", source, recipe.seconds, recipe.level_lufs)
            written.append(target)
        if progress:
            progress(done / len(sources))
    return written


def _write(target: Path, recipe: Recipe) -> None:
    """Synthesise into a temp file beside the target, then rename: never half a recording."""
    with replacing(target) as temp:
        if target.suffix.lower() in _VIDEO_SUFFIXES:
            synth.webinar(temp, recipe.seconds, level_lufs=recipe.level_lufs, seed=recipe.seed)
        else:
            synth.speech(temp, recipe.seconds, level_lufs=recipe.level_lufs, channels=recipe.channels,
                         seed=recipe.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m media_pipeline_demo.demo",
                                     description="Generate the demo episodes' source recordings under media/.")
    parser.add_argument("--root", type=Path, default=None, help="workspace folder (default: found from here up)")
    parser.add_argument("--force", action="store_true", help="rewrite recordings that already exist")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        ws = load_workspace(args.root)
        for path in generate_demo_media(ws, force=args.force):
            print(path.relative_to(ws.root), flush=True)
    except PipelineError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
