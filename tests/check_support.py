"""A producer's workspace on disk for lint and check tests: one show, real artwork, media and transcripts."""

from __future__ import annotations

from pathlib import Path

import yaml

from media_pipeline.audio import ffmpeg
from media_pipeline_demo import synth

SHOW = "ihmiskeskeisyys"

SHOW_TOML = """title = "Näkökulmia ihmiskeskeisyyteen"
description = "AuroraAI-ohjelman podcast ihmiskeskeisyydestä ja tekoälystä julkisissa palveluissa."
language = "fi"
author = "AuroraAI-ohjelma"
categories = ["Government", "Education > Courses"]
artwork = "feeds/ihmiskeskeisyys.jpg"
link = "https://example.fi/ihmiskeskeisyys"
license = "cc-by-4.0"
{extra}

[owner]
name = "AuroraAI-ohjelma"
email = "{email}"

[funding]
url = "https://example.fi/auroraai"
text = "Tietoa AuroraAI-ohjelmasta"

[[persons]]
name = "Maria Virtanen"
role = "host"
"""

TRANSCRIPT = """1
00:00:00,000 --> 00:00:01,500
Tervetuloa.

2
00:00:01,500 --> 00:00:02,900
Kiitos kuuntelemisesta.
"""


def image(path: Path, width: int, height: int) -> Path:
    """A solid-colour JPEG or PNG (by suffix) written by ffmpeg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg.run(["-f", "lavfi", "-i", f"color=c=0x1d5c8c:s={width}x{height}", "-frames:v", "1",
                "-update", "1", "-y", path], what=path)
    return path


def make_workspace(root: Path, *, email: str = "podcast@example.fi", extra: str = "") -> Path:
    """A valid workspace with two episodes, each with source media and an SRT transcript."""
    (root / "media-pipeline.toml").write_text('storage = "file://./public"\npublic_url = "https://media.example.fi"\n',
                                              encoding="utf-8")
    (root / "feeds").mkdir()
    (root / "feeds" / f"{SHOW}.toml").write_text(SHOW_TOML.format(email=email, extra=extra), encoding="utf-8")
    image(root / "feeds" / f"{SHOW}.jpg", 1400, 1400)
    (root / "media").mkdir()
    synth.speech(root / "media" / "puhe.wav", 3.0)
    (root / "media" / "puhe.srt").write_text(TRANSCRIPT, encoding="utf-8")
    write_episode(root, "001-ihmiskeskeisyys", {"title": "Jakso 1: mitä ihmiskeskeisyys on", "number": 1,
                                                 "season": 1, "publish_at": "2026-02-03T09:00:00+02:00"})
    write_episode(root, "002-elamantapahtumat", {"title": "Jakso 2: elämäntapahtumat", "number": 2, "season": 1,
                                                  "publish_at": "2026-03-03T09:00:00+02:00",
                                                  "chapters": [{"start": "00:00:00", "title": "Alku"},
                                                               {"start": "00:00:02", "title": "Loppu"}]})
    return root


def write_episode(root: Path, slug: str, front: dict, notes: str = "Jakson muistiinpanot.\n", *,
                  show: str = SHOW, defaults: bool = True) -> Path:
    data = {"source": "media/puhe.wav", "transcript": "media/puhe.srt"} if defaults else {}
    data.update(front)
    data = {k: v for k, v in data.items() if v is not None}
    path = root / "episodes" / show / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{yaml.safe_dump(data, allow_unicode=True, sort_keys=False)}---\n\n{notes}", encoding="utf-8")
    return path
