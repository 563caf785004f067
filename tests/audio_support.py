"""Shared by the audio tests: a tiny workspace, independent measurement, CLI runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from media_pipeline.audio import ffmpeg
from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.model import Loudness

from cli_support import invoke

SHOW_TOML = """\
title = "Testiohjelma"
description = "Ohjelma testejä varten."
language = "fi"
author = "AuroraAI-ohjelma"
link = "https://example.org/"
artwork = "cover.png"

[owner]
name = "AuroraAI-ohjelma"
email = "podcast@example.org"

[audio]
{audio}
"""

EPISODE_MD = """\
---
title: "Jakso {slug}"
publish_at: 2026-03-05T09:00:00+02:00
source: {source}
---
Jakson muistiinpanot.
"""


def independent_loudness(path: Path) -> Loudness:
    """Measure with ffmpeg's ebur128=peak=true directly, without the project's measuring code
    (framelog=verbose keeps the per-frame lines out of stderr on every ffmpeg from 4.4 on)."""
    result = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0",
                             "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                            capture_output=True, text=True, check=True)
    summary = result.stderr[result.stderr.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    lra = float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return Loudness(integrated=integrated, lra=lra, true_peak=peak)


def stream_hash(path: Path, selector: str = "0:v") -> str:
    """SHA-256 of every packet of the selected streams, copied (never decoded)."""
    result = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
                             "-map", selector, "-c", "copy", "-f", "streamhash", "-hash", "sha256", "-"],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def make_workspace(root: Path, audio: str = "", show: str = "testi") -> Path:
    """A minimal workspace with one show; episodes are added with `add_episode`."""
    (root / "feeds").mkdir(parents=True)
    (root / "episodes" / show).mkdir(parents=True)
    (root / "media-pipeline.toml").write_text('storage = "file://./public"\n', encoding="utf-8")
    (root / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # the loader only needs it to exist
    (root / "feeds" / f"{show}.toml").write_text(SHOW_TOML.format(audio=audio), encoding="utf-8")
    return root


def add_episode(root: Path, slug: str, source: Path, show: str = "testi") -> Path:
    path = root / "episodes" / show / f"{slug}.md"
    path.write_text(EPISODE_MD.format(slug=slug, source=json.dumps(str(source))), encoding="utf-8")
    return path


def load(root: Path, ref: str):
    """(workspace, show, episode) for `SHOW/SLUG`, loaded as the commands load them."""
    ws = load_workspace(root, environ={})
    catalog, problems = load_catalog(ws)
    assert not problems, problems
    episode = catalog.find_episode(ref)
    return ws, catalog.shows[episode.show], episode


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The command line in-process, without MEDIA_PIPELINE_* settings other than the ffmpeg to use."""
    keep = os.environ.get(ffmpeg.ENV_FFMPEG)
    result = invoke("--root", str(root), *args, strip_env=("MEDIA_PIPELINE_",), env={ffmpeg.ENV_FFMPEG: keep})
    return subprocess.CompletedProcess(["media-pipeline", *args], result.returncode, result.stdout, result.stderr)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def reads(argv: list[str]) -> list[str]:
    """The files an ffmpeg run reads: its `-i` inputs, or the files its graph decodes (`amovie`)."""
    text = " ".join(map(str, argv))
    inside = re.findall(r"amovie=filename=([^:,]+)", text)  # (the test's paths need no escaping)
    return inside or [str(argv[i + 1]) for i, a in enumerate(argv) if a == "-i" and argv[i - 1] != "lavfi"]

