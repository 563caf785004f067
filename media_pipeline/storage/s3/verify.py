"""Checking what landed against the file: size, our sha256 metadata, the server's SHA-256 and its
MD5 ETag, in every form S3-compatible servers give them.

Servers differ in what they report: user metadata comes back as `sha256` from AWS and moto but as
`Sha256` from rclone and MinIO (HTTP header names carry no case); a multipart upload's ETag is the
MD5 of the parts' MD5s followed by `-N` on AWS, MinIO and moto, and the MD5 of the whole file
without a suffix on s3rver. Every form that is a digest of these very bytes is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

MiB = 1024 * 1024
SHA_META = "sha256"  # stored as x-amz-meta-sha256: our hex checksum, on every object


def metadata(response: dict, name: str) -> str | None:
    """A user-metadata value, whatever case the server gave its name in."""
    for key, value in (response.get("Metadata") or {}).items():
        if key.lower() == name:
            return value
    return None


@dataclass(frozen=True)
class Digests:
    """What the server should report for a file uploaded in parts of `part_size` (0: one part)."""

    path: Path
    part_size: int
    sha256: str
    parts: tuple[bytes, ...]  # SHA-256 of each part, for S3's composite multipart checksum

    @classmethod
    def of_file(cls, path: Path, part_size: int) -> "Digests":
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

    def mismatch(self, response: dict, size: int, sha256: str, etags: Callable[[], set[str]]) -> str | None:
        """Why the stored object (a HEAD answer) is not this file, or None."""
        if int(response.get("ContentLength", -1)) != size:
            return f"stored size {response.get('ContentLength')} differs from the file's {size}"
        if metadata(response, SHA_META) != sha256:
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
            return None  # the SHA-256 already agreed; multipart ETags need not be checked as well
        if "-" in etag and int(etag.split("-")[1]) != len(self.parts):
            log.info("%s: cannot check the ETag of an upload in %s parts", self.path, etag.split("-")[1])
            return None
        if etag not in etags():
            return "the server's MD5 ETag of the stored bytes differs from the file's"
        return None


def etag_forms(path: Path, part_size: int) -> set[str]:
    """The ETags a server may give an unencrypted object of these bytes: the MD5 of its bytes, and
    for an upload in parts also the MD5 of the parts' MD5s followed by the part count."""
    whole, parts = hashlib.md5(), []
    with path.open("rb") as fh:
        while block := fh.read(part_size or 8 * MiB):
            whole.update(block)
            if part_size:
                parts.append(hashlib.md5(block).digest())
    forms = {whole.hexdigest()}
    if part_size:
        forms.add(f"{hashlib.md5(b''.join(parts)).hexdigest()}-{len(parts)}")
    return forms
