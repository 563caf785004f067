"""Read, change, write back only if nobody wrote in between: the one loop every conditional writer
(the publishing manifest with its feed, the notification record) goes round.

A writer reads an object with its version (etag), decides, and writes with If-Match on that version
(If-None-Match when there was none). When another writer got there first the write raises
`PreconditionFailed`; the loop waits a moment with jitter (two losers should not collide again),
reads again and decides again, so the change must decide from what it is given.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

from media_pipeline.errors import StorageError
from media_pipeline.storage.base import PreconditionFailed, Storage

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 12


def until_landed(attempt: Callable[[int], T], *, conflict: Callable[[PreconditionFailed], str], gave_up: str,
                 path: str, attempts: int = ATTEMPTS) -> T:
    """Call `attempt(n)` (n from 1) until it returns without a `PreconditionFailed`, and return what
    it returned. Each conflict is logged as `conflict(exc)`; after `attempts` of them, a
    StorageError `gave up after N attempts: <gave_up>` naming `path`."""
    for n in range(1, attempts + 1):
        try:
            return attempt(n)
        except PreconditionFailed as exc:
            log.info("%s; reading again (attempt %d)", conflict(exc), n)
            time.sleep(random.uniform(0.02, 0.1) * n)
    raise StorageError(f"gave up after {attempts} attempts: {gave_up}", path=path)


def read_change_write(storage: Storage, key: str, change: Callable[[bytes | None], tuple[bytes | None, T]], *,
                      content_type: str, cache_control: str, conflict: str,
                      attempts: int = ATTEMPTS) -> T:
    """Read `key`, let `change(bytes or None)` return the new bytes and a result, and store the new
    bytes only if the object is still the version read; on a conflict, read and change again.

    `change` returns None (or the bytes it was given) for "nothing to write". Returns the result
    of the attempt that landed (or wrote nothing). `conflict` is the log line's start for a lost race.
    """
    def attempt(_: int) -> T:
        got = storage.get_bytes(key)
        data, etag = (got[0], got[1].etag) if got else (None, None)
        new, result = change(data)
        if new is not None and new != data:
            storage.put_bytes(key, new, content_type=content_type, cache_control=cache_control,
                              if_match=etag, if_absent=etag is None)
        return result

    return until_landed(attempt, conflict=lambda exc: conflict, path=key, attempts=attempts,
                        gave_up="other runs kept changing it")


__all__ = ["ATTEMPTS", "read_change_write", "until_landed"]
