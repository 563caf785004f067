"""Storage that fails now and then: publishing still completes (issue 5 must-show 4, first half)."""

from __future__ import annotations

import pytest

import http.client
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlparse

from cli_support import QuietServer
from publish_support import feed_guids, run_cli, use_s3

NOW = "2026-05-01T12:00:00+03:00"


class FlakyProxy:
    """An HTTP proxy on 127.0.0.1 in front of the S3 server that answers every `period`-th request
    itself with 503 Slow Down (what S3 says when throttling) and forwards the others unchanged."""

    def __init__(self, upstream: str, period: int):
        target = urlparse(upstream)
        self.failed = self.forwarded = 0
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    n = proxy.failed + proxy.forwarded + 1
                    fail = n % period == 0
                    proxy.failed += fail
                    proxy.forwarded += not fail
                if fail:
                    error = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                # a HEAD answer has no body but tells the object's length
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FlakyProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow  # a whole publish and release through throttling; tests/test_storage_faults.py retries each request kind by default
def test_publish_and_release_succeed_through_throttling(workspace, s3):
    """Every third request to storage is refused with 503: the backend's retries with backoff
    carry publish and release-due through, and the feed ends up complete."""
    period = 3
    use_s3(workspace, s3)
    workspace.show()
    workspace.episode("001", seconds=3)
    workspace.episode("002", seconds=3, publish_at="2026-05-02T09:00:00+03:00")
    with FlakyProxy(s3.endpoint, period) as proxy:
        env = {"AWS_ENDPOINT_URL": proxy.url}
        published = run_cli(workspace.root, "publish", "--all", "--now", NOW, env=env)
        assert published.code == 0, published.err
        released = run_cli(workspace.root, "release-due", "--now", "2026-05-02T09:00:00+03:00", env=env)
        assert released.code == 0, released.err
    assert proxy.failed >= 5 and proxy.forwarded > proxy.failed
    assert len(feed_guids(workspace.root)) == 2
