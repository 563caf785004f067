"""S3 and S3-compatible object storage (`s3://bucket/prefix`) through boto3.

Credentials, region and endpoint come from the standard AWS chain (AWS_PROFILE, AWS_ACCESS_KEY_ID,
AWS_ENDPOINT_URL, ~/.aws/config ...), never from the workspace files.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import StorageError
from .base import ObjectInfo, PreconditionFailed, UploadProgress

log = logging.getLogger(__name__)

_SHA_META = "sha256"


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", *, url: str | None = None, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = url or f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = client or boto3.client(
            "s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
        self.transfer = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024,
                                       max_concurrency=4)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def local_path(self, key: str) -> Path | None:
        return None

    def _info(self, key: str, response: dict) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType"),
            cache_control=response.get("CacheControl"),
            sha256=(response.get("Metadata") or {}).get(_SHA_META),
        )

    def head(self, key: str) -> ObjectInfo | None:
        try:
            return self._info(key, self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("cannot read object metadata", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("cannot read object metadata", key, exc) from exc

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo] | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            data = response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("cannot download", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("cannot download", key, exc) from exc
        return data, self._info(key, response)

    def put_file(self, key: str, path: Path, *, content_type: str, cache_control: str, sha256: str,
                 progress: UploadProgress | None = None) -> ObjectInfo:
        size = path.stat().st_size
        sent = [0]

        def callback(amount: int) -> None:
            sent[0] += amount
            if progress:
                progress(sent[0], size)

        try:
            self.client.upload_file(
                str(path), self.bucket, self._key(key), Config=self.transfer, Callback=callback,
                ExtraArgs={"ContentType": content_type, "CacheControl": cache_control,
                           "Metadata": {_SHA_META: sha256}})
        except (ClientError, BotoCoreError) as exc:
            raise self._error("upload failed", key, exc) from exc
        info = self.head(key)
        # Verify what landed: the size and our checksum must be there, or the feed must not point at it.
        if info is None or info.size != size or info.sha256 != sha256:
            raise StorageError("upload did not verify: stored size or checksum differs", path=self._key(key))
        return info

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str,
                  if_match: str | None = None, if_absent: bool = False) -> ObjectInfo:
        import hashlib

        sha256 = hashlib.sha256(data).hexdigest()
        args = {"Bucket": self.bucket, "Key": self._key(key), "Body": data, "ContentType": content_type,
                "CacheControl": cache_control, "Metadata": {_SHA_META: sha256},
                "ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode()}
        if if_match is not None:
            args["IfMatch"] = f'"{if_match}"'
        if if_absent:
            args["IfNoneMatch"] = "*"
        try:
            response = self.client.put_object(**args)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409") or (
                    if_match is not None and code in ("NoSuchKey", "404")):
                raise PreconditionFailed("changed since it was read", path=self._key(key)) from exc
            raise self._error("upload failed", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("upload failed", key, exc) from exc
        return ObjectInfo(key, len(data), response.get("ETag", "").strip('"'), content_type, cache_control, sha256)

    def copy(self, source: str, dest: str, *, content_type: str, cache_control: str) -> ObjectInfo:
        head = self.head(source)
        if head is None:
            raise StorageError("cannot copy: no such object", path=self._key(source))
        try:
            self.client.copy(
                {"Bucket": self.bucket, "Key": self._key(source)}, self.bucket, self._key(dest), Config=self.transfer,
                ExtraArgs={"ContentType": content_type, "CacheControl": cache_control,
                           "Metadata": {_SHA_META: head.sha256 or ""}, "MetadataDirective": "REPLACE"})
        except (ClientError, BotoCoreError) as exc:
            raise self._error("server-side copy failed", dest, exc) from exc
        info = self.head(dest)
        if info is None or info.size != head.size:
            raise StorageError("copy did not verify: stored size differs", path=self._key(dest))
        return info

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._error("delete failed", key, exc) from exc

    def _error(self, what: str, key: str, exc: Exception) -> StorageError:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
        else:
            reason = str(exc)
        return StorageError(f"{what} ({reason})", path=f"s3://{self.bucket}/{self._key(key)}")
