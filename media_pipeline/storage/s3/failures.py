"""What an S3 error means: not found, a lost race, worth another try, or final; and its one-line reason."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError

from media_pipeline.util.redact import redact

# Error codes that mean "try again later" on AWS and the S3-compatible servers we know.
TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
                   "InternalError", "ServiceUnavailable", "RequestLimitExceeded", "TooManyRequests",
                   "TooManyRequestsException", "503", "500", "502", "504",
                   # the body was damaged on the way (Content-MD5 or x-amz-checksum mismatch): send it again
                   "BadDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch"}
# What servers without a feature (SHA-256 checksums, conditional writes) answer when asked for it.
REFUSED = {"NotImplemented", "InvalidArgument", "InvalidRequest", "BadRequest"}
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class Corrupt(Exception):
    """Bytes that arrived but do not match their size or checksum: worth another try."""


def code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def transient(exc: Exception) -> bool:
    """Worth another try: throttling, 5xx, timeouts, connections dropped or cut mid-body."""
    if isinstance(exc, ClientError):
        return code(exc) in TRANSIENT_CODES or status(exc) >= 500 or status(exc) == 429
    if isinstance(exc, NoCredentialsError):
        return False
    # HTTPClientError covers closed connections, read timeouts and bodies cut mid-way.
    return isinstance(exc, (BotoConnectionError, HTTPClientError, IncompleteReadError, Corrupt,
                            ConnectionError, TimeoutError)) or (
        isinstance(exc, BotoCoreError) and "timeout" in str(exc).lower())


def reason(exc: Exception) -> str:
    """One line saying why, without a stack or anything secret (botocore's messages carry no
    credentials; the URLs it names carry no signature since requests are signed in headers)."""
    if isinstance(exc, NoCredentialsError):
        text = "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    elif isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        name, message = str(error.get("Code") or "error"), error.get("Message") or ""
        http = status(exc)
        if name == str(http):  # a HEAD answer has no body, so no code: only the status line
            text = f"HTTP {http}" + (f" {message}" if message else "")
        else:
            text = name + (f" (HTTP {http})" if http else "") + (f": {message}" if message else "")
    else:
        text = str(exc) or type(exc).__name__
    # botocore names the endpoint in connection errors, which may carry user:password@
    text = redact(" ".join(text.split()))
    return text if len(text) <= 300 else text[:297] + "..."
