"""Shared by the tagging, chapters and artwork tests: images, a show and episode, independent readers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from media_pipeline.audio import ffmpeg
from media_pipeline.model import Chapter, Episode, Owner, Person, Show


def make_image(path: Path, width: int, height: int | None = None, *, mode: str = "RGB",
               fmt: str | None = None, noise: bool = True) -> Path:
    """Write a picture with gradients, shapes and (optionally) grain, like real cover art.

    `mode` is a Pillow mode ("RGB", "RGBA" with a transparent border, "CMYK", "L", ...); `fmt`
    defaults to the suffix's format. Grain makes JPEGs as large as photographs are.
    """
    height = height or width
    gradient = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    base = Image.merge("RGB", (gradient, radial, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    draw = ImageDraw.Draw(base)
    for i in range(6):
        box = (width * i // 8, height * i // 9, width * (i + 3) // 8, height * (i + 2) // 6)
        draw.ellipse(box, outline=(255 - 30 * i, 40 * i, 200), width=max(2, width // 150))
    if noise:
        # grain made at half size and scaled up: as costly to compress, a quarter of the time to make
        grain = Image.effect_noise((max(1, width // 2), max(1, height // 2)), 48)
        grain = grain.resize((width, height), Image.Resampling.NEAREST).convert("RGB")
        base = Image.blend(base, grain, 0.25)
    if mode == "RGBA":
        img = base.convert("RGBA")
        alpha = Image.new("L", (width, height), 0)
        ImageDraw.Draw(alpha).ellipse((width // 10, height // 10, width * 9 // 10, height * 9 // 10), fill=255)
        img.putalpha(alpha)
    else:
        img = base.convert(mode)
    path = Path(path)
    img.save(path, fmt or Image.registered_extensions()[path.suffix.lower()], quality=90, compress_level=1)
    return path


def demo_show(artwork: Path, **changes) -> Show:
    values = dict(
        slug="ihmiskeskeisyys", path=Path("feeds/ihmiskeskeisyys.toml"),
        title="Näkökulmia ihmiskeskeisyyteen",
        description="AuroraAI-ohjelman podcast ihmiskeskeisyydestä julkisissa palveluissa.",
        language="fi", author="AuroraAI-ohjelma", owner=Owner("AuroraAI-ohjelma", "osaaminen@example.fi"),
        categories=(), artwork=artwork, link="https://example.fi/ihmiskeskeisyys",
        copyright="© 2026 AuroraAI-ohjelma", license="CC BY 4.0",
        license_url="https://creativecommons.org/licenses/by/4.0/",
        persons=(Person("Ohjelman Juontaja", role="host"),), keywords=("tekoäly", "ihmiskeskeisyys"),
    )
    values.update(changes)
    return Show(**values)


def demo_episode(**changes) -> Episode:
    values = dict(
        show="ihmiskeskeisyys", slug="003-palvelupolut", path=Path("episodes/ihmiskeskeisyys/003-palvelupolut.md"),
        title="Palvelupolut ja elämäntapahtumat",
        publish_at=dt.datetime(2026, 3, 15, 0, 30, tzinfo=ZoneInfo("Europe/Helsinki")),
        source=Path("media/003.wav"),
        notes=("Miten **elämäntapahtumat** ohjaavat julkisten palveluiden suunnittelua?\n\n"
               "Vieraana [Sari Esimerkki](https://example.fi/sari). Keskustelu jatkuu Slackissa "
               "kanavalla #osaaminen."),
        number=3, season=1,
        persons=(Person("Ohjelman Juontaja", role="host"), Person("Sari Esimerkki", role="guest")),
        chapters=(Chapter(0.0, "Alku"), Chapter(3.217, "Elämäntapahtumat", url="https://example.fi/el"),
                  Chapter(6.5, "Yhteenveto ja kiitokset")),
    )
    values.update(changes)
    return Episode(**values)


def ffmetadata(path: Path, *, copyts: bool = False) -> tuple[dict[str, str], list[dict], str]:
    """ffmpeg's own reading of a file: (global metadata, chapters, stderr listing).

    With `copyts` ffmpeg keeps the file's own times instead of shifting everything by the first
    audio packet's time (an MP3's encoder delay, ~23 ms), which is what chapter times are against.
    """
    args = (["-copyts"] if copyts else []) + ["-i", path, "-f", "ffmetadata", "-"]
    result = ffmpeg.run(args, what=path, capture_stdout=True)
    text = result.stdout.decode("utf-8")
    assert text.startswith(";FFMETADATA1")
    meta: dict[str, str] = {}
    chapters: list[dict] = []
    current = meta
    for line in _logical_lines(text):
        if not line or line.startswith(";"):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = {}
            chapters.append(current)
            continue
        key, value = re.match(r"((?:[^=\\]|\\.)*)=(.*)", line, flags=re.S).groups()
        current[_unescape(key)] = _unescape(value)
    for chapter in chapters:
        num, den = (int(x) for x in chapter["TIMEBASE"].split("/"))
        chapter["start"] = int(chapter["START"]) * num / den
        chapter["end"] = int(chapter["END"]) * num / den
    return meta, chapters, result.stderr


def _logical_lines(text: str) -> list[str]:
    """Lines of an ffmetadata file, with escaped newlines (a backslash ending a line) kept in values."""
    lines, pending = [], ""
    for raw in text.split("\n"):
        pending += raw
        trailing = len(pending) - len(pending.rstrip("\\"))
        if trailing % 2:
            pending += "\n"
            continue
        lines.append(pending)
        pending = ""
    return lines


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def extract_cover(path: Path, out: Path) -> bytes:
    """The attached picture as ffmpeg demuxes it (stream copy, so the embedded bytes)."""
    ffmpeg.run(["-i", path, "-map", "0:v", "-map", "-0:V", "-c", "copy", "-frames:v", "1", "-f", "image2",
                "-y", out], what=path)
    return out.read_bytes()


def stream_hash(path: Path, spec: str) -> str:
    """SHA-256 of the packets of stream(s) `spec` as ffmpeg demuxes them."""
    out = ffmpeg.run(["-i", path, "-map", spec, "-c", "copy", "-f", "hash", "-hash", "sha256", "-"],
                     what=path, capture_stdout=True).stdout.decode().strip()
    assert out.startswith("SHA256="), out
    return out


def mpeg_audio_bytes(path: Path) -> bytes:
    """The MPEG audio frames of an MP3: everything between the ID3v2 tag(s) and an ID3v1 trailer."""
    data = Path(path).read_bytes()
    start = 0
    while data[start:start + 3] == b"ID3":
        size = 0
        for byte in data[start + 6:start + 10]:  # syncsafe: 7 bits a byte
            size = (size << 7) | (byte & 0x7F)
        start += 10 + size + (10 if data[start + 5] & 0x10 else 0)
    end = len(data) - 128 if data[-128:-125] == b"TAG" else len(data)
    assert data[start] == 0xFF and data[start + 1] & 0xE0 == 0xE0, "no MPEG frame sync after the tag"
    return data[start:end]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
