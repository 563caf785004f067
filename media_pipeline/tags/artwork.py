"""Podcast artwork: Apple's rules checked, and compliant JPEGs derived for the feed and for embedding
in media files (Pillow). Derived files are deterministic and cached by the source's content hash.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from media_pipeline.errors import MediaError, Problem
from media_pipeline.util import filememo
from media_pipeline.util.fsutil import atomic_write

log = logging.getLogger(__name__)

# Apple Podcasts: artwork is square, 1400 to 3000 px, JPEG or PNG, RGB colour space, no transparency.
MIN_PX = 1400
MAX_PX = 3000
FORMATS = ("JPEG", "PNG")
_SUFFIXES = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}
# Embedded covers: players show at most about 1400 px, and every extra byte is downloaded with
# every episode, so the embedded copy is capped at 1400 px and about 500 KB.
EMBED_PX = 1400
EMBED_MAX_BYTES = 500_000
_QUALITIES = (90, 85, 80, 75, 70, 60, 50, 40)
_RECIPE = "artwork-v1"  # part of the cache key: change it when the derivation changes


@dataclass(frozen=True)
class PreparedArtwork:
    """Compliant copies of one source image."""

    feed: Path  # JPEG, square, at most 3000 px, RGB: what the feed's itunes:image points at
    embed: Path  # JPEG, at most 1400 px and about 500 KB: what goes into APIC / covr


# (source, out_dir) -> (the source's stat when it was prepared, the result): publish asks for the
# same image in several stages, and reading and hashing it each time would be wasted work.
_prepared: dict[tuple[str, str], tuple[filememo.Stamp, PreparedArtwork]] = {}


# Pillow refuses images of more than about 179 million pixels (a "decompression bomb"); Apple's
# largest artwork is 3000x3000 px, so such a file is never usable artwork.
_BOMB = (f"has too many pixels to open safely (over {Image.MAX_IMAGE_PIXELS * 2:,} px); Apple Podcasts "
         "needs 1400 to 3000 px square artwork")


def check_artwork(path: Path, label: str, *, field: str = "artwork", publishing: bool = False) -> list[Problem]:
    """Every way the image at `path` breaks Apple's artwork rules, one Problem per rule.

    `label` is how the file is named to the user (usually its path relative to the workspace).
    Some violations (too large, CMYK, transparency) are fixed by `prepare_artwork` when
    publishing; `check` still reports them, because the source itself is not compliant, and
    with `publishing` they are left out, since what is published will comply.
    """
    def problem(reason: str) -> Problem:
        return Problem(label, field, reason)

    try:
        with Image.open(path) as img:
            fmt, (width, height), mode = img.format, img.size, img.mode
            alpha = _has_alpha(img)
    except FileNotFoundError:
        return [problem("file not found")]
    except Image.DecompressionBombError:
        return [problem(_BOMB)]
    except (UnidentifiedImageError, OSError) as exc:
        return [problem(f"cannot be read as an image ({exc.__class__.__name__}); Apple Podcasts needs JPEG or PNG")]
    problems = []
    if fmt not in FORMATS:
        problems.append(problem(f"is {fmt}; Apple Podcasts needs JPEG or PNG"))
    elif Path(path).suffix.lower() not in _SUFFIXES[fmt]:
        # Apple: the file extension must match the image type
        problems.append(problem(f"is a {fmt} file named {Path(path).suffix or 'without an extension'}; "
                                f"name it {_SUFFIXES[fmt][0]}"))
    if width != height:
        problems.append(problem(f"is {width}x{height} px; Apple Podcasts needs square artwork"))
    if not (MIN_PX <= width <= MAX_PX and MIN_PX <= height <= MAX_PX):
        fixable = min(width, height) > MAX_PX and width == height
        if not (fixable and publishing):
            fix = " (publish derives a 3000 px copy)" if fixable else ""
            problems.append(problem(f"is {width}x{height} px; Apple Podcasts needs {MIN_PX} to {MAX_PX} px{fix}"))
    if mode not in ("RGB", "RGBA", "P") and not publishing:
        problems.append(problem(f"uses the {_colour_space(mode)} colour space; Apple Podcasts needs RGB "
                                "(publish derives an RGB copy)"))
    if alpha and not publishing:
        problems.append(problem("has transparency (an alpha channel); Apple Podcasts needs artwork without it "
                                "(publish derives a flattened copy)"))
    return problems


def prepare_artwork(path: Path, out_dir: Path) -> PreparedArtwork:
    """Derive the feed and embedding copies of `path` into `out_dir`, or reuse them from an earlier run.

    A source that is already compliant JPEG is used byte for byte for the feed. Larger than
    3000 px, PNG, CMYK or transparent sources are converted (flattened on white, sRGB) to JPEG.
    Sources that cannot be fixed without changing the picture (not square, smaller than 1400 px,
    unreadable) raise MediaError naming the file and the rule. Asked again in the same process
    for a file whose stat has not changed, it answers without reading the file.
    """
    memo = (os.path.abspath(path), os.path.abspath(out_dir))
    now = time.time_ns()
    stamp = filememo.stamp(path)
    known = _prepared.get(memo)
    if known and stamp and known[0] == stamp and known[1].feed.exists() and known[1].embed.exists():
        return known[1]
    data = _read(path)
    log.debug("artwork %s: read", path)
    digest = hashlib.sha256(_RECIPE.encode() + data).hexdigest()[:20]
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared = PreparedArtwork(feed=out_dir / f"{digest}.feed.jpg", embed=out_dir / f"{digest}.embed.jpg")
    if not (prepared.feed.exists() and prepared.embed.exists()):
        _derive(path, data, prepared)
    else:
        log.debug("artwork %s: reusing %s", path, digest)
    # Remembered under the stat taken before reading, when that stat is old enough to be trusted
    # (`filememo.settled`): any later change, even one during the read, then shows in the stat and is prepared anew.
    if filememo.settled(stamp, now):
        _prepared[memo] = (stamp, prepared)
    return prepared


def _derive(path: Path, data: bytes, prepared: PreparedArtwork) -> None:
    """Write the feed and embedding copies of the image `data` (read from `path`)."""
    img = _open(path, data)
    width, height = img.size
    if width != height:
        raise MediaError(f"is {width}x{height} px; Apple Podcasts needs square artwork", path=path, field="artwork")
    if width < MIN_PX:
        raise MediaError(f"is {width}x{height} px; Apple Podcasts needs at least {MIN_PX} px", path=path,
                         field="artwork")
    if img.format == "JPEG" and width <= MAX_PX and img.mode == "RGB":
        feed = data  # already compliant: publish exactly what the producer made
    else:
        feed = _jpeg(_rgb(img, path), MAX_PX, max_bytes=None)
        log.info("artwork %s: derived a %d px RGB JPEG for the feed", path, min(width, MAX_PX))
    atomic_write(prepared.feed, feed)
    atomic_write(prepared.embed, embeddable(prepared.feed)[1])
    log.debug("artwork %s: wrote %s and %s", path, prepared.feed.name, prepared.embed.name)


def embeddable(path: Path, *, max_px: int = EMBED_PX, max_bytes: int = EMBED_MAX_BYTES) -> tuple[str, bytes]:
    """(MIME type, bytes) of the image at `path` fit for embedding in a media file.

    Compliant small JPEG or PNG files are embedded as they are; anything else is converted to
    a JPEG of at most `max_px` and, by lowering quality, about `max_bytes`.
    """
    data = _read(path)
    img = _open(path, data)
    if (img.format in FORMATS and max(img.size) <= max_px and len(data) <= max_bytes
            and img.mode == "RGB"):
        return ("image/jpeg" if img.format == "JPEG" else "image/png"), data
    return "image/jpeg", _jpeg(_rgb(img, path), max_px, max_bytes=max_bytes)


def image_info(data: bytes) -> dict:
    """What a reader needs to know about embedded image bytes: MIME type, size in px and bytes."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return {"mime": Image.MIME.get(img.format or "", "application/octet-stream"),
                    "width": img.width, "height": img.height, "bytes": len(data)}
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return {"mime": "application/octet-stream", "width": None, "height": None, "bytes": len(data)}


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read artwork: {exc.strerror}", path=path, field="artwork") from exc


