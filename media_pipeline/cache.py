"""The build cache: processed renditions in a folder keyed by source content and audio settings.

A folder appears whole or not at all: it is built under a temporary name beside its final place
and renamed when complete, so an interrupted run never leaves half a result to be reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from .model import AudioSettings

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_CHUNK = 1 << 20
STALE_SECONDS = 24 * 3600


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content, read in 1 MiB chunks (never the whole file in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def key(source: Path, settings: AudioSettings, *, code_version: str, extra: dict[str, Any] | None = None) -> str:
    """The cache key: source content, every audio setting (clips by content), code version."""
    fields = asdict(settings)
    for clip in ("intro", "outro"):
        fields[clip] = file_digest(Path(fields[clip])) if fields[clip] else None
    material = {"source": file_digest(source), "settings": fields, "code": code_version, **(extra or {})}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def folder(build_dir: Path, show: str, slug: str, cache_key: str) -> Path:
    return build_dir / show / f"{slug}-{cache_key[:20]}"


def load(entry: Path) -> dict | None:
    """The manifest of a complete cache folder, or None when there is none (or it is unreadable)."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = [entry / r["file"] for r in manifest.get("renditions", [])]
    if not files or not all(f.is_file() for f in files):
        return None
    return manifest


@contextlib.contextmanager
def building(entry: Path) -> Iterator[Path]:
    """A temporary folder beside `entry`; renamed to `entry` on success, deleted on any failure."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    _sweep(entry)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
    try:
        yield staging
        try:
            os.rename(staging, entry)
        except OSError:
            if load(entry) is None:  # not a finished twin from a concurrent run: a real failure
                raise
            log.info("cache: %s was completed by another run meanwhile", entry)
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _sweep(entry: Path) -> None:
    """Remove staging folders of `entry` that a killed run left behind (older than a day: a run
    still building that long is not plausible, and a younger one may be a concurrent run's)."""
    for stale in entry.parent.glob(f".{entry.name}.*.tmp"):
        try:
            if time.time() - stale.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
                log.info("cache: removed %s, left by an interrupted run", stale)
        except OSError:
            pass


def write_manifest(staging: Path, manifest: dict) -> None:
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
