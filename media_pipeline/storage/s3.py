"""S3 and S3-compatible object storage (`s3://bucket/prefix?region=...&addressing=path`) through boto3.

Credentials come from the standard AWS chain only (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws, instance
roles), never from the workspace; endpoint and region from the chain or the storage URL's query.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import parse_qsl, urlparse

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import ChunksizeAdjuster

from media_pipeline.errors import ConfigError, StorageError
from media_pipeline.storage.base import ObjectInfo, PreconditionFailed, UploadProgress
from media_pipeline.util.redact import redact, redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")

MiB = 1024 * 1024
_SHA_META = "sha256"  # stored as x-amz-meta-sha256: our hex checksum, on every object
_MAX_SINGLE_COPY = 5 * 1024 * MiB  # CopyObject's limit; larger objects need a multipart copy

# Error codes that mean "try again later" on AWS and the S3-compatible servers we know.
_TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
                    "InternalError", "ServiceUnavailable", "RequestLimitExceeded", "TooManyRequests",
                    "TooManyRequestsException", "503", "500", "502", "504",
                    # the body was damaged on the way (Content-MD5 or x-amz-checksum mismatch): send it again
                    "BadDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch"}
# What servers without SHA-256 checksum support answer when asked for one.
_CHECKSUM_REFUSED = {"NotImplemented", "InvalidArgument", "InvalidRequest", "BadRequest"}
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}

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
            raise ConfigError(f"option {name!r} must be a number, not {value!r}", field="storage",
                              path=shown) from None
    return parsed.netloc, parsed.path.strip("/"), options


class S3Storage:
    """Objects below `prefix` in one bucket; see the Storage protocol for the verbs' contract."""

    def __init__(self, bucket: str, prefix: str = "", *, url: str | None = None, client=None, **options):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = redact_url(url or f"s3://{bucket}/{self.prefix}".rstrip("/"))  # how logs and errors name it
        try:
            self.options = S3Options(**options)
        except TypeError as exc:
            raise ConfigError(str(exc), field="storage", path=self.url) from None
        self._check_options()
        try:
            self.client = client or self._make_client()
        except BotoCoreError as exc:  # ProfileNotFound, a broken ~/.aws/config, an invalid region...
            raise ConfigError(f"cannot set up the S3 client: {_reason(exc)}", field="storage", path=self.url) from None
        self.transfer = TransferConfig(multipart_threshold=self.options.multipart_threshold,
                                       multipart_chunksize=self.options.part_size,
                                       max_concurrency=self.options.concurrency, use_threads=True)
        self._server_checksum = self.options.checksum == "auto"
        self._swept = False
        self._sweep_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **overrides) -> "S3Storage":
        bucket, prefix, options = parse_s3_url(url)
        return cls(bucket, prefix, url=url, **{**options, **overrides})

    def _check_options(self) -> None:
        o = self.options
        problems = []
        if o.addressing_style not in ADDRESSING_STYLES:
            problems.append(f"addressing must be one of {', '.join(ADDRESSING_STYLES)}, not {o.addressing_style!r}")
        if o.checksum not in CHECKSUM_MODES:
            problems.append(f"checksum must be one of {', '.join(CHECKSUM_MODES)}, not {o.checksum!r}")
        if o.retry_mode not in ("standard", "adaptive", "legacy"):
            problems.append(f"retry_mode must be standard or adaptive, not {o.retry_mode!r}")
        if o.part_size < 5 * MiB:
            problems.append("part size must be at least 5 MiB (an S3 rule for every part but the last)")
        if o.concurrency < 1 or o.max_attempts < 1 or o.retries < 1:
            problems.append("concurrency, max_attempts and retries must be at least 1")
        if problems:
            raise ConfigError("; ".join(problems), field="storage", path=self.url)

    def _make_client(self):
        o = self.options
        config = Config(
            region_name=o.region,
            s3={"addressing_style": o.addressing_style},
            retries={"mode": o.retry_mode, "total_max_attempts": o.max_attempts},
            connect_timeout=o.connect_timeout,
            read_timeout=o.read_timeout,
            max_pool_connections=max(10, 2 * o.concurrency),
            # botocore >= 1.36 adds CRC32 checksums to every upload by default, which several
            # S3-compatible servers reject; we ask for SHA-256 ourselves where it is wanted.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # endpoint_url=None lets botocore read AWS_ENDPOINT_URL(_S3) and the profile's endpoint_url.
        # A session of its own: credentials are resolved from the environment as it is now.
        return boto3.session.Session().client("s3", endpoint_url=o.endpoint_url, config=config)

    # -- keys ---------------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def presigned_url(self, key: str, *, expires: int = 3600) -> str:
        """A time-limited GET URL for one object, public or private (previews, tests)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires)

    # -- the protocol -------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo | None:
        def attempt() -> ObjectInfo | None:
            try:
                response = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    return None
                raise
            return self._info(key, response)

        return self._retry("cannot read object metadata", key, attempt)

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo] | None:
        def attempt() -> tuple[bytes, ObjectInfo] | None:
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    return None
                raise
            # Reading the body happens after botocore's retries are over: a connection dropped
            # here is retried by our own loop around this whole attempt.
            data = response["Body"].read()
            info = self._info(key, response)
            if len(data) != info.size or (info.sha256 and hashlib.sha256(data).hexdigest() != info.sha256):
                raise _Corrupt("downloaded bytes do not match the stored size or checksum")
            return data, info

        return self._retry("cannot download", key, attempt)

    def put_file(self, key: str, path: Path, *, content_type: str, cache_control: str, sha256: str,
                 progress: UploadProgress | None = None) -> ObjectInfo:
        size = path.stat().st_size
        multipart = size >= self.options.multipart_threshold
        part_size = ChunksizeAdjuster().adjust_chunksize(self.options.part_size, size) if multipart else size
        expected = _Digests.of_file(path, part_size if multipart else 0)
        if expected.sha256 != sha256:
            raise StorageError("the file's checksum differs from the one given (was it changed?)", path=path)
        self._sweep_stale_uploads()
        if multipart:
            # An upload of this key killed mid-way leaves invisible parts that cost storage; we are
            # about to replace the key, so they can go now, whatever their age.
            self._clean_up(key=key)

        extra = {"ContentType": content_type, "CacheControl": cache_control, "Metadata": {_SHA_META: sha256}}
        with ThreadPoolExecutor(1) as pool:
            # The MD5 form of the ETag is worked out while the upload runs (hashlib frees the GIL).
            etag_md5 = pool.submit(_etag_md5, path, part_size if multipart else 0)

            def attempt() -> ObjectInfo:
                self._upload(key, path, size, progress, extra)
                # Verify what landed before anything (a feed) may point at it: size, our checksum,
                # the server's SHA-256 and its MD5 ETag. Servers that take a checksum header
                # without checking it exist; bytes damaged on the way are sent again.
                response = self.client.head_object(Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED")
                problem = expected.mismatch(response, size, sha256, etag_md5.result)
                if problem:
                    raise _Corrupt(f"did not verify: {problem}")
                return self._info(key, response)

            return self._retry("upload failed", key, attempt)

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str,
                  if_match: str | None = None, if_absent: bool = False) -> ObjectInfo:
        sha256 = hashlib.sha256(data).hexdigest()
        args = {"Bucket": self.bucket, "Key": self._key(key), "Body": data, "ContentType": content_type,
                "CacheControl": cache_control, "Metadata": {_SHA_META: sha256},
                # Content-MD5 makes the server refuse a body damaged on the way (RFC 1864).
                "ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode()}
        if if_match is not None:
            args["IfMatch"] = f'"{if_match}"'
        if if_absent:
            args["IfNoneMatch"] = "*"

        attempts = [0]

        def attempt() -> dict:
            attempts[0] += 1
            try:
                return self._with_checksum(lambda extra: self.client.put_object(**args, **extra))
            except ClientError as exc:
                if _code(exc) in _PRECONDITION or (if_match is not None and _code(exc) in _NOT_FOUND):
                    # A retried conditional write (botocore's retry or ours) can lose to its own
                    # earlier attempt whose answer was lost on the way back: the object then holds
                    # exactly our bytes, and that is a success, not a race. Without a retry it is a
                    # race, even when the other writer happened to write the same bytes: only one
                    # writer may believe it made the change.
                    retried = attempts[0] > 1 or exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0
                    current = self.head(key) if retried else None
                    if current is not None and current.sha256 == sha256:
                        return {"ETag": current.etag}
                    raise PreconditionFailed("changed since it was read", path=self._where(key)) from exc
                raise

        response = self._retry("upload failed", key, attempt)
        return ObjectInfo(key, len(data), response.get("ETag", "").strip('"'), content_type, cache_control, sha256)

    def copy(self, source: str, dest: str, *, content_type: str, cache_control: str) -> ObjectInfo:
        head = self.head(source)
        if head is None:
            raise StorageError("cannot copy: no such object", path=self._where(source))
        extra = {"ContentType": content_type, "CacheControl": cache_control,
                 "Metadata": {_SHA_META: head.sha256 or ""}, "MetadataDirective": "REPLACE"}
        copy_source = {"Bucket": self.bucket, "Key": self._key(source)}

        def attempt() -> None:
            if head.size < _MAX_SINGLE_COPY:
                self.client.copy_object(CopySource=copy_source, Bucket=self.bucket, Key=self._key(dest), **extra)
            else:
                with create_transfer_manager(self.client, self.transfer) as manager:
                    extra.pop("MetadataDirective", None)  # a multipart copy always takes the metadata given
                    manager.copy(copy_source, self.bucket, self._key(dest), extra_args=extra).result()

        self._retry("server-side copy failed", dest, attempt)
        info = self.head(dest)
        if info is None or info.size != head.size or info.sha256 != head.sha256:
            raise StorageError("copy did not verify: stored size or checksum differs", path=self._where(dest))
        return info

    def delete(self, key: str) -> None:
        self._retry("delete failed", key, lambda: self.client.delete_object(Bucket=self.bucket, Key=self._key(key)))

    # -- multipart housekeeping ---------------------------------------------------------------

    def abort_incomplete_uploads(self, *, key: str | None = None, older_than: float = 0.0) -> int:
        """Abort unfinished multipart uploads of `key` (or of every key below the prefix) that
        started more than `older_than` seconds ago; return how many. Their parts are invisible
        to readers but billed until aborted."""
        prefix = self._key(key) if key is not None else (self.prefix + "/" if self.prefix else "")
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if key is not None and upload["Key"] != prefix:
                    continue
                if older_than and upload["Initiated"] > cutoff:
                    continue
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                except ClientError as exc:
                    if _code(exc) != "NoSuchUpload":  # someone else aborted or completed it
                        raise
                log.info("aborted an unfinished multipart upload of s3://%s/%s started %s",
                         self.bucket, upload["Key"], upload["Initiated"])
                aborted += 1
        return aborted

    def _sweep_stale_uploads(self) -> None:
        """Once per storage object, before the first upload: abort old unfinished uploads below
        the prefix (younger ones may belong to a run still going)."""
        with self._sweep_lock:
            if self._swept:
                return
            self._swept = True
        self._clean_up(older_than=self.options.stale_upload_seconds)

    def _clean_up(self, **which) -> None:
        """Abort unfinished uploads; cleaning up must never stop a publish, so failures (a missing
        s3:ListBucketMultipartUploads permission, say) only log."""
        try:
            self.abort_incomplete_uploads(**which)
        except (ClientError, BotoCoreError) as exc:
            # A missing permission is worth a warning; a server that is down is not: the upload
            # that follows reports it.
            level = logging.INFO if _transient(exc) else logging.WARNING
            log.log(level, "could not clean up unfinished uploads below %s: %s", self.url, _reason(exc))

    # -- internals ----------------------------------------------------------------------------

    def _upload(self, key: str, path: Path, size: int, progress: UploadProgress | None, extra: dict) -> None:
        def run(checksum: dict) -> None:
            subscriber = _Progress(size, progress)
            with create_transfer_manager(self.client, self.transfer) as manager:
                future = manager.upload(str(path), self.bucket, self._key(key), extra_args={**extra, **checksum},
                                        subscribers=[subscriber])
                future.result()

        self._with_checksum(run)

    def _with_checksum(self, call: Callable[[dict], T]) -> T:
        """Run `call` asking for a server-verified SHA-256, unless the server refused it before."""
        if not self._server_checksum:
            return call({})
        try:
            return call({"ChecksumAlgorithm": "SHA256"})
        except ClientError as exc:
            message = str(exc.response.get("Error", {}).get("Message", "")).lower()
            if not (_code(exc) == "NotImplemented" or (_code(exc) in _CHECKSUM_REFUSED and "checksum" in message)):
                raise
            log.info("%s refused SHA-256 checksums (%s); verifying by size and ETag instead", self.url, _reason(exc))
            self._server_checksum = False
            return call({})

    def _info(self, key: str, response: dict) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType"),
            cache_control=response.get("CacheControl"),
            sha256=(response.get("Metadata") or {}).get(_SHA_META) or None,
        )

    def _retry(self, what: str, key: str, operation: Callable[[], T]) -> T:
        """Run a whole operation, again after a transient failure (with exponential backoff and
        jitter), and turn what is left into one StorageError line."""
        delay = self.options.backoff
        for attempt in range(1, self.options.retries + 1):
            try:
                return operation()
            except StorageError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified right below
                if not isinstance(exc, (ClientError, BotoCoreError, _Corrupt, OSError)):
                    raise
                if not _transient(exc) or attempt == self.options.retries:
                    raise self._error(what, key, exc, attempt) from None
                wait = random.uniform(delay / 2, delay)
                # Info, not warning: a retry that succeeds is routine, and one that does not ends
                # in the single error line; -v shows each try.
                log.info("%s: %s (%s); trying again in %.1f s", self._where(key), what, _reason(exc), wait)
                time.sleep(wait)
                delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _error(self, what: str, key: str, exc: Exception, attempts: int) -> StorageError:
        tries = f" after {attempts} tries" if attempts > 1 else ""
        return StorageError(f"{what}{tries}: {_reason(exc)}", path=self._where(key))


class _Corrupt(Exception):
    """Bytes that arrived but do not match their size or checksum: worth another try."""


class _Progress(BaseSubscriber):
    """Adds up s3transfer's per-part progress (from several threads; negative when a part is
    retried) into (sent, total) calls."""

    def __init__(self, total: int, callback: UploadProgress | None):
        self.total = total
        self.callback = callback
        self.sent = 0
        self.lock = threading.Lock()

    def on_progress(self, future, bytes_transferred: int, **kwargs) -> None:
        if self.callback is None:
            return
        with self.lock:  # calls in order, so a bar never sees the count go back
            self.sent = max(0, min(self.total, self.sent + bytes_transferred))
            self.callback(self.sent, self.total)


@dataclass(frozen=True)
class _Digests:
    """What the server should report for a file uploaded in parts of `part_size` (0: one part)."""

    path: Path
    part_size: int
    sha256: str
    parts: tuple[bytes, ...]  # SHA-256 of each part, for S3's composite multipart checksum

    @classmethod
    def of_file(cls, path: Path, part_size: int) -> "_Digests":
        whole = hashlib.sha256()
        parts = []
        with path.open("rb") as fh:
            while True:
                block = fh.read(part_size or 8 * MiB)
                if not block:
                    break
                whole.update(block)
                if part_size:
                    parts.append(hashlib.sha256(block).digest())
        return cls(path, part_size, whole.hexdigest(), tuple(parts))

    def server_sha256(self) -> set[str]:
        """Base64 SHA-256 forms a server may report: of the whole object, or composite (the
        SHA-256 of the parts' SHA-256s) for a multipart upload."""
        forms = {base64.b64encode(bytes.fromhex(self.sha256)).decode()}
        if self.parts:
            forms.add(base64.b64encode(hashlib.sha256(b"".join(self.parts)).digest()).decode())
        return forms

    def mismatch(self, response: dict, size: int, sha256: str, etag_md5: Callable[[], str]) -> str | None:
        if int(response.get("ContentLength", -1)) != size:
            return f"stored size {response.get('ContentLength')} differs from the file's {size}"
        if (response.get("Metadata") or {}).get(_SHA_META) != sha256:
            return "the stored sha256 metadata differs from the file's"
        server = response.get("ChecksumSHA256")
        if server and server.split("-")[0] not in self.server_sha256():
            return "the server's SHA-256 of the stored bytes differs from the file's"
        etag = response.get("ETag", "").strip('"')
        # Encrypted objects (SSE-KMS, SSE-C) have ETags that are not an MD5 of the bytes.
        encrypted = response.get("ServerSideEncryption") == "aws:kms" or response.get("SSECustomerAlgorithm")
        if not re.fullmatch(r"[0-9a-f]{32}(-\d+)?", etag) or encrypted:
            return None
        if server and "-" in etag:
            return None  # multipart ETag formats vary between servers; the SHA-256 already agreed
        if "-" in etag and int(etag.split("-")[1]) != len(self.parts):
            log.info("%s: cannot check the ETag of an upload in %s parts", self.path, etag.split("-")[1])
            return None
        if etag != etag_md5():
            return "the server's MD5 ETag of the stored bytes differs from the file's"
        return None


def _etag_md5(path: Path, part_size: int) -> str:
    """The ETag S3 gives an unencrypted object: the MD5 of its bytes, or for a multipart upload
    the MD5 of the parts' MD5s followed by the part count."""
    whole, parts = hashlib.md5(), []
    with path.open("rb") as fh:
        while block := fh.read(part_size or 8 * MiB):
            if part_size:
                parts.append(hashlib.md5(block).digest())
            else:
                whole.update(block)
    if part_size:
        return f"{hashlib.md5(b''.join(parts)).hexdigest()}-{len(parts)}"
    return whole.hexdigest()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _transient(exc: Exception) -> bool:
    """Worth another try: throttling, 5xx, timeouts, connections dropped or cut mid-body."""
    if isinstance(exc, ClientError):
        return _code(exc) in _TRANSIENT_CODES or _status(exc) >= 500 or _status(exc) == 429
    if isinstance(exc, NoCredentialsError):
        return False
    # HTTPClientError covers closed connections, read timeouts and bodies cut mid-way.
    return isinstance(exc, (BotoConnectionError, HTTPClientError, IncompleteReadError, _Corrupt,
                            ConnectionError, TimeoutError)) or (
        isinstance(exc, BotoCoreError) and "timeout" in str(exc).lower())


def _reason(exc: Exception) -> str:
    """One line saying why, without a stack or anything secret (botocore's messages carry no
    credentials; the URLs it names carry no signature since requests are signed in headers)."""
    if isinstance(exc, NoCredentialsError):
        text = "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    elif isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code") or "error"), error.get("Message") or ""
        status = _status(exc)
        if code == str(status):  # a HEAD answer has no body, so no code: only the status line
            text = f"HTTP {status}" + (f" {message}" if message else "")
        else:
            text = code + (f" (HTTP {status})" if status else "") + (f": {message}" if message else "")
    else:
        text = str(exc) or type(exc).__name__
    # botocore names the endpoint in connection errors, which may carry user:password@
    text = redact(" ".join(text.split()))
    return text if len(text) <= 300 else text[:297] + "..."
