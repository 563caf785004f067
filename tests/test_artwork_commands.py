"""Apple's artwork rules as producers meet them: `check` names each file and rule; `publish`
fixes what it can (too large, transparency) and publishes a compliant JPEG."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import SHOW_TOML
from PIL import Image

from cli_support import invoke


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    result = invoke("--root", str(root), *args)
    return subprocess.CompletedProcess(["media-pipeline", *args], result.returncode, result.stdout, result.stderr)


def image(path: Path, size: tuple[int, int], mode: str = "RGB", fmt: str = "JPEG") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = {"RGB": (30, 90, 160), "RGBA": (30, 90, 160, 128), "CMYK": (80, 20, 0, 10)}[mode]
    Image.new(mode, size, colour).save(path, fmt)
    return str(path.relative_to(path.parents[1]))


def show_with_art(workspace, slug: str, art: str) -> None:
    workspace.write(f"feeds/{slug}.toml", SHOW_TOML.replace('artwork = "artwork/show.jpg"', f'artwork = "{art}"'))


def test_check_names_each_artwork_file_and_rule(workspace):
    show_with_art(workspace, "pieni", image(workspace.root / "artwork" / "pieni.jpg", (1000, 1000)))
    show_with_art(workspace, "levea", image(workspace.root / "artwork" / "levea.jpg", (4000, 3000)))
    show_with_art(workspace, "cmyk", image(workspace.root / "artwork" / "cmyk.jpg", (1400, 1400), "CMYK"))
    result = run(workspace.root, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()

    def reported(file: str, rule: str) -> bool:
        return any(line.count(file) and rule in line for line in lines)

    assert reported("artwork/pieni.jpg", "is 1000x1000 px; Apple Podcasts needs 1400 to 3000 px")
    assert reported("artwork/levea.jpg", "is 4000x3000 px; Apple Podcasts needs square artwork")
    assert reported("artwork/levea.jpg", "Apple Podcasts needs 1400 to 3000 px")
    assert reported("artwork/cmyk.jpg", "uses the CMYK colour space; Apple Podcasts needs RGB")


def test_publish_turns_a_large_transparent_png_into_a_3000_px_rgb_jpeg(workspace):
    show_with_art(workspace, "testi", image(workspace.root / "artwork" / "iso.png", (4000, 4000), "RGBA", "PNG"))
    workspace.episode("001", seconds=4)
    assert run(workspace.root, "check").returncode == 1  # the source itself breaks the rules
    result = run(workspace.root, "publish", "--all")
    assert result.returncode == 0, result.stderr
    feed = (workspace.root / "public" / "testi" / "feed.xml").read_text(encoding="utf-8")
    assert '<itunes:image href="http://127.0.0.1:8000/testi/artwork.jpg"/>' in feed
    with Image.open(workspace.root / "public" / "testi" / "artwork.jpg") as art:
        assert (art.format, art.size, art.mode) == ("JPEG", (3000, 3000), "RGB")
