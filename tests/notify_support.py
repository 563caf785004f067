"""Real HTTP receivers on 127.0.0.1 for the notification tests: each records every request it gets
and can fail the first N of them, answer with any status, or redirect."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from conftest import SHOW_TOML

from cli_support import QuietServer


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    accepted: bool  # answered with a 2xx

    @property
    def form(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(self.body.decode())

    @property
    def json(self):
        return json.loads(self.body)


class _Server(QuietServer):
    daemon_threads = True  # a hanging handler must not hold up the test's teardown
    block_on_close = False


class Receiver:
    """A threading HTTP server answering `status` (after failing the first `fail_first` requests
    with 500), or a redirect to `redirect` when set, after `hang` seconds."""

    def __init__(self, *, status: int = 200, fail_first: int = 0, redirect: str | None = None, hang: float = 0):
        self.status, self.fail_first, self.redirect, self.hang = status, fail_first, redirect, hang
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    failing = len(receiver.seen) < receiver.fail_first
                    status = 500 if failing else receiver.status
                    if receiver.redirect and not failing:
                        status = 302
                    parts = urllib.parse.urlsplit(self.path)
                    receiver.seen.append(Seen(self.command, parts.path, urllib.parse.parse_qs(parts.query),
                                              dict(self.headers), body, 200 <= status < 300))
                if receiver.hang:
                    time.sleep(receiver.hang)  # a receiver that takes its request and never answers in time
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", receiver.redirect)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _handle

            def log_message(self, *args) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def accepted(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.accepted]

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def notify_toml(*, hubs: list[str] = (), podping_url: str | None = None, chats: tuple[str, ...] = (),
                attempts: int | None = None) -> str:
    """The test show with a [notify] table; chat kinds read their URL from $TEST_<KIND>_URL."""
    lines = ["", "[notify]"]
    if hubs:
        lines.append("hubs = [" + ", ".join(f'"{h}"' for h in hubs) + "]")
    if podping_url:
        lines += ['podping = { env = "TEST_PODPING_TOKEN" }', f'podping_url = "{podping_url}/"']
    lines += [f'{kind} = {{ env = "TEST_{kind.upper()}_URL" }}' for kind in chats]
    if attempts is not None:
        lines.append(f"attempts = {attempts}")
    return SHOW_TOML + "\n".join(lines) + "\n"


FAST = {"MEDIA_PIPELINE_NOTIFY_RETRY_DELAY": "0.01", "MEDIA_PIPELINE_NOTIFY_TIMEOUT": "5"}
