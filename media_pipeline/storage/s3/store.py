"""The S3 backend's verbs (see the Storage protocol), each retried as a whole and reported in one line.

Credentials come from the standard AWS chain only (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws, instance
roles), never from the workspace; endpoint and region from the chain or the storage URL's query.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import ChunksizeAdjuster

from media_pipeline.errors import ConfigError, StorageError
from media_pipeline.storage.base import ObjectInfo, PreconditionFailed, UploadProgress
from media_pipeline.storage.s3 import capabilities, multipart
from media_pipeline.storage.s3.failures import NOT_FOUND, PRECONDITION, REFUSED, Corrupt, code, reason, transient
from media_pipeline.storage.s3.options import MiB, S3Options, parse_s3_url
from media_pipeline.storage.s3.verify import SHA_META, Digests, etag_forms, metadata
from media_pipeline.util.redact import redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_SINGLE_COPY = 5 * 1024 * MiB  # CopyObject's limit; larger objects need a multipart copy


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
        if problems := self.options.problems():
            raise ConfigError("; ".join(problems), field="storage", path=self.url)
        try:
            self.client = client or self._make_client()
        except BotoCoreError as exc:  # ProfileNotFound, a broken ~/.aws/config, an invalid region...
            raise ConfigError(f"cannot set up the S3 client: {reason(exc)}", field="storage", path=self.url) from None
        self.transfer = TransferConfig(multipart_threshold=self.options.multipart_threshold,
                                       multipart_chunksize=self.options.part_size,
                                       max_concurrency=self.options.concurrency, use_threads=True)
        self._server_checksum = self.options.checksum == "auto"
        self._cleanup = multipart.Cleanup(self.client, bucket, self.prefix, self.url, self.options.stale_upload_seconds)
        self._conditional: bool | None = None  # whether the server honours conditional writes, once asked
        self._conditional_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **overrides) -> "S3Storage":
        bucket, prefix, options = parse_s3_url(url)
        return cls(bucket, prefix, url=url, **{**options, **overrides})

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
                if code(exc) in NOT_FOUND:
                    return None
                raise
            return self._info(key, response)

        return self._retry("cannot read object metadata", key, attempt)

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo] | None:
        def attempt() -> tuple[bytes, ObjectInfo] | None:
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if code(exc) in NOT_FOUND:
                    return None
                raise
            # Reading the body happens after botocore's retries are over: a connection dropped
            # here is retried by our own loop around this whole attempt.
            data = response["Body"].read()
            info = self._info(key, response)
            if len(data) != info.size or (info.sha256 and hashlib.sha256(data).hexdigest() != info.sha256):
                raise Corrupt("downloaded bytes do not match the stored size or checksum")
            return data, info

        return self._retry("cannot download", key, attempt)

    def put_file(self, key: str, path: Path, *, content_type: str, cache_control: str, sha256: str,
                 progress: UploadProgress | None = None) -> ObjectInfo:
        size = path.stat().st_size
        multipart = size >= self.options.multipart_threshold
        part_size = ChunksizeAdjuster().adjust_chunksize(self.options.part_size, size) if multipart else size
        expected = Digests.of_file(path, part_size if multipart else 0)
        if expected.sha256 != sha256:
            raise StorageError("the file's checksum differs from the one given (was it changed?)", path=path)
        self._writable()
        self._sweep_stale_uploads()
        if multipart:
            # An upload of this key killed mid-way leaves invisible parts that cost storage; we are
            # about to replace the key, so they can go now, whatever their age.
            self._clean_up(key=key)

        extra = {"ContentType": content_type, "CacheControl": cache_control, "Metadata": {SHA_META: sha256}}
        with ThreadPoolExecutor(1) as pool:
            # The MD5 forms of the ETag are worked out while the upload runs (hashlib frees the GIL).
            etags = pool.submit(etag_forms, path, part_size if multipart else 0)

            def attempt() -> ObjectInfo:
                self._upload(key, path, size, progress, extra)
                # Verify what landed before anything (a feed) may point at it: size, our checksum,
                # the server's SHA-256 and its MD5 ETag. Servers that take a checksum header
                # without checking it exist; bytes damaged on the way are sent again.
                response = self.client.head_object(Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED")
                problem = expected.mismatch(response, size, sha256, etags.result)
                if problem:
                    raise Corrupt(f"did not verify: {problem}")
                return self._info(key, response)

            return self._retry("upload failed", key, attempt)

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str,
                  if_match: str | None = None, if_absent: bool = False) -> ObjectInfo:
        sha256 = hashlib.sha256(data).hexdigest()
        self._writable()
        # A server that ignores the conditions (allowed only with single_publisher=true) gets them
        # checked here, between our HEAD and our PUT: enough for one publisher, whose runs on one
        # machine a lock keeps apart, never for two.
        emulate = (if_match is not None or if_absent) and not self.conditional_writes()
        args = {"Bucket": self.bucket, "Key": self._key(key), "Body": data, "ContentType": content_type,
                "CacheControl": cache_control, "Metadata": {SHA_META: sha256},
                # Content-MD5 makes the server refuse a body damaged on the way (RFC 1864).
                "ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode()}
        if if_match is not None and not emulate:
            args["IfMatch"] = f'"{if_match}"'
        if if_absent and not emulate:
            args["IfNoneMatch"] = "*"

        attempts = [0]

        def attempt() -> dict:
            attempts[0] += 1
            if emulate:
                current = self.head(key)
                if (if_absent and current is not None) or (if_match is not None and (current is None or current.etag != if_match)):
                    if attempts[0] > 1 and current is not None and current.sha256 == sha256:
                        return {"ETag": current.etag}  # our own earlier attempt, whose answer was lost
                    raise PreconditionFailed("changed since it was read", path=self._where(key))
            try:
                return self._with_checksum(lambda extra: self.client.put_object(**args, **extra))
            except ClientError as exc:
                if code(exc) in PRECONDITION or (if_match is not None and code(exc) in NOT_FOUND):
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
        self._writable()
        head = self.head(source)
        if head is None:
            raise StorageError("cannot copy: no such object", path=self._where(source))
        extra = {"ContentType": content_type, "CacheControl": cache_control,
                 "Metadata": {SHA_META: head.sha256 or ""}, "MetadataDirective": "REPLACE"}
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
        self._writable()
        self._retry("delete failed", key, lambda: self.client.delete_object(Bucket=self.bucket, Key=self._key(key)))

    # -- multipart housekeeping and capabilities ----------------------------------------------

    def abort_incomplete_uploads(self, *, key: str | None = None, older_than: float = 0.0) -> int:
        """Abort unfinished multipart uploads of `key` (or of every key below the prefix) that
        started more than `older_than` seconds ago; return how many. Their parts are invisible
        to readers but billed until aborted."""
        try:
            return multipart.abort_incomplete(self.client, self.bucket, self.prefix,
                                              key=self._key(key) if key is not None else None, older_than=older_than)
        except multipart.NoListing:
            return 0

    def _sweep_stale_uploads(self) -> None:
        self._cleanup.sweep()

    def _clean_up(self, *, key: str) -> None:
        self._cleanup.run(key=self._key(key))

    def conditional_writes(self) -> bool:
        """Whether the server refuses stale conditional writes (asked once per storage object)."""
        with self._conditional_lock:
            if self._conditional is None:
                self._conditional = self._retry("cannot ask the server about conditional writes",
                                                capabilities.PROBE_FOLDER,
                                                lambda: capabilities.conditional_writes(self.client, self.bucket,
                                                                                        self.prefix))
                if not self._conditional:
                    log.info("%s ignores conditional writes%s", self.url,
                             "; single publisher, as the storage URL says" if self.options.single_publisher else "")
            return self._conditional

    def check_writable(self) -> None:
        self._writable()

    def _writable(self) -> None:
        """Before any write: refuse on a server that ignores conditional writes, unless the
        storage URL says only one machine publishes here (`single_publisher=true`)."""
        if not self.conditional_writes() and not self.options.single_publisher:
            raise StorageError(capabilities.REFUSAL, path=self.url)

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
            if not (code(exc) == "NotImplemented" or (code(exc) in REFUSED and "checksum" in message)):
                raise
            log.info("%s refused SHA-256 checksums (%s); verifying by size and ETag instead", self.url, reason(exc))
            self._server_checksum = False
            return call({})

    def _info(self, key: str, response: dict) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType"),
            cache_control=response.get("CacheControl"),
            sha256=metadata(response, SHA_META) or None,
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
                if not isinstance(exc, (ClientError, BotoCoreError, Corrupt, OSError)):
                    raise
                if not transient(exc) or attempt == self.options.retries:
                    raise self._error(what, key, exc, attempt) from None
                wait = random.uniform(delay / 2, delay)
                # Info, not warning: a retry that succeeds is routine, and one that does not ends
                # in the single error line; -v shows each try.
                log.info("%s: %s (%s); trying again in %.1f s", self._where(key), what, reason(exc), wait)
                time.sleep(wait)
                delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _error(self, what: str, key: str, exc: Exception, attempts: int) -> StorageError:
        tries = f" after {attempts} tries" if attempts > 1 else ""
        return StorageError(f"{what}{tries}: {reason(exc)}", path=self._where(key))


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
