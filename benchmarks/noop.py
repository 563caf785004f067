"""Benchmark: a no-op `publish --all` (nothing changed since the last run) for a small and a large show.

Cron runs `publish --all` every few minutes over years of back catalogue, so a run that finds
nothing to do should cost the same for 2 episodes as for 200: read the manifest, see that every
episode's inputs are as they were, write nothing. This builds two workspaces (2 and 200 short
episodes of one show, each with a transcript and chapters, over S3: moto's server on 127.0.0.1
behind a request-counting proxy), publishes each once, then times no-op runs of both, interleaved,
each a fresh `media-pipeline --root WS publish --all` process as cron starts it, and reports the
medians, their ratio (target: at most 2) and the storage requests each no-op run made (target:
equal). It also times the same call in-process (`publish()` without the interpreter's start-up).

    python benchmarks/noop.py                       # 2 and 200 episodes, 7 runs each
    python benchmarks/noop.py --sizes 2 40 200 --repeat 9 --keep /tmp/noop-bench

With --keep the workspaces (and their first publish, the slow part: every episode is encoded
once) are kept in that folder and reused by the next run with the same sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the counting proxy the storage tests use

SHOW = "penkki"
SHOW_TOML = """\
title = "Penkkiohjelma"
description = "Ohjelma, jolla mitataan tyhjän ajon hinta."
language = "fi"
author = "Mittaaja"
link = "https://example.fi/penkki"
categories = ["Government"]
artwork = "artwork/show.jpg"
explicit = false

[owner]
name = "Mittaaja"
email = "podcast@example.fi"

[audio]
channels = 1
bitrate = 64
"""
EPISODE = """\
---
title: "Jakso {n}"
publish_at: 2026-01-{day:02d}T09:00:00+02:00
source: media/{slug}.wav
transcript: transcripts/{slug}.vtt
chapters:
  - start: 0
    title: Alku
  - start: 1
    title: Loppu
---

Jakson {n} *muistiinpanot*.
"""
TRANSCRIPT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHyvää huomenta, tämä on jakso {n}.\n"


def build(root: Path, count: int, storage_url: str, public_url: str) -> None:
    """A workspace of `count` two-second mono episodes, distinct recordings of the same length."""
    from conftest import make_jpeg

    from media_pipeline import synth

    (root / "media").mkdir(parents=True)
    (root / "transcripts").mkdir()
    (root / "episodes" / SHOW).mkdir(parents=True)
    (root / "feeds").mkdir()
    (root / "media-pipeline.toml").write_text(
        f'storage = "{storage_url}"\npublic_url = "{public_url}"\ntimezone = "Europe/Helsinki"\n', encoding="utf-8")
    (root / "feeds" / f"{SHOW}.toml").write_text(SHOW_TOML, encoding="utf-8")
    make_jpeg(root / "artwork" / "show.jpg", 1400)
    one = root / "media" / ".one.wav"
    synth.speech(one, 2.0, level_lufs=-24, channels=1, seed=1)
    data = one.read_bytes()
    one.unlink()
    for n in range(1, count + 1):
        slug = f"{n:03d}"
        # distinct bytes (the last sample differs), so no two episodes share a source digest
        (root / "media" / f"{slug}.wav").write_bytes(data[:-2] + n.to_bytes(2, "little"))
        (root / "transcripts" / f"{slug}.vtt").write_text(TRANSCRIPT.format(n=n), encoding="utf-8")
        (root / "episodes" / SHOW / f"{slug}.md").write_text(
            EPISODE.format(n=n, slug=slug, day=1 + n % 28), encoding="utf-8")
