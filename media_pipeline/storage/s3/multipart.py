"""Unfinished multipart uploads: invisible to readers, billed until aborted, cleaned up by runs.

Before its first upload a run aborts unfinished uploads below the prefix that started more than
a day ago (a younger one may belong to a run still going), and before a large upload the
unfinished ones of the same key. Cleaning up never stops a publish: a missing permission logs a
warning, and a server that cannot list unfinished uploads at all (it answers the listing with
`NoSuchUpload`, `NotImplemented` or `MethodNotAllowed`) is not asked again in the run.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from botocore.exceptions import BotoCoreError, ClientError

from media_pipeline.storage.s3.failures import code, reason, transient

log = logging.getLogger(__name__)

# Answers to the listing itself that mean the server has no such listing.
UNSUPPORTED = {"NoSuchUpload", "NotImplemented", "MethodNotAllowed", "InvalidRequest", "XNotImplemented"}


class NoListing(Exception):
    """The server cannot list unfinished multipart uploads."""


def abort_incomplete(client, bucket: str, prefix: str, *, key: str | None = None, older_than: float = 0.0) -> int:
    """Abort unfinished multipart uploads of the full key `key` (or of every key below `prefix`)
    that started more than `older_than` seconds ago; return how many."""
    below = key if key is not None else (prefix + "/" if prefix else "")
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    aborted = 0
    paginator = client.get_paginator("list_multipart_uploads")
    try:
        pages = list(paginator.paginate(Bucket=bucket, Prefix=below))
    except ClientError as exc:
        if code(exc) in UNSUPPORTED:
            raise NoListing(reason(exc)) from None
        raise
    for page in pages:
        for upload in page.get("Uploads", []):
            if key is not None and upload["Key"] != key:
                continue
            if older_than and upload["Initiated"] > cutoff:
                continue
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            except ClientError as exc:
                if code(exc) != "NoSuchUpload":  # someone else aborted or completed it
                    raise
                continue
            log.info("aborted an unfinished multipart upload of s3://%s/%s started %s",
                     bucket, upload["Key"], upload["Initiated"])
            aborted += 1
    return aborted


class Cleanup:
    """The cleanup of one storage object: the sweep once, per-key cleanups before large uploads,
    and no more listings once the server said it has none."""

    def __init__(self, client, bucket: str, prefix: str, url: str, stale_seconds: float):
        self.client, self.bucket, self.prefix, self.url = client, bucket, prefix, url
        self.stale_seconds = stale_seconds
        self.swept = False
        self.lock = threading.Lock()
        self.listing = True  # False once the server said it cannot list unfinished uploads

    def sweep(self) -> None:
        """Once, before the run's first upload: abort old unfinished uploads below the prefix."""
        with self.lock:
            if self.swept:
                return
            self.swept = True
        self.run(older_than=self.stale_seconds)

    def run(self, **which) -> None:
        if not self.listing:
            return
        try:
            abort_incomplete(self.client, self.bucket, self.prefix, **which)
        except NoListing as exc:
            self.listing = False
            log.info("%s cannot list unfinished multipart uploads (%s); add a lifecycle rule that aborts "
                     "them instead", self.url, exc)
        except (ClientError, BotoCoreError) as exc:
            # A missing permission is worth a warning; a server that is down is not: the upload
            # that follows reports it.
            level = logging.INFO if transient(exc) else logging.WARNING
            log.log(level, "could not clean up unfinished uploads below %s: %s", self.url, reason(exc))
