"""Helpers of the video tests: a 1080p slide webinar in a workspace, and independent readings of
an MP4 (ffprobe's JSON, the moov's place, ebur128)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from media_pipeline_demo import synth

# The slides of the generated webinar change at these times (seconds).
SLIDE_CHANGES = (4.0, 8.0)
SECONDS = 12.0

WEBINAR_TOML = """\
title = "Webinaarit"
description = "Webinaareja testejä varten."
language = "fi"
author = "Testaaja"
link = "https://example.fi/webinaarit"
categories = ["Government"]
artwork = "artwork/show.jpg"
explicit = false
medium = "podcast"

[owner]
name = "Testaaja"
email = "podcast@example.fi"

[audio]
target_lufs = -16.0
true_peak = -1.0
"""


def slide_webinar(workspace, slug: str = "01", *, toml: str = WEBINAR_TOML, extra: str = "",
                  make=None) -> Path:
    """A show `webinaari` with one episode whose source is a 1080p slide webinar (made once per
    session, copied), or what `make(path)` writes."""
    workspace.show("webinaari", toml)
    source = workspace.root / "media" / "webinaari" / f"{slug}.mp4"
    source.parent.mkdir(parents=True, exist_ok=True)
    if make is not None:
        make(source)
    else:
        made = workspace.sources / "slides-webinar-1080p.mp4"
        if not made.exists():
            synth.slides_webinar(made, SECONDS, SLIDE_CHANGES)
        shutil.copyfile(made, source)
    return workspace.write(f"episodes/webinaari/{slug}.md",
                           f"---\ntitle: \"Webinaari {slug}\"\npublish_at: 2026-01-15T09:00:00+02:00\n"
                           f"source: {source.relative_to(workspace.root)}\n{extra}---\n\nMuistiinpanot.\n")


def ffprobe(path: Path) -> dict:
    """ffprobe's own reading of streams and format, as JSON."""
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                          str(path)], check=True, capture_output=True).stdout
    return json.loads(out)


def moov_before_mdat(path: Path) -> bool:
    """True when the file's top-level `moov` box comes before its `mdat` (faststart)."""
    order = []
    with open(path, "rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                break
            size, kind = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(fh.read(8), "big")
                fh.seek(size - 16, 1)
            elif size == 0:
                order.append(kind)
                break
            else:
                fh.seek(size - 8, 1)
            order.append(kind)
    return "moov" in order and "mdat" in order and order.index("moov") < order.index("mdat")


def integrated_loudness(path: Path) -> float:
    """Integrated loudness of the file's audio by ffmpeg's ebur128 filter, read from its summary."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
                          "-af", "ebur128", "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = err[err.rindex("Summary:"):]
    line = next(ln for ln in summary.splitlines() if ln.strip().startswith("I:"))
    return float(line.split()[1])
