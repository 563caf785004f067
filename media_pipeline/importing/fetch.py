"""Downloading what a feed names: once, resumably (HTTP Range with If-Range), through redirects and
tracking prefixes, verified by length before the file takes its name.

A download in progress is `.<name>.download` beside its target, with `.<name>.download.json`
holding the URL and the server's validator; an interrupted import continues from its last byte.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from media_pipeline import __version__
from media_pipeline.errors import PipelineError
from media_pipeline.util.fsutil import atomic_write, move_into_place

log = logging.getLogger(__name__)

USER_AGENT = f"media-pipeline/{__version__} (podcast import)"
CHUNK = 1 << 20
TIMEOUT = 60
MAX_REDIRECTS = 10
_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")


class DownloadError(PipelineError):
    """A file the feed names could not be fetched or verified; `path` is its URL."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    length: int
    mime_type: str  # the server's Content-Type, without parameters
    resumed_from: int = 0  # bytes already there from an earlier, interrupted run


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Tracking prefixes (podtrac, chartable, op3 ...) answer with redirects, sometimes several in a
    row; urllib keeps the Range header through them."""

    max_redirections = MAX_REDIRECTS


_opener = urllib.request.build_opener(_Redirects())


def open_url(url: str, headers: dict[str, str] | None = None, timeout: float = TIMEOUT):
    """An HTTP(S) response; a local file for `file:` URLs. Errors are DownloadError naming the URL."""
    if not url.lower().startswith(("http://", "https://", "file:")):
        raise DownloadError("is not an http(s) URL", path=url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        return _opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:
            return exc  # Range not satisfiable: the caller decides
        raise DownloadError(f"the server answered HTTP {exc.code} {exc.reason}", path=url) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(f"cannot be fetched: {reason}", path=url) from None


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.download")


def _state_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.download.json")


def download(url: str, target: Path, *, expected_length: int = 0,
             verify: Callable[[Path], None] | None = None,
             progress: Callable[[int, int], None] | None = None) -> Fetched:
    """Fetch `url` into `target`, continuing a download an earlier run left, and return what came.

    The bytes are checked against the server's length (Content-Length, or the total of
    Content-Range); `verify` (a probe) sees the complete file before it takes `target`'s name, so
    a file of that name is always whole and verified. An error leaves the partial file for the
    next run and raises DownloadError naming the URL.
    """
    partial, state_file = partial_path(target), _state_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = _read_state(state_file)
    have = partial.stat().st_size if partial.exists() else 0
    if state.get("url") != url:
        have = 0
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        if state.get("validator"):
            # If-Range: the server sends the rest only if the file is still the one begun.
            headers["If-Range"] = state["validator"]
    response = open_url(url, headers)
    resumed_from = 0
    with response:
        status = getattr(response, "status", None) or response.getcode()
        mime = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if status == 416:
            total = _total_from_range(response.headers.get("Content-Range", ""))
            if total is None or total != have:
                raise DownloadError("the server refused the range this import asked for; "
                                    f"delete {partial.name} to start again", path=url)
            return _finish(partial, state_file, target, url, have, mime, verify, resumed_from=have)
        if status == 206 and have:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
            if not match or int(match.group(1)) != have:
                raise DownloadError("the server sent another range than the one asked for", path=url)
            total = None if match.group(3) == "*" else int(match.group(3))
            mode, resumed_from = "ab", have
        else:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode, have = "wb", 0
        validator = response.headers.get("ETag") or response.headers.get("Last-Modified")
        if validator and validator.startswith("W/"):
            validator = None  # a weak ETag cannot vouch for bytes (RFC 9110, If-Range)
        atomic_write(state_file, json.dumps({"url": url, "validator": validator, "total": total}).encode())
        done = have
        read = getattr(response, "read1", response.read)  # what has arrived: a kill loses little
        with open(partial, mode) as out:
            while True:
                try:
                    chunk = read(CHUNK)
                except (OSError, ValueError) as exc:
                    raise DownloadError(f"the download broke off at {done} bytes ({exc}); run the import "
                                        "again to continue it", path=url) from None
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total or expected_length)
            out.flush()
            os.fsync(out.fileno())
    if total is None:
        total = expected_length or None
    if total is not None and done != total:
        raise DownloadError(f"the download ended at {done} of {total} bytes; run the import again to continue it",
                            path=url)
    return _finish(partial, state_file, target, url, done, mime, verify, resumed_from=resumed_from)


def _finish(partial: Path, state_file: Path, target: Path, url: str, length: int, mime: str,
            verify: Callable[[Path], None] | None, *, resumed_from: int) -> Fetched:
    if length == 0:
        raise DownloadError("the server sent an empty file", path=url)
    if verify is not None:
        try:
            verify(partial)
        except PipelineError:
            # Bytes that are not what they claim are no start for the next run either.
            partial.unlink(missing_ok=True)
            state_file.unlink(missing_ok=True)
            raise
    move_into_place(partial, target)
    state_file.unlink(missing_ok=True)
    return Fetched(target, length, mime, resumed_from)


def _read_state(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _total_from_range(value: str) -> int | None:
    match = re.match(r"^bytes\s+\*/(\d+)$", value.strip())
    return int(match.group(1)) if match else None


def fetch_to_file(url_or_path: str, target: Path) -> str:
    """The feed itself, fetched whole into `target` (a file of the run's own); returns the URL it
    came from after redirects, which relative URLs in the feed are read against."""
    if "://" not in url_or_path:
        source = Path(url_or_path)
        if not source.is_file():
            raise PipelineError("no such file, and not an http(s) URL", path=url_or_path)
        shutil.copyfile(source, target)
        return ""
    response = open_url(url_or_path, {"Accept": "application/rss+xml, application/xml;q=0.9, */*;q=0.5"})
    with response, open(target, "wb") as out:
        try:
            shutil.copyfileobj(response, out, CHUNK)
        except (OSError, ValueError) as exc:
            raise DownloadError(f"the feed broke off while downloading ({exc})", path=url_or_path) from None
        return response.geturl() or url_or_path
