"""S3 and S3-compatible object storage (`s3://bucket/prefix?region=...&addressing=path`) through boto3.

`store` holds the backend's verbs; `options` the storage URL's query; `verify` what an upload must
read back as; `capabilities` the optional features found out from the server; `multipart` the
cleanup of unfinished uploads; `failures` what an error means and its one-line reason.
"""

from media_pipeline.storage.s3.options import ADDRESSING_STYLES, CHECKSUM_MODES, MiB, S3Options, parse_s3_url
from media_pipeline.storage.s3.store import S3Storage

__all__ = ["ADDRESSING_STYLES", "CHECKSUM_MODES", "MiB", "S3Options", "S3Storage", "parse_s3_url"]
