"""Access logs with a known truth, written in each format `stats` reads: the same requests as an S3
server access log, a CloudFront standard log and the combined log `serve --access-log` writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from media_pipeline.preview.access_log import combined_line


@dataclass(frozen=True)
class Hit:
    when: dt.datetime
    ip: str
    agent: str
    key: str  # storage key below the prefix, or an outside path for "elsewhere" hits
    status: int = 200
    sent: int = 0
    first: int | None = None  # the byte range asked for, when it was a range request
    last: int | None = None
    method: str = "GET"
    size: int = 0  # the object's size
    elsewhere: bool = False  # another bucket (S3 logs) or outside the public path (the others)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def s3_log(hits: list[Hit], bucket: str, prefix: str) -> str:
    lines = []
    for i, h in enumerate(hits):
        stamp = combined_line("x", h.when, "GET", "/", "HTTP/1.1", 200, 0, None, None, None).split("[")[1].split("]")[0]
        target_bucket = "someone-elses-bucket" if h.elsewhere else bucket
        key = f"{prefix}/{h.key}"
        operation = f"REST.{h.method}.OBJECT"
        lines.append(
            f"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be {target_bucket} [{stamp}] {h.ip} - "
            f"3E57427F3EXAMPLE{i:04d} {operation} {quote(key)} \"{h.method} /{target_bucket}/{quote(key)} HTTP/1.1\" "
            f"{h.status} - {h.sent or '-'} {h.size or '-'} 70 10 \"-\" \"{h.agent}\" - "
            f"s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 "
            f"ECDHE-RSA-AES128-GCM-SHA256 AuthHeader {target_bucket}.s3.eu-north-1.amazonaws.com TLSv1.2 - -\n")
    return "".join(lines)


CLOUDFRONT_FIELDS = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
                     "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
                     "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
                     "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
                     "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
                     "sc-range-start sc-range-end")


def cloudfront_log(hits: list[Hit], public_path: str) -> str:
    out = ["#Version: 1.0\n", f"#Fields: {CLOUDFRONT_FIELDS}\n"]
    for i, h in enumerate(hits):
        path = f"/elsewhere/{h.key}" if h.elsewhere else f"{public_path}/{h.key}"
        row = [h.when.strftime("%Y-%m-%d"), h.when.strftime("%H:%M:%S"), "HEL50-C1", str(h.sent), h.ip, h.method,
               "d111111abcdef8.cloudfront.net", quote(path), str(h.status), "-", quote(h.agent, safe="/();:,.+"),
               "-", "-", "Miss", f"req{i}", "cdn.example.fi", "https", "220", "0.1", "-", "TLSv1.3",
               "TLS_AES_128_GCM_SHA256", "Miss", "HTTP/2.0", "-", "-", "50000", "0.05", "Miss",
               "audio/mpeg", str(h.sent), "-" if h.first is None else str(h.first),
               "-" if h.last is None else str(h.last)]
        out.append("\t".join(row) + "\n")
    return "".join(out)


def combined_log(hits: list[Hit], public_path: str) -> str:
    lines = []
    for h in hits:
        path = f"/elsewhere/{h.key}" if h.elsewhere else f"{public_path}/{h.key}"
        range_header = None if h.first is None else f"bytes={h.first}-{'' if h.last is None else h.last}"
        lines.append(combined_line(h.ip, h.when, h.method, path, "HTTP/1.1", h.status, h.sent, None, h.agent,
                                   range_header))
    return "".join(lines)


MALFORMED = ["this is not a log line at all\n", "203.0.113.5 - - [02/Nov/2026:10:00:00 +0000] \"GET /podc\n"]
