"""Who hears of a show's changes: its channels (hubs, podping, chat webhooks) and one notice owed to one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from media_pipeline.errors import Problem
from media_pipeline.model import Show
from media_pipeline.util.redact import redact_url

PING_KINDS = ("hub", "podping")
CHAT_KINDS = ("slack", "teams", "mattermost", "webhook")
FEED_ITEM = "feed"  # what a ping channel is owed: the feed, not an episode


@dataclass(frozen=True)
class Channel:
    """One receiver of a show's notifications. `id` is its key in the record: the hub URL, or the
    environment variable naming the secret, so a new hub or a new variable starts afresh."""

    kind: str
    url: str | None = None  # public: the hub, or the podping endpoint
    env: str | None = None  # the environment variable holding the secret (webhook URL or token)

    @property
    def id(self) -> str:
        return f"hub:{self.url}" if self.kind == "hub" else f"{self.kind}:{self.env}"

    @property
    def label(self) -> str:
        """How messages name the channel: never the secret, only where it comes from."""
        return f"hub {redact_url(self.url or '')}" if self.kind == "hub" else f"{self.kind} (${self.env})"

    @property
    def chat(self) -> bool:
        return self.kind in CHAT_KINDS


def channels(show: Show) -> list[Channel]:
    n = show.notify
    found = [Channel("hub", url=hub) for hub in n.hubs]
    if n.podping:
        found.append(Channel("podping", url=n.podping_url, env=n.podping))
    found += [Channel(kind, env=getattr(n, kind)) for kind in CHAT_KINDS if getattr(n, kind)]
    return found


@dataclass(frozen=True)
class Notice:
    """One notification owed: a feed change to a ping channel, or a new episode to a chat channel."""

    channel: Channel
    item: str  # FEED_ITEM or an episode guid
    subject: str  # what it is about, for logs: the feed URL or show/episode
    sha256: str | None = None  # of the feed, for pings


def setting_problems(show: Show, environ: Mapping[str, str], path: str) -> list[Problem]:
    """What `check` says of a show's channels before any run needs them: a secret's environment
    variable that is not set (a warning: what the channel is owed waits for a run that has it), or
    one that does not hold an http(s) URL with a host and a valid port (an error: every delivery
    would fail). The secret itself is never repeated."""
    found = []
    for channel in channels(show):
        if channel.env is None or channel.kind == "podping":
            continue
        field = f"notify.{channel.kind}"
        value = environ.get(channel.env, "")
        if not value:
            found.append(Problem(path, field, f"${channel.env} is not set here: nothing is sent to this "
                                              "channel until a run has it", severity="warning"))
        elif reason := _url_reason(value):
            found.append(Problem(path, field, f"${channel.env} {reason}; the channel's messages would all fail"))
    return found


def _url_reason(value: str) -> str | None:
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"holds a URL that cannot be used ({str(exc).split(':')[0].lower()})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "does not hold an http(s) URL"
    return None
