"""What must never be printed: credentials in URLs and the staging tokens that keep embargoed
episodes unguessable. Everything the command line prints or logs passes through `redact`.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

HIDDEN = "…"

# Query keys that carry a credential in the URL conventions we meet: AWS's own names, presigned
# URLs (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token), and the generic ones.
_CREDENTIAL_KEY = re.compile(
    r"secret|password|passwd|pwd|token|signature|credential|session|access[_-]?key|api[_-]?key|^key$|auth", re.I)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# A staging folder (manifest.staging_key): `_private/<show>/staged/<token>/<file>`.
_STAGING = re.compile(r"(_private/[^/\s'\"]+/staged/)[^/\s'\"]+(?=/)")


def credential_key(name: str) -> bool:
    """Whether a query key or option name looks like it carries a secret."""
    return bool(_CREDENTIAL_KEY.search(name))


def url_credentials(url: str) -> list[str]:
    """What in `url` is a credential, described without its value: userinfo, credential query keys."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = []
    if "@" in parts.netloc:
        found.append("a user name or password before '@'")
    keys = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True) if credential_key(name)})
    found += [f"the query key {name!r}" for name in keys]
    return found


def redact_url(url: str) -> str:
    """`url` without userinfo and with the values of credential-like query keys hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return HIDDEN
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        query = "&".join(
            (f"{piece.split('=', 1)[0]}={HIDDEN}" if "=" in piece and credential_key(piece.split("=", 1)[0])
             else piece) for piece in query.split("&"))
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # nothing hidden: the URL exactly as given
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def public_url(url: str) -> str:
    """`url` as it may be published (a hub a feed advertises): without userinfo, and without the
    query keys that carry a credential, dropped rather than hidden, so the URL still works for
    what needs no credential (subscribing to a hub)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    query = "&".join(piece for piece in parts.query.split("&")
                     if piece and not credential_key(piece.split("=", 1)[0]))
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every URL's credentials and every staging token hidden, and every `known`
    secret: a value (a token) or a URL that is secret as a whole (a chat webhook's URL carries its
    key in the path), whose host, path and query are hidden wherever they appear."""
    if not text:
        return text
    for secret in known:
        for piece in _pieces(secret):
            text = text.replace(piece, HIDDEN)
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    return _STAGING.sub(lambda m: m.group(1) + HIDDEN, text)


def _pieces(secret: str) -> list[str]:
    """The secret and the parts of it that could be quoted alone, longest first."""
    if not secret:
        return []
    try:
        parts = urlsplit(secret)
        pieces = [secret, parts.netloc, parts.path, parts.query]
    except ValueError:
        pieces = [secret]
    return sorted({p for p in pieces if len(p) > 3 and p != "/"}, key=len, reverse=True)


__all__ = ["HIDDEN", "credential_key", "public_url", "redact", "redact_url", "url_credentials"]
