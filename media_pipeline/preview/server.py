"""A small HTTP server that previews a local storage folder the way podcast apps fetch it.

GET and HEAD with single byte ranges (RFC 9110 section 14), which Apple requires of enclosure
hosts, validators for conditional requests, and nothing under `_private/` or dot-files.
"""

from __future__ import annotations

import email.utils
import logging
import os
import posixpath
import re
import sys
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from media_pipeline.layout import PRIVATE_PREFIX, cache_control_for, content_type_for
from media_pipeline.preview.access_log import AccessLog, combined_line
from media_pipeline.storage.local import LocalStorage

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def make_server(root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                access_log: Path | None = None) -> ThreadingHTTPServer:
    """A server for the folder `root`, bound but not yet serving (port 0 picks a free port).

    With `access_log`, every request is appended to that file as a combined-log line with its
    Range header (what `stats` reads). Call `serve_forever()` on it, and `server_close()` when done.
    """
    storage = LocalStorage(Path(root).resolve())
    log_file = AccessLog(access_log) if access_log else None
    handler = type("Handler", (_Handler,), {"storage": storage, "access_log": log_file})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A request that failed outside the handler's own care is one log line, never a traceback
        on stderr: most are a player or browser hanging up (a seek, a closed tab)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.debug("%s hung up: %s", client_address[0], error)
        else:
            log.warning("a request from %s failed: %s", client_address[0], error)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The inclusive (first, last) byte of a single `Range: bytes=...` header for a body of `size`.

    None means "serve the whole body" (no header, a syntax we ignore as RFC 9110 allows, or
    several ranges); "unsatisfiable" means answer 416.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None  # malformed or multiple ranges: a server may ignore Range and send 200
    first, last = match.groups()
    if first == "":  # bytes=-N: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec makes the whole header ignorable (RFC 9110 14.1.1)
    if start >= size:
        return "unsatisfiable"
    return start, min(int(last) if last else size - 1, size - 1)


class _Handler(BaseHTTPRequestHandler):
    storage: LocalStorage
    access_log: AccessLog | None = None
    server_version = "media-pipeline-serve"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._respond(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(body=False)

    def _other(self) -> None:
        self.close_connection = True  # its body, if any, is left unread: do not parse it as a request
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD", {"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)

    # -- the response -------------------------------------------------------------------------

    def _respond(self, body: bool) -> None:
        key = self._key()
        try:
            fh = (self.storage.root / key).open("rb") if key else None
        except OSError:  # missing, a folder, unreadable
            fh = None
        if fh is None:
            return self._plain(HTTPStatus.NOT_FOUND, "not found")
        with fh:  # headers and bytes come from one open file, even if a publish replaces it now
            stat = os.fstat(fh.fileno())
            size = stat.st_size
            meta = self.storage.metadata(key, stat) or {}  # the sidecar, when it describes this file
            # A strong ETag only when we know the checksum; otherwise a weak one from size and time.
            etag = f'"{meta["sha256"]}"' if meta.get("sha256") else f'W/"{size:x}-{stat.st_mtime_ns:x}"'
            last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
            headers = {
                "Content-Type": meta.get("content_type") or content_type_for(key),
                "Cache-Control": meta.get("cache_control") or cache_control_for(key),
                "Accept-Ranges": "bytes",
                "ETag": etag,
                "Last-Modified": last_modified,
                # Web players on other origins (a show page, a feed validator) may fetch previews.
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag",
            }
            if self._not_modified(etag, stat.st_mtime):
                return self._send(HTTPStatus.NOT_MODIFIED, headers, None, 0, 0, body=False)
            wanted = parse_range(self.headers.get("Range"), size) if self._if_range_holds(etag, last_modified) else None
            if wanted == "unsatisfiable":
                headers["Content-Range"] = f"bytes */{size}"
                return self._plain(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range not satisfiable", headers)
            if wanted is None:
                return self._send(HTTPStatus.OK, headers, fh, 0, size, body)
            first, last = wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
            return self._send(HTTPStatus.PARTIAL_CONTENT, headers, fh, first, last - first + 1, body)

    def _key(self) -> str | None:
        """The storage key a request path names, or None when it must not be served: anything
        under `_private/` (staged media, the manifest, metadata), dot-files (temp files of
        writes in progress), and anything outside the folder."""
        raw = urlsplit(self.path).path
        try:
            text = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in text or "\\" in text:
            return None
        parts = [p for p in text.split("/") if p]
        if any(p.startswith(".") for p in parts):
            return None  # dot-files, "." and ".." alike
        if not parts or text.endswith("/") or (self.storage.root.joinpath(*parts)).is_dir():
            parts.append("index.html")  # the listener site: a folder's page, as static hosts serve it
        key = posixpath.join(*parts)
        if (key + "/").lower().startswith(PRIVATE_PREFIX.lower()):
            return None
        target = (self.storage.root / key).resolve()
        if self.storage.root.resolve() not in target.parents:
            return None  # a symlink out of the folder
        return key

    def _not_modified(self, etag: str, mtime: float) -> bool:
        none_match = self.headers.get("If-None-Match")
        if none_match is not None:
            tags = [t.strip() for t in none_match.split(",")]
            return "*" in tags or _weak(etag) in (_weak(t) for t in tags)
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _if_range_holds(self, etag: str, last_modified: str) -> bool:
        """If-Range: honour Range only when the client's copy is still current, so a resumed
        download never splices bytes of two versions (RFC 9110 13.1.5: strong comparison)."""
        if_range = self.headers.get("If-Range")
        if if_range is None:
            return True
        if if_range.startswith(('"', "W/")):
            return not etag.startswith("W/") and if_range == etag
        return if_range == last_modified

    def _send(self, status: HTTPStatus, headers: dict, fh: BinaryIO | None, offset: int, length: int,
              body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        sent = 0
        try:
            if not body or fh is None or length == 0:
                return
            fh.seek(offset)
            while sent < length:
                block = fh.read(min(_CHUNK, length - sent))
                if not block:
                    break
                self.wfile.write(block)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # players often hang up mid-file when seeking
        finally:
            self._log_access(status, sent)

    def _log_access(self, status: int, sent: int) -> None:
        if self.access_log is None:
            return
        method, _, rest = (self.requestline or "").partition(" ")
        target, _, protocol = rest.rpartition(" ")
        self.access_log.write(combined_line(
            self.client_address[0], datetime.now(timezone.utc), method or "-", target or "-", protocol or "-",
            int(status), sent, self.headers.get("Referer"), self.headers.get("User-Agent"), self.headers.get("Range")))

    def _plain(self, status: HTTPStatus, text: str, headers: dict | None = None) -> None:
        data = f"{status.value} {text}\n".encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            if name not in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
                self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._log_access(status, 0 if self.command == "HEAD" else len(data))


def _weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def serve(root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, access_log: Path | None = None) -> None:
    """Serve `root` until interrupted."""
    server = make_server(root, host, port, access_log)
    try:
        server.serve_forever()
    finally:
        server.server_close()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "AccessLog", "make_server", "parse_range", "serve"]
