"""Who hears of a show's changes: its channels (hubs, podping, chat webhooks) and one notice owed to one."""

from __future__ import annotations

from dataclasses import dataclass

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
