"""What a chat message says of a new episode, in the show's language (its words from the one catalogue,
`text.strings`), before any service's markup."""

from __future__ import annotations

from dataclasses import dataclass

from media_pipeline import layout
from media_pipeline.model import Catalog, Show, Workspace
from media_pipeline.publishing.manifest import EpisodeRecord
from media_pipeline.text.strings import strings


def duration_text(seconds: float, language: str) -> str:
    """24 min, 1 t 2 min, 45 s: a duration as a message says it."""
    words = strings(language)
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} {words['unit.s']}"
    hours, minutes = divmod(round(total / 60), 60)
    return f"{hours} {words['unit.h']} {minutes} {words['unit.min']}" if hours else f"{minutes} {words['unit.min']}"


@dataclass(frozen=True)
class Message:
    """A new episode as the chat channels tell of it, in the show's language. Plain text: each
    service's payload escapes it for its own markup."""

    show: str
    title: str
    duration: str
    link: str
    heading: str  # the catalogue's `new_episode`
    listen: str

    @property
    def text(self) -> str:
        return f"{self.heading}: {self.title}\n{self.show} · {self.duration}\n{self.link}"


def episode_url(ws: Workspace, show: Show, record: EpisodeRecord) -> str:
    """Where a message sends a listener: the episode's page on the listener site."""
    return layout.episode_page_url(ws, show, record.slug)


def episode_message(ws: Workspace, catalog: Catalog, show: Show, record: EpisodeRecord) -> Message:
    """The message of `record`, titled as it was published (its `meta`), else as its file says."""
    title = (record.meta or {}).get("title")
    if not title:
        episodes = catalog.episodes.get(show.slug, ())
        episode = next((e for e in episodes if e.guid == record.guid), None) or \
            next((e for e in episodes if e.slug == record.slug), None)
        title = episode.title if episode else record.slug
    words = strings(show.language)
    return Message(show=show.title, title=title, duration=duration_text(record.duration, show.language),
                   link=episode_url(ws, show, record), heading=words["new_episode"], listen=words["listen"])
