"""Optional S3 features, found out from the server rather than assumed.

S3-compatible servers differ in what they implement beyond GET, PUT and DELETE:

- conditional writes (`If-None-Match: *` and `If-Match` on PUT), which keep two publishers from
  overwriting each other's manifest: AWS (since 2024), MinIO, R2 and moto refuse a stale write
  with 412; rclone's `serve s3` and s3rver answer 200 and overwrite. `conditional_writes` asks
  the server once per run, with a probe object below `_private/`, before the run's first write.
- SHA-256 checksums of uploads (`ChecksumAlgorithm`): asked for, and no longer once refused
  (`store.S3Storage._with_checksum`).
- listing unfinished multipart uploads: some servers answer `NoSuchUpload` or `NotImplemented`
  for the listing itself; the cleanup then stops asking for the rest of the run (`multipart.py`).
"""

from __future__ import annotations

import logging
import uuid

from botocore.exceptions import BotoCoreError, ClientError

from media_pipeline.storage.s3.failures import PRECONDITION, REFUSED, code

log = logging.getLogger(__name__)

PROBE_FOLDER = "_private/probe"  # below the storage prefix; each probe object is deleted at once


def conditional_writes(client, bucket: str, prefix: str) -> bool:
    """Whether the server refuses a stale conditional write (412), as a compare-and-swap needs.

    Writes a fresh probe object with `If-None-Match: *`, then tries to overwrite it once with
    `If-None-Match: *` and once with `If-Match` on an ETag it never had: both must be refused.
    A server that rejects the headers themselves (NotImplemented) has no conditional writes either.
    The probe object is deleted afterwards. Raises ClientError for anything else (the caller
    retries and reports it like any other request).
    """
    key = f"{prefix}/{PROBE_FOLDER}/{uuid.uuid4().hex}" if prefix else f"{PROBE_FOLDER}/{uuid.uuid4().hex}"
    common = {"Bucket": bucket, "Key": key, "ContentType": "text/plain", "CacheControl": "no-store"}
    try:
        try:
            client.put_object(Body=b"first", IfNoneMatch="*", **common)
        except ClientError as exc:
            if code(exc) in REFUSED:
                log.info("s3://%s: conditional writes refused: %s", bucket, code(exc))
                return False
            raise
        refused = 0
        for condition in ({"IfNoneMatch": "*"}, {"IfMatch": '"00000000000000000000000000000000"'}):
            try:
                client.put_object(Body=b"second", **condition, **common)
            except ClientError as exc:
                if code(exc) not in PRECONDITION | REFUSED:
                    raise
                refused += code(exc) in PRECONDITION
        return refused == 2
    finally:
        try:
            client.delete_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:  # harmless: a few bytes below _private/
            log.info("could not delete the probe object s3://%s/%s: %s", bucket, key, exc)


REFUSAL = (
    # The one line (after the storage URL) a write gets on a server without conditional writes,
    # unless the publisher said they publish from one machine at a time.
    "this server ignores conditional writes (If-None-Match, If-Match), so two runs at once (a cron job "
    "and a producer, two machines) could each overwrite the other's episodes; nothing was written. Publish "
    "from one machine at a time and say so with single_publisher=true in the storage URL (docs/storage.md)")
