"""What is known about a file while it stays unchanged: its stat stamp, its SHA-256, and small JSON
memos kept by that stamp.

The stamp is the data git's index trusts instead of reading a file again: size, modification and
change times in nanoseconds, inode and device (an edit in place moves mtime and ctime, a
replacement the inode; ctime cannot be set back). A file changed less than `RACY_SECONDS` ago may
change again without its times moving (they are only as fine as the file system keeps them: a
clock tick on Linux, 2 s on FAT), so its stamp does not yet prove it unchanged (git's "racy" rule):
`settled` says whether it does. A memo is a saving, never a failure: one that cannot be read or
written only means the work is done again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from media_pipeline.util.fsutil import atomic_write

log = logging.getLogger(__name__)

RACY_SECONDS = 2.0

Stamp = list[int]
"""[size, mtime_ns, ctime_ns, inode, device]: a list, so that it reads back from JSON equal."""


def stamp(path: str | os.PathLike) -> Stamp | None:
    """The file's stat stamp, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def settled(found: Stamp | None, now_ns: int | None = None) -> bool:
    """Whether a stamp taken before reading the file proves later reads saw the same content: its
    modification time is at least RACY_SECONDS old (`now_ns`: when the file was read; default now)."""
    if found is None:
        return False
    now = time.time_ns() if now_ns is None else now_ns
    return now - found[1] >= RACY_SECONDS * 1e9


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's content, streamed (`hashlib.file_digest`: never the whole file in memory)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class Memo:
    """One small JSON value in `file`, valid while the stamp it was kept under is the one asked for.

    `file` None keeps nothing. The value is written whole (a temporary file renamed into place), so
    concurrent runs each read a complete memo, the last writer's."""

    def __init__(self, file: Path | None) -> None:
        self.file = file

    def get(self, under: Any) -> Any | None:
        """The value kept under `under` (a stamp, or any JSON identity), or None."""
        if self.file is None or under is None:
            return None
        try:
            kept = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(kept, dict) or kept.get("stamp") != json.loads(json.dumps(under)):
            return None
        return kept.get("value")

    def put(self, under: Any, value: Any) -> None:
        """Keep `value` under `under`; a failure to write is logged, never raised."""
        if self.file is None or under is None:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.file, json.dumps({"stamp": under, "value": value}, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            log.debug("could not keep the memo %s: %s", self.file, exc)


def memo_name(*identity: Any) -> str:
    """A file name for the memo of `identity` (JSON values): 32 hex digits of its SHA-256."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32] + ".json"


__all__ = ["Memo", "RACY_SECONDS", "Stamp", "memo_name", "settled", "sha256_file", "stamp"]
