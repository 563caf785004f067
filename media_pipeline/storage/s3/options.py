"""What the storage URL's query may say (`s3://bucket/prefix?region=eu-north-1&addressing=path`) and its checks."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlparse

from media_pipeline.errors import ConfigError
from media_pipeline.util.redact import redact_url

MiB = 1024 * 1024
ADDRESSING_STYLES = ("auto", "path", "virtual")
CHECKSUM_MODES = ("auto", "off")


@dataclass(frozen=True)
class S3Options:
    """How to reach the bucket and how hard to try. Every field can be set in the storage URL query.

    `checksum="auto"` asks the server to verify a SHA-256 of every upload (S3's ChecksumAlgorithm)
    and falls back silently on servers that refuse it; `"off"` never asks.
    """

    endpoint_url: str | None = None  # None: AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / the AWS default
    region: str | None = None  # None: AWS_REGION / AWS_DEFAULT_REGION / the profile
    addressing_style: str = "auto"  # path: https://host/bucket/key; virtual: https://bucket.host/key
    checksum: str = "auto"
    part_size: int = 16 * MiB  # multipart chunk; S3 needs at least 5 MiB per part
    multipart_threshold: int = 16 * MiB
    concurrency: int = 4  # parts in flight at once
    retry_mode: str = "standard"  # botocore's per-request retries: standard or adaptive
    max_attempts: int = 5  # per request, by botocore, the first try included
    # Whole operations, by us: covers what botocore cannot retry (a body cut mid-way, a failed
    # verification) and outages longer than its quick per-request retries (about 15 s in all).
    retries: int = 4
    backoff: float = 2.0  # seconds before our second try at most; doubles, with jitter
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    stale_upload_seconds: float = 86400.0  # unfinished multipart uploads older than this are aborted
    # The publisher's word that only one machine writes below this prefix at a time: needed to
    # write at all on a server that ignores conditional writes (see capabilities.py)
    single_publisher: bool = False

    def problems(self) -> list[str]:
        found = []
        if self.addressing_style not in ADDRESSING_STYLES:
            found.append(f"addressing must be one of {', '.join(ADDRESSING_STYLES)}, not {self.addressing_style!r}")
        if self.checksum not in CHECKSUM_MODES:
            found.append(f"checksum must be one of {', '.join(CHECKSUM_MODES)}, not {self.checksum!r}")
        if self.retry_mode not in ("standard", "adaptive", "legacy"):
            found.append(f"retry_mode must be standard or adaptive, not {self.retry_mode!r}")
        if self.part_size < 5 * MiB:
            found.append("part size must be at least 5 MiB (an S3 rule for every part but the last)")
        if self.concurrency < 1 or self.max_attempts < 1 or self.retries < 1:
            found.append("concurrency, max_attempts and retries must be at least 1")
        return found


def _flag(value: str) -> bool:
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ValueError(value)


# Storage URL query keys and how to read them: s3://bucket/prefix?region=eu-north-1&addressing=path
_QUERY = {
    "endpoint": ("endpoint_url", str),
    "region": ("region", str),
    "addressing": ("addressing_style", str),
    "checksum": ("checksum", str),
    "part_mb": ("part_size", lambda v: int(float(v) * MiB)),
    "threshold_mb": ("multipart_threshold", lambda v: int(float(v) * MiB)),
    "concurrency": ("concurrency", int),
    "retry_mode": ("retry_mode", str),
    "max_attempts": ("max_attempts", int),
    "retries": ("retries", int),
    "single_publisher": ("single_publisher", _flag),
}


def parse_s3_url(url: str) -> tuple[str, str, dict]:
    """Bucket, prefix and S3Options fields from `s3://bucket/prefix?key=value&...`."""
    parsed = urlparse(url)
    shown = redact_url(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ConfigError("needs a bucket name, like s3://bucket/prefix", field="storage", path=shown)
    options: dict = {}
    for name, value in parse_qsl(parsed.query, keep_blank_values=True):
        if name not in _QUERY:
            raise ConfigError(f"unknown option {name!r} in the query (known: {', '.join(_QUERY)})",
                              field="storage", path=shown)
        field, convert = _QUERY[name]
        try:
            options[field] = convert(value)
        except ValueError:
            kind = "true or false" if convert is _flag else "a number"
            raise ConfigError(f"option {name!r} must be {kind}, not {value!r}", field="storage",
                              path=shown) from None
    return parsed.netloc, parsed.path.strip("/"), options
