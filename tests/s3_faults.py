"""A fault-injecting HTTP proxy between boto3 and an S3-compatible test server, on 127.0.0.1.

It forwards every request unchanged (the Host header too, so signatures still verify on servers
that check them) unless a fault is armed, and counts what it saw. Use it as the endpoint::

    # the `fault_proxy` fixture (tests/conftest.py) gives a FaultProxy in front of the `s3` server

    def test_retries(s3, fault_proxy):              # fault_proxy: started, AWS_ENDPOINT_URL -> it
        storage = open_storage(s3.storage_url(), tmp_path)
        fault_proxy.fail_next(3, status=503)       # the next 3 requests answer 503 ServiceUnavailable
        storage.put_bytes(...)                     # succeeds after retries
        assert fault_proxy.faults == 3 and fault_proxy.requests["PUT"] == 4

API (every `*_next` takes optional filters `method="PUT"` and `path_contains="feed.xml"`, which
matches the request path with its query string, e.g. "partNumber=2" or "?uploads"; only matching
requests use up the count; armed faults are used in the order they were armed). The proxy is a
real TCP server, so a CLI run in a subprocess with AWS_ENDPOINT_URL set to `.url` goes through it:

- `FaultProxy(upstream)`: start a proxy in front of `upstream` ("http://127.0.0.1:PORT");
  `.url` is its address; `.close()` stops it (it is also a context manager).
- `fail_next(n=1, status=503, code=None, ...)`: answer the next n requests with an S3 XML error
  (`code` defaults by status: 500 InternalError, 503 SlowDown, 429 TooManyRequests, else Error).
- `drop_next(n=1, ...)`: read the request, then close the connection without an answer.
- `truncate_next(n=1, ...)`: forward the request, send the status, headers and half the body,
  then close: a connection cut mid-body (the case botocore's own retries cannot cover).
- `lose_reply_next(n=1, ...)`: forward the request (the server acts on it), then close without
  answering: the write happened but the client cannot know.
- `corrupt_next(n=1, ...)`: flip one byte in the middle of the request body, then forward: damage
  on the way that only a checksum can catch.
- `stall_next(n=1, seconds=5.0, ...)`: wait before forwarding, to trigger client read timeouts.
- `fail_all(on=True, status=503, code=None, method=None, path_contains=None)`: fail every matching
  request until `fail_all(False)`; `drop_all(on=True, ...)` the same with dropped connections.
- `reset()`: disarm every fault and zero the counters.
- Counters: `requests` (collections.Counter by HTTP method of every request received),
  `forwarded` (by method, passed to the server), `faults` (int, requests given a fault), and
  `log`, a list of `Seen(method, path, host, outcome)` with outcome "forwarded", "failed 503",
  "dropped", "truncated", "reply lost", "corrupted" or "stalled".

It also accepts absolute-form request lines ("GET http://bucket.s3.test/key HTTP/1.1"), so
setting HTTP_PROXY to `.url` routes virtual-hosted-style requests through it to the server.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from cli_support import QuietServer

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
               "trailer", "transfer-encoding", "upgrade"}
_DEFAULT_CODES = {500: "InternalError", 503: "SlowDown", 429: "TooManyRequests"}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    host: str
    outcome: str


@dataclass
class _Fault:
    kind: str  # fail, drop, truncate, lose, corrupt, stall
    remaining: float  # float("inf") for fail_all / drop_all
    status: int = 503
    code: str | None = None
    seconds: float = 0.0
    method: str | None = None
    path_contains: str | None = None
    sticky: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.remaining > 0 and (self.method is None or self.method.upper() == method)
                and (self.path_contains is None or self.path_contains in path))


@dataclass
class FaultProxy:
    upstream: str
    requests: Counter = field(default_factory=Counter)
    forwarded: Counter = field(default_factory=Counter)
    faults: int = 0
    log: list[Seen] = field(default_factory=list)

    def __post_init__(self):
        target = urlsplit(self.upstream)
        self._upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self._armed: list[_Fault] = []
        self._lock = threading.Lock()
        self._server = QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-fault-proxy", daemon=True)
        self._thread.start()

    # -- arming faults --------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, code: str | None = None, *, method: str | None = None,
                  path_contains: str | None = None) -> None:
        self._arm(_Fault("fail", n, status, code, method=method, path_contains=path_contains))

    def drop_next(self, n: int = 1, *, method: str | None = None, path_contains: str | None = None) -> None:
        self._arm(_Fault("drop", n, method=method, path_contains=path_contains))

    def truncate_next(self, n: int = 1, *, method: str | None = None, path_contains: str | None = None) -> None:
        self._arm(_Fault("truncate", n, method=method, path_contains=path_contains))

    def lose_reply_next(self, n: int = 1, *, method: str | None = None, path_contains: str | None = None) -> None:
        self._arm(_Fault("lose", n, method=method, path_contains=path_contains))

    def corrupt_next(self, n: int = 1, *, method: str | None = None, path_contains: str | None = None) -> None:
        self._arm(_Fault("corrupt", n, method=method, path_contains=path_contains))

    def stall_next(self, n: int = 1, seconds: float = 5.0, *, method: str | None = None,
                   path_contains: str | None = None) -> None:
        self._arm(_Fault("stall", n, seconds=seconds, method=method, path_contains=path_contains))

    def fail_all(self, on: bool = True, status: int = 503, code: str | None = None, *, method: str | None = None,
                 path_contains: str | None = None) -> None:
        self._sticky("fail", on, _Fault("fail", float("inf"), status, code, method=method,
                                        path_contains=path_contains, sticky=True))

    def drop_all(self, on: bool = True, *, method: str | None = None, path_contains: str | None = None) -> None:
        self._sticky("drop", on, _Fault("drop", float("inf"), method=method, path_contains=path_contains,
                                        sticky=True))

    def reset(self) -> None:
        with self._lock:
            self._armed.clear()
            self.requests.clear()
            self.forwarded.clear()
            self.faults = 0
            self.log.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _arm(self, fault: _Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def _sticky(self, kind: str, on: bool, fault: _Fault) -> None:
        with self._lock:
            self._armed = [f for f in self._armed if not (f.sticky and f.kind == kind)]
            if on:
                self._armed.insert(0, fault)

    def _take(self, method: str, path: str, host: str) -> _Fault | None:
        with self._lock:
            self.requests[method] += 1
            for fault in self._armed:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    self.faults += 1
                    return fault
            self._armed = [f for f in self._armed if f.remaining > 0]
            return None

    def _record(self, method: str, path: str, host: str, outcome: str) -> None:
        with self._lock:
            self.log.append(Seen(method, path, host, outcome))
            if outcome in ("forwarded", "stalled", "truncated", "reply lost", "corrupted"):
                self.forwarded[method] += 1


def _handler_for(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue for botocore's uploads

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def _any(self) -> None:
            path = self.path
            if path.startswith(("http://", "https://")):  # absolute form: we are used as HTTP_PROXY
                parts = urlsplit(path)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
            host = self.headers.get("Host", "")
            body = self._read_body()
            fault = proxy._take(self.command, path, host)
            kind = fault.kind if fault else "forward"
            # Recorded before answering, so a test that got its answer already sees the entry.
            outcome = {"forward": "forwarded", "fail": f"failed {fault.status if fault else ''}", "drop": "dropped",
                       "truncate": "truncated", "lose": "reply lost", "corrupt": "corrupted", "stall": "stalled"}[kind]
            proxy._record(self.command, path, host, outcome)
            try:
                if kind == "forward":
                    self._forward(path, body)
                elif kind == "fail":
                    self._fail(fault)
                elif kind == "drop":
                    self._drop()
                elif kind == "truncate":
                    self._forward(path, body, truncate=True)
                elif kind == "lose":
                    self._forward(path, body, reply=False)
                elif kind == "corrupt":
                    if body:
                        middle = len(body) // 2
                        body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
                    self._forward(path, body)
                elif kind == "stall":
                    time.sleep(fault.seconds)
                    self._forward(path, body)
            except (ConnectionError, socket.timeout):
                self.close_connection = True

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _any

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _forward(self, path: str, body: bytes, truncate: bool = False, reply: bool = True) -> None:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in _HOP_BY_HOP and k.lower() not in ("expect", "content-length")}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            connection = http.client.HTTPConnection(*proxy._upstream, timeout=120)
            try:
                connection.request(self.command, path, body=body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
            finally:
                connection.close()
            if not reply:
                self._drop()
                return
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
            if length is not None:
                self.send_header("Content-Length", length)
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if truncate:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self._drop()
            else:
                self.wfile.write(data)

        def _fail(self, fault: _Fault) -> None:
            code = fault.code or _DEFAULT_CODES.get(fault.status, "Error")
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>injected by the test fault proxy</Message><RequestId>fault</RequestId></Error>"
                    ).encode()
            self.send_response_only(fault.status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler
