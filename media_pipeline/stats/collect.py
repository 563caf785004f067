"""`stats` as a narrative: read the summary, learn the published media from the manifests, read
each log (or the part of it not read before), count, close the days that are over, store the
summary. A log that cannot be read is one line for that log; the others are still counted."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import urlsplit

from media_pipeline.errors import PipelineError
from media_pipeline.layout import PRIVATE_PREFIX
from media_pipeline.model import Catalog, Workspace
from media_pipeline.publishing.manifest import read_manifest
from media_pipeline.stats import logs
from media_pipeline.stats.count import DEFAULT_GRACE, Media, MediaFile, count
from media_pipeline.stats.sources import LogFile, header_size, log_files
from media_pipeline.stats.summary import Summary, load, save
from media_pipeline.storage import Storage

log = logging.getLogger(__name__)


@dataclass
class Collected:
    """What one run did: the logs it read (or read the new part of), those it found read already,
    the lines it read, and one line per log it could not read."""

    read: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    lines: int = 0
    problems: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def collect(ws: Workspace, storage: Storage, catalog: Catalog, sources: Iterable[str], *,
            now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE,
            progress: Callable[[str], None] | None = None) -> tuple[Summary, Collected]:
    summary = load(storage)
    media = published_media(storage, catalog, summary)
    keys = KeyMap(ws, storage, catalog)
    done = Collected()
    for spec in sources:
        try:
            files = list(log_files(spec, ws.root))
        except PipelineError as exc:
            done.problems.append(str(exc))
            continue
        for file in files:
            if progress:
                progress(file.name)
            _read_one(file, summary, media, keys, done)
    closed = summary.open_days.close(now, grace)
    if closed:
        summary.closed_through = max([*closed, summary.closed_through or ""])
        done.closed = sorted(closed)
    save(storage, summary)
    return summary, done


def _read_one(file: LogFile, summary: Summary, media: Media, keys: "KeyMap", done: Collected) -> None:
    try:
        data = file.read()
    except Exception as exc:  # noqa: BLE001 - one unreadable log is reported, the rest go on
        done.problems.append(f"{file.name}: cannot be read: {exc}")
        return
    head = LogFile.head_digest(data)
    seen = summary.logs.get(file.name)
    start = 0
    if seen and seen.get("head") == head:
        if seen.get("read", 0) >= len(data):
            done.unchanged.append(file.name)
            return
        start = seen["read"]  # a log that grew since (serve's, appended to): only the new lines
    lines = logs.open_text(data[start:] if data[:2] != b"\x1f\x8b" else data).read().splitlines()
    if start and lines:
        lines = _with_format_line(data, lines)
    done.lines += len(lines)
    count(logs.read(lines), media=media, page_key=page_key, media_key=keys.key,
          tally=summary.tally, open_days=summary.open_days, closed_before=summary.closed_through)
    summary.logs[file.name] = {"read": len(data), "head": head}
    done.read.append(file.name)


def _with_format_line(data: bytes, lines: list[str]) -> list[str]:
    """A CloudFront log read from the middle needs its `#Fields:` line again."""
    first = logs.open_text(data[:4096]).read().splitlines()
    header = [line for line in first if line.startswith("#")]
    return header + lines if header and header[0].startswith("#Version") else lines


def published_media(storage: Storage, catalog: Catalog, summary: Summary) -> Media:
    """Every live rendition the manifests name, with its header size (read once per file version
    and kept in the summary)."""
    files = []
    for show in catalog.shows:
        manifest, _, _ = read_manifest(storage, show)
        for record in manifest.episodes.values():
            if record.state != "live":
                continue
            for f in record.media:
                if f.sha256 not in summary.headers:
                    summary.headers[f.sha256] = header_size(storage, f.key)
                files.append(MediaFile(show, record.slug, f.key, f.size, record.duration,
                                       record.publish_at, summary.headers[f.sha256]))
    return Media(files)


def page_key(key: str) -> str | None:
    """The page a key is: a folder (its index.html) or an .html file outside `_private/`."""
    if key.startswith(PRIVATE_PREFIX):
        return None
    if key == "" or key.endswith("/"):
        return key + "index.html"
    return key if key.endswith(".html") else None


class KeyMap:
    """From a logged request to a storage key of this publisher, or None for another bucket or
    prefix. S3 access logs name the bucket and object key; CloudFront and combined logs name the
    URL path, below the public URL's path."""

    def __init__(self, ws: Workspace, storage: Storage, catalog: Catalog):
        self.bucket = getattr(storage, "bucket", None)
        prefix = getattr(storage, "prefix", "") or ""
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        bases = {ws.public_url, *(s.public_url for s in catalog.shows.values() if s.public_url)}
        self.paths = sorted({urlsplit(b).path.rstrip("/") for b in bases}, key=len, reverse=True)

    def key(self, request: logs.Request) -> str | None:
        if request.bucket is not None:
            if self.bucket is not None and request.bucket != self.bucket:
                return None
            if not request.path.startswith(self.prefix):
                return None
            return request.path[len(self.prefix):]
        for base in self.paths:
            if request.path == base or request.path.startswith(base + "/"):
                return request.path[len(base):].lstrip("/")
        return None
