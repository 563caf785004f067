"""Reading access logs: S3 server access logs, CloudFront standard logs and the combined log that
`serve --access-log` writes, each line one `Request` or one counted problem, never an exception.

Formats (docs/stats.md): S3's space-separated fields with `[time]` and quoted request, referrer and
user agent; CloudFront's tab-separated W3C fields named by its `#Fields:` line, values URL-encoded;
the combined log format with the request's Range header as a last quoted field.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
from dataclasses import dataclass
from typing import IO, Iterable, Iterator
from urllib.parse import unquote, urlsplit

S3 = "s3"
CLOUDFRONT = "cloudfront"
COMBINED = "combined"


@dataclass(frozen=True)
class Request:
    """One request as a log line tells it. `key` is the path or object key as logged (decoded);
    `first`/`last` the byte range served when the log says so."""

    time: dt.datetime  # UTC
    ip: str
    user_agent: str
    method: str
    path: str
    status: int
    sent: int
    bucket: str | None = None  # S3 logs only
    object_size: int | None = None
    first: int | None = None
    last: int | None = None


class Malformed(ValueError):
    """A line that is not a request of its log's format; counted, never fatal."""


_TOKEN = re.compile(r'\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+')
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_CLF_TIME = re.compile(r"^(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def open_text(data: bytes) -> IO[str]:
    """A log file's lines, gunzipped when it is gzip (CloudFront and S3 deliver both)."""
    raw: IO[bytes] = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def sniff(first_line: str) -> str | None:
    """Which format a log is, from its first line; None when it is none of them."""
    if first_line.startswith("#Version") or first_line.startswith("#Fields"):
        return CLOUDFRONT
    tokens = _TOKEN.findall(first_line)
    if len(tokens) >= 18 and tokens[2].startswith("[") and tokens[8].startswith('"'):
        return S3
    if len(tokens) >= 9 and tokens[3].startswith("[") and tokens[4].startswith('"'):
        return COMBINED
    return None


def read(lines: Iterable[str]) -> Iterator[Request | Malformed]:
    """Every line of one log as a Request, or a Malformed for a line that is not one (a truncated
    last line, garbage). The format is taken from the first line that is not blank."""
    fmt = None
    fields: list[str] | None = None
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if fmt is None:
            fmt = sniff(line)
            if fmt is None:
                yield Malformed(f"line {number}: not an S3, CloudFront or combined access log line")
                continue
        try:
            if fmt == CLOUDFRONT:
                if line.startswith("#"):
                    if line.startswith("#Fields:"):
                        fields = line[len("#Fields:"):].split()
                    continue
                yield _cloudfront(line, fields)
            elif fmt == S3:
                yield _s3(line)
            else:
                yield _combined(line)
        except (Malformed, ValueError, IndexError, KeyError) as exc:
            yield Malformed(f"line {number}: {exc}" if str(exc) else f"line {number}: unreadable")


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _clf_time(token: str) -> dt.datetime:
    m = _CLF_TIME.match(token.strip("[]"))
    if not m:
        raise Malformed(f"time {token!r} is not [dd/Mon/yyyy:hh:mm:ss +zzzz]")
    day, month, year, hh, mm, ss, sign, oh, om = m.groups()
    offset = dt.timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    local = dt.datetime(int(year), _MONTHS[month], int(day), int(hh), int(mm), int(ss),
                        tzinfo=dt.timezone(offset))
    return local.astimezone(dt.timezone.utc)


def _int(token: str) -> int:
    return 0 if token in ("-", "") else int(token)


def _request_line(token: str) -> tuple[str, str]:
    parts = _unquote(token).split(" ")
    if len(parts) < 2:
        raise Malformed("the request is not METHOD PATH")
    return parts[0], urlsplit(parts[1]).path


def _s3(line: str) -> Request:
    t = _TOKEN.findall(line)
    if len(t) < 18:
        raise Malformed(f"{len(t)} fields where S3 access logs have at least 18")
    operation = t[6]
    method = operation.split(".")[1] if operation.startswith("REST.") else operation
    key = unquote(t[7]) if t[7] != "-" else ""
    return Request(time=_clf_time(t[2]), ip=t[3], user_agent=_unquote(t[16]), method=method,
                   path=key, status=int(t[9]), sent=_int(t[11]), bucket=t[1],
                   object_size=_int(t[12]) or None)


def _combined(line: str) -> Request:
    t = _TOKEN.findall(line)
    if len(t) < 9:
        raise Malformed(f"{len(t)} fields where the combined log format has 9")
    method, path = _request_line(t[4])
    first = last = None
    if len(t) > 9 and (m := _RANGE.match(_unquote(t[9]))):
        first, last = int(m.group(1)), (int(m.group(2)) if m.group(2) else None)
    return Request(time=_clf_time(t[3]), ip=t[0], user_agent=_unquote(t[8]), method=method,
                   path=unquote(path), status=int(t[5]), sent=_int(t[6]), first=first, last=last)


def _cloudfront(line: str, fields: list[str] | None) -> Request:
    if not fields:
        raise Malformed("a CloudFront log line before its #Fields: line")
    values = line.split("\t")
    if len(values) < len(fields):
        raise Malformed(f"{len(values)} fields where its #Fields: line names {len(fields)}")
    row = dict(zip(fields, values))
    when = dt.datetime.fromisoformat(f"{row['date']}T{row['time']}").replace(tzinfo=dt.timezone.utc)
    # CloudFront URL-encodes values, and encodes some characters of the user agent twice.
    agent = unquote(unquote(row.get("cs(User-Agent)", "-")))
    first = last = None
    if row.get("sc-range-start", "-") not in ("-", ""):
        first = int(row["sc-range-start"])
        last = int(row["sc-range-end"]) if row.get("sc-range-end", "-") not in ("-", "") else None
    return Request(time=when, ip=row["c-ip"], user_agent=agent, method=row["cs-method"],
                   path=unquote(row["cs-uri-stem"]), status=int(row["sc-status"]),
                   sent=_int(row["sc-bytes"]), first=first, last=last)
