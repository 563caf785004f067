"""What is known about a local file while it stays unchanged: its sha256 and what probe found in it.

Kept in the build cache (`_stamps.json`) by the file's stat stamp (`util.filememo.stamp`). A
fact is used only while the stamp is the same; a file modified within `RACY_SECONDS` of being
read is never recorded (`util.filememo.settled`), so it is read again next time. A memo is a
saving, never a failure: an unreadable or unwritable index only means the files are read again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from media_pipeline.model import MediaInfo, Stream
from media_pipeline.util import filememo
from media_pipeline.util.fsutil import atomic_write

log = logging.getLogger(__name__)

INDEX = "_stamps.json"  # in the build cache; "_": no show's folder can have that name (lint.SAFE_NAME)
FORMAT = 1  # bump when a fact's meaning changes (e.g. what probe reads from ffmpeg): every fact is dropped
RACY_SECONDS = filememo.RACY_SECONDS


stamp = filememo.stamp


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's content (`util.filememo.sha256_file`), logged: tests count the reads."""
    log.debug("stamps: hashing %s", path)
    return filememo.sha256_file(path)


class Stamps:
    """The facts known about files, by absolute path, for one build cache (`folder` None: nothing kept)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = self._read()

    def digest(self, path: Path) -> str:
        """The file's sha256, hashed only when its stamp changed since it was last hashed."""
        return self._fact(path, "sha256", lambda: sha256_of(path), lambda v: v, lambda v: v)

    def probe(self, path: Path) -> MediaInfo:
        """`probe.probe(path)`, run again only when the file or the ffmpeg that read it changed."""
        from media_pipeline.audio import ffmpeg, probe

        caps = ffmpeg.checked()
        name = f"probe {caps.path} {caps.version}"
        return self._fact(path, name, lambda: probe.probe(path), _info_json, lambda v: _info_from(path, v))

    def header_damage(self, path: Path) -> str | None:
        """`probe.header_damage(path)`, read again only when the file changed."""
        from media_pipeline.audio import probe

        return self._fact(path, "header", lambda: probe.header_damage(path), lambda v: v, lambda v: v)

    def fact(self, path: Path, name: str, compute: Callable[[], Any]) -> Any:
        """A JSON-ready fact about the file (`name` says what, and from which settings), computed
        again only when the file changed."""
        return self._fact(path, name, compute, lambda v: v, lambda v: v)

    def _fact(self, path: Path, name: str, compute: Callable[[], Any], encode: Callable[[Any], Any],
              decode: Callable[[Any], Any]) -> Any:
        where = os.path.abspath(path)
        before = stamp(path)
        with self._lock:
            entry = self._entries.get(where)
            if before is not None and entry is not None and entry.get("stamp") == before and name in entry["facts"]:
                return decode(entry["facts"][name])
        value = compute()
        after = stamp(path)
        if self.folder is None or after is None or after != before or not filememo.settled(after):
            return value  # not kept: changed while read, or too recent to trust its stamp
        with self._lock:
            entry = self._entries.get(where)
            if entry is None or entry.get("stamp") != after:
                entry = self._entries[where] = {"stamp": after, "facts": {}}
            entry["facts"][name] = encode(value)
            self._write(where, entry)
        return value

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.folder is None:
            return {}
        try:
            raw = json.loads((self.folder / INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(raw.get("files"), dict):
            return {}
        return {k: v for k, v in raw["files"].items()
                if isinstance(v, dict) and isinstance(v.get("stamp"), list) and isinstance(v.get("facts"), dict)}

    def _write(self, where: str, entry: dict[str, Any]) -> None:
        """Store the index with this entry, over what a concurrent run stored meanwhile (its other
        entries are kept; losing one of them only means a file is read once more)."""
        assert self.folder is not None
        try:
            merged = {**self._read(), **self._entries, where: entry}
            self._entries = merged
            data = json.dumps({"format": FORMAT, "files": dict(sorted(merged.items()))}, sort_keys=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self.folder / INDEX, data.encode())
        except OSError as exc:
            log.debug("stamps: could not keep %s: %s", self.folder / INDEX, exc)


def material_digest(material: Any) -> str:
    """The SHA-256 of a description made of JSON values (anything else by its str), key order
    aside: the one way cache keys, memos and fingerprints are made."""
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def code_digest(*distributions: str) -> str:
    """The code as installed, for memos that must not outlive it: every file of this package by
    stamp (templates and styles too; an edited checkout counts as new code), its version, and the
    versions of the named distributions (the libraries that shape the output)."""
    from importlib import metadata

    from media_pipeline import __version__

    package = Path(__file__).parent
    files = {str(p.relative_to(package)): stamp(p) for p in sorted(package.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts}
    versions = {}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return material_digest({"version": __version__, "files": files, "distributions": versions})


_open: dict[str, Stamps] = {}
_open_lock = threading.Lock()


def stamps_for(build_dir: Path | None) -> Stamps:
    """The facts of one build cache, read once per process; None (or a cache folder that does not
    exist yet, as for `check` before any processing): nothing is kept, every fact is computed."""
    if build_dir is None or not Path(build_dir).is_dir():
        return Stamps(None)
    key = os.path.abspath(build_dir)
    with _open_lock:
        if key not in _open:
            _open[key] = Stamps(Path(key))
        return _open[key]


def _info_json(info: MediaInfo) -> dict:
    return {"container": info.container, "duration": info.duration, "streams": [asdict(s) for s in info.streams]}


def _info_from(path: Path, raw: dict) -> MediaInfo:
    return MediaInfo(path=Path(path), container=raw["container"], duration=float(raw["duration"]),
                     streams=tuple(Stream(**s) for s in raw["streams"]))


__all__ = ["RACY_SECONDS", "Stamps", "code_digest", "material_digest", "sha256_of", "stamp", "stamps_for"]
