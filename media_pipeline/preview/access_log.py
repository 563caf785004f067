"""The access log `serve --access-log FILE` writes: the combined log format that web servers write,
with the request's Range header as a last quoted field (as nginx's `"$http_range"`), so `stats` can
merge a listener's byte ranges."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def combined_line(ip: str, when: dt.datetime, method: str, target: str, protocol: str, status: int,
                  sent: int, referrer: str | None, user_agent: str | None, range_header: str | None) -> str:
    """One line: `IP - - [06/Dec/2026:10:00:00 +0000] "GET /a.mp3 HTTP/1.1" 206 1024 "referrer"
    "user agent" "bytes=0-1023"` (a missing value is `-`)."""
    def quoted(value: str | None) -> str:
        text = (value or "-").replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else "?" for c in text) + '"'
    t = when.astimezone(dt.timezone.utc)
    stamp = f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000"
    return (f"{ip} - - [{stamp}] {quoted(f'{method} {target} {protocol}')} {status} {sent or '-'} "
            f"{quoted(referrer)} {quoted(user_agent)} {quoted(range_header)}\n")


class AccessLog:
    """An append-only log shared by the server's threads: one write per whole line, flushed, so a
    reader (or a kill) never sees half a line."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._fh = path.open("a", encoding="utf-8")

    def write(self, line: str) -> None:
        with self._lock:
            self._fh.write(line)
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()