def _open(path: Path, data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Image.DecompressionBombError:
        raise MediaError(_BOMB, path=path, field="artwork") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError("cannot be read as an image; Apple Podcasts needs JPEG or PNG", path=path,
                         field="artwork") from exc
    return img


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info


def _colour_space(mode: str) -> str:
    return {"CMYK": "CMYK", "L": "greyscale", "1": "black-and-white", "LA": "greyscale",
            "I": "greyscale", "I;16": "greyscale", "YCbCr": "YCbCr", "LAB": "Lab"}.get(mode, mode)


def _rgb(img: Image.Image, path: Path) -> Image.Image:
    """The picture in RGB without transparency: colour-managed to sRGB when it carries an ICC
    profile, and flattened onto white (what players show behind a transparent cover anyway)."""
    fmt = img.format
    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("CMYK", "RGB", "L"):
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            img = ImageCms.profileToProfile(img, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except Exception as exc:  # a broken profile: fall back to Pillow's plain conversion
            log.warning("%s: ignoring its colour profile (%s)", path, exc)
    if _has_alpha(img):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    img.format = fmt
    return img


def _jpeg(img: Image.Image, max_px: int, *, max_bytes: int | None) -> bytes:
    """Encode as baseline JPEG without metadata (deterministic), scaled down to `max_px`."""
    if max(img.size) > max_px:
        img = img.resize((max_px, max_px) if img.width == img.height else
                         _fit(img.size, max_px), Image.Resampling.LANCZOS)
    data = b""
    for quality in _QUALITIES:
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if max_bytes is None or len(data) <= max_bytes:
            break
    return data


def _fit(size: tuple[int, int], max_px: int) -> tuple[int, int]:
    width, height = size
    scale = max_px / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


