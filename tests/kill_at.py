"""Run the command line in this process with storage writes counted, and SIGKILL at the Nth one.

Used by tests/test_crash_points.py as `python -c "import kill_at; kill_at.main()" --root ... publish ...`
(with tests/ on PYTHONPATH). KILL_AT=N kills the process at the start of the Nth write (a put,
copy or delete, on either backend), before it reaches storage; KILL_COUNT=path writes the number
of writes and what each was, one per line, at exit (the dry pass that tells the test how many
kill points there are).
"""

from __future__ import annotations

import atexit
import functools
import os
import signal

from media_pipeline.storage.local import LocalStorage
from media_pipeline.storage.s3 import S3Storage

WRITES = ("put_file", "put_bytes", "copy", "delete")
seen: list[str] = []


def _wrap(cls, name: str, kill_at: int) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapper(self, key, *args, **kwargs):
        seen.append(f"{name} {key}")
        if len(seen) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, key, *args, **kwargs)

    setattr(cls, name, wrapper)


def main() -> None:
    kill_at = int(os.environ.get("KILL_AT", "0"))
    for cls in (LocalStorage, S3Storage):
        for name in WRITES:
            _wrap(cls, name, kill_at)
    if count := os.environ.get("KILL_COUNT"):
        atexit.register(lambda: open(count, "w").write("".join(f"{s}\n" for s in seen)))
    from media_pipeline.cli import main as cli

    cli()
