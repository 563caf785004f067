"""HTTP delivery of one request: retries with backoff while the receiver surely did not take it, and
every failure as a short reason with every secret removed. No redirects; nothing raised.
"""

from __future__ import annotations

import base64
import http.client
import logging
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from media_pipeline.util.redact import redact

log = logging.getLogger(__name__)

TRIES = 3  # requests per notification in one run: the first and two retries with backoff
RETRY_DELAY = 2.0
TIMEOUT = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # never shown: redacted from every message about this request


@dataclass(frozen=True)
class Failure:
    reason: str  # short, secret-free
    # Whether another try in this run is sensible: the receiver answered no, or surely never got the
    # request. After a timeout or a garbled answer it may have taken it; the next run tries again.
    again: bool


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (a webhook that moved must be configured anew; and a redirect
    could lead anywhere, file: or ftp: included): it is a failure like any other status."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(request: Request, label: str, *, tries: int = TRIES, delay: float = RETRY_DELAY,
         timeout: float = TIMEOUT) -> str | None:
    """Send with retries and exponential backoff (with jitter); None when a 2xx came back, else the
    last failure as a short reason with every secret removed. Never raises."""
    prepared = _prepare(request)
    if isinstance(prepared, Failure):
        return prepared.reason
    failure = None
    for attempt in range(1, tries + 1):
        failure = _once(prepared, timeout)
        if failure is None:
            return None
        log.info("%s: attempt %d of %d failed: %s", label, attempt, tries, failure.reason)
        if not failure.again:
            break
        if attempt < tries:
            time.sleep(delay * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2))
    return failure.reason if failure else None


def _prepare(request: Request) -> Request | Failure:
    """The request as urllib can send it: a URL with `user:password@` becomes a URL without it and
    HTTP Basic authentication (urllib would take the whole `user:password@host` for a host name)."""
    try:
        parts = urllib.parse.urlsplit(request.url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return Failure("InvalidURL: the URL's port is not a number from 1 to 65535", again=False)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Failure("not an http(s) URL", again=False)
    if "@" not in parts.netloc:
        return request
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    host = parts.netloc.rsplit("@", 1)[1]
    url = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    headers = dict(request.headers)
    if "Authorization" not in headers:  # a token the channel sends (podping) wins over the URL's
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return Request(request.method, url, request.body, headers, (*request.secrets, request.url, password))


def _once(request: Request, timeout: float) -> Failure | None:
    try:
        req = urllib.request.Request(request.url, data=request.body, headers=request.headers, method=request.method)
        with _OPENER.open(req, timeout=timeout) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except urllib.error.URLError as exc:  # the request never reached a receiver
        reason = exc.reason
        if isinstance(reason, OSError):
            text = f"{type(reason).__name__}: {reason.strerror or reason}"
        else:
            text = type(exc).__name__
        return Failure(redact(text, request.secrets), again=True)
    except (TimeoutError, socket.timeout):
        return Failure(f"no answer within {timeout:g} s (the receiver may have taken it)", again=False)
    except http.client.HTTPException as exc:  # BadStatusLine, RemoteDisconnected, ...: no HTTP answer
        return Failure(f"{type(exc).__name__}: the receiver did not answer in HTTP", again=False)
    except ValueError as exc:  # http.client.InvalidURL and its kind: the URL cannot be used
        return Failure(f"{type(exc).__name__}: the URL cannot be used", again=False)
    except Exception as exc:  # noqa: BLE001 - only the class: the message of an unexpected error could carry a secret
        return Failure(type(exc).__name__, again=False)
    if 200 <= status < 300:
        return None
    return Failure(f"HTTP {status}", again=True)
