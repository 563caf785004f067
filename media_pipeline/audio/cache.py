"""The build cache: processed renditions in a folder keyed by source content and audio settings.

A folder appears whole or not at all: it is built under a temporary name beside its final place
and renamed when complete, so an interrupted run never leaves half a result to be reused. Folders
an episode no longer uses (older settings or recordings) are removed once no live run uses them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator

from media_pipeline.audio import stamps
from media_pipeline.model import AudioSettings
from media_pipeline.util import filememo

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
STALE_SECONDS = 24 * 3600
IN_USE = ".in-use.lock"  # one per show folder: byte-range locks on it say which entries live runs use
_KEY_CHARS = 20


file_digest = filememo.sha256_file


def key(source: Path, settings: AudioSettings, *, code_version: str, extra: dict[str, Any] | None = None,
        digest: Callable[[Path], str] = file_digest, ffmpeg: str | None = None) -> str:
    """The cache key: source content, every audio setting (clips by content), code version, and the
    identity of the ffmpeg that encodes (`ffmpeg.identity()`: its version string; the encoders'
    offsets were fitted on one build, and another encodes other bytes).

    `digest` gives a file's sha256; `stamps.Stamps.digest` hashes only files changed since last time."""
    fields = asdict(settings)
    if fields.get("max_loudness_range") is None:  # settings without levelling keep their earlier keys
        fields.pop("max_loudness_range", None)
    for clip in ("intro", "outro"):
        fields[clip] = digest(Path(fields[clip])) if fields[clip] else None
    material = {"source": digest(source), "settings": fields, "code": code_version, **(extra or {})}
    if ffmpeg is not None:
        material["ffmpeg"] = ffmpeg
    return stamps.material_digest(material)


def folder(build_dir: Path, show: str, slug: str, cache_key: str) -> Path:
    return build_dir / show / f"{slug}-{cache_key[:_KEY_CHARS]}"


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
    # held while this run builds: a sweep that can take the lock knows the builder is gone
    owner = open(_owner_lock(staging), "a+b")
    fcntl.flock(owner, fcntl.LOCK_EX)
    try:
        yield staging
        hold(entry)  # before it appears, so no concurrent prune can take it from under this run
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
    finally:
        _owner_lock(staging).unlink(missing_ok=True)
        owner.close()


def _owner_lock(staging: Path) -> Path:
    return staging.with_name(staging.name + ".lock")


def _sweep(entry: Path) -> None:
    """Remove staging folders of `entry` that a killed run left behind: at once when the run that
    made one no longer holds its lock (it died, even by SIGKILL), else once older than a day (a
    folder from a version without the lock; a run still building that long is not plausible)."""
    for stale in entry.parent.glob(f".{entry.name}.*.tmp"):
        _remove_if_abandoned(stale)
    for lock in entry.parent.glob(f".{entry.name}.*.tmp.lock"):
        if not lock.with_suffix("").exists():
            _remove_if_abandoned(lock.with_suffix(""))


def _remove_if_abandoned(staging: Path) -> None:
    """Remove a staging folder whose builder is gone, or one untouched for longer than STALE_SECONDS."""
    try:
        with open(_owner_lock(staging), "rb") as owner:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(staging, ignore_errors=True)
            _owner_lock(staging).unlink(missing_ok=True)
            log.info("cache: removed %s, left by an interrupted run", staging)
            return
    except BlockingIOError:  # its run is still building it
        return
    except FileNotFoundError:  # no lock: fall back to its age
        pass
    try:
        if time.time() - staging.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(staging, ignore_errors=True)
            log.info("cache: removed %s, left by an interrupted run", staging)
    except OSError:  # gone meanwhile
        pass


def use(entry: Path) -> dict | None:
    """The manifest of a complete cache folder, held for this process (see `prune`), or None."""
    if load(entry) is None:
        return None
    hold(entry)
    return load(entry)  # again: a concurrent prune may have taken it before the hold


# Why entries are held and how `prune` respects that: an entry is read after `process` returns (the
# publish stage copies the renditions out of it), so a run that was handed an entry must find it
# there until it ends, even when a concurrent run, with newer settings or a newer recording, has
# made that entry superseded. Each run therefore holds a shared POSIX byte-range lock, one byte per
# entry, on the show folder's IN_USE file, from the moment it is handed an entry until it exits (the
# kernel releases it then, even after a crash), and `prune` removes only entries it can lock
# exclusively. The locks are per process, so a run's own earlier entry never stops it: it has moved
# on to the new one. A run that is handed an entry holds it before reading the manifest again, and
# `prune` renames an entry away while it holds the lock, so a reader finds the whole entry or none
# (then it builds anew). Folders being built are `.NAME.*.tmp` and never match an entry's name.
# Where locks cannot be taken (a file system without them) nothing is held and nothing is pruned.
#
# Closing any descriptor of a file drops all of the process's POSIX locks on it, so each show's
# IN_USE file is opened once per process and kept open: show folder -> descriptor.
_in_use: dict[str, int] = {}


def hold(entry: Path) -> None:
    """Mark `entry` as used by this process until it exits, so that no other run prunes it."""
    fd = _in_use_file(entry.parent)
    if fd is None:
        return
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH, 1, _slot(entry))  # waits only while a prune renames it away
    except OSError as exc:
        log.warning("cache: cannot lock %s (%s); superseded entries are kept", entry.parent / IN_USE, exc.strerror)


def prune(entry: Path) -> list[Path]:
    """Remove the episode's other entries beside `entry` (a folder from `folder`) that no live run
    holds, and staging folders of its other keys whose runs were killed (see `_sweep`)."""
    slug = entry.name[:-(_KEY_CHARS + 1)]
    superseded = re.compile(re.escape(slug) + f"-[0-9a-f]{{{_KEY_CHARS}}}")  # "001" must not match "001-extra-…"
    staging = re.compile(r"\.(" + superseded.pattern + r")\..*\.tmp")
    fd = _in_use_file(entry.parent)
    if fd is None:
        return []
    removed = []
    # names only (no Path per folder entry, no stat): a show's folder holds an entry per episode
    for name in sorted(n for n in os.listdir(entry.parent) if n.startswith((slug, f".{slug}"))):
        path = entry.parent / name
        if path.name == entry.name:
            continue
        if superseded.fullmatch(path.name):
            if _take(fd, path, entry):
                removed.append(path)
        elif (m := staging.fullmatch(path.name)) and m.group(1) != entry.name:
            _remove_if_abandoned(path)
    return removed


def _take(fd: int, path: Path, current: Path) -> bool:
    """Remove the entry `path` if no other process holds it; True when removed."""
    slot = _slot(path)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            log.info("cache: kept %s, superseded but in use by another run", path)
        else:  # cannot tell whether it is in use
            log.warning("cache: kept %s, superseded, but %s cannot be locked (%s)", path, IN_USE, exc.strerror)
        return False
    trash = path.parent / f".{path.name}.removing-{os.getpid()}.tmp"  # swept like staging if left behind
    try:
        os.rename(path, trash)
    except OSError:
        return False  # gone already: another run removed it
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot)
    shutil.rmtree(trash, ignore_errors=True)
    log.info("cache: removed %s, superseded by %s", path, current.name)
    return True


def _in_use_file(show_dir: Path) -> int | None:
    fd = _in_use.get(str(show_dir))
    if fd is None:
        try:
            fd = os.open(show_dir / IN_USE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # e.g. a read-only cache: nothing is pruned, nothing is held
            log.warning("cache: cannot open %s (%s); superseded entries are kept", show_dir / IN_USE, exc.strerror)
            return None
        _in_use[str(show_dir)] = fd
    return fd


def _slot(entry: Path) -> int:
    """The entry's byte in the IN_USE file (a collision only keeps an entry longer)."""
    return int.from_bytes(hashlib.sha256(entry.name.encode()).digest()[:7], "big")


def write_manifest(staging: Path, manifest: dict) -> None:
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
