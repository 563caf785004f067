"""Machine-local locks around a show's manifest and feed update (cron beside a producer's publish).

Across machines the conditional writes in `manifest` keep updates from being lost; on one machine
this lock also keeps them from interleaving at all, so concurrent runs simply take turns.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from media_pipeline.errors import PipelineError
from media_pipeline.model import Workspace

log = logging.getLogger(__name__)

ENV_LOCK_DIR = "MEDIA_PIPELINE_LOCK_DIR"
DEFAULT_TIMEOUT = 600.0


class LockTimeout(PipelineError):
    """Another run held the lock for longer than we are willing to wait."""


def lock_dir(ws: Workspace) -> Path:
    """$MEDIA_PIPELINE_LOCK_DIR, else `.media-pipeline/locks` in the workspace."""
    named = os.environ.get(ENV_LOCK_DIR)
    return Path(named) if named else ws.root / ".media-pipeline" / "locks"


def lock_path(ws: Workspace, name: str) -> Path:
    """One lock file per storage location and name: two workspaces publishing to the same bucket
    from one machine with a shared lock folder take turns, different buckets do not wait."""
    digest = hashlib.sha256(ws.storage_url.encode()).hexdigest()[:12]
    return lock_dir(ws) / f"{digest}-{name}.lock"


@contextmanager
def locked(path: Path, *, timeout: float = DEFAULT_TIMEOUT, poll: float = 0.05) -> Iterator[None]:
    """Hold an exclusive `flock` on `path`; the kernel releases it if the process dies, so a crashed
    run never leaves a stale lock behind for cron."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not waited:
                    log.info("waiting for another run to finish (%s)", path.name)
                    waited = True
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"another run has held the lock for over {timeout:.0f} s", path=path) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing drops the flock
