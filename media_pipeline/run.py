"""One show's publishing run: everything its stages share, so no stage takes a long parameter list,
and what the stages did (`EpisodeOutcome`, `ShowResult`), so none mutates a shared report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from . import layout, manifest
from .config import Catalog
from .errors import PipelineError
from .manifest import EpisodeRecord, Manifest
from .model import Episode, Show, Workspace
from .storage import Storage

Progress = Callable[[float], None]


@dataclass(frozen=True)
class ShowRun:
    """The workspace, storage and catalog; the show; what its manifest said when the run began
    (`snapshot`); the time the run takes as now; its local work folder; and its progress callback."""

    ws: Workspace
    storage: Storage
    catalog: Catalog
    show: Show
    snapshot: manifest.Snapshot
    now: datetime
    work: Path
    progress: Progress | None = None

    @property
    def current(self) -> Manifest:
        return self.snapshot.manifest

    def record_of(self, episode: Episode) -> EpisodeRecord | None:
        """The manifest's record of an episode file: by guid, else (no guid written yet) by slug."""
        return self.current.episodes.get(episode.guid) if episode.guid else self.current.by_slug(episode.slug)

    def goes_live(self, episode: Episode) -> bool:
        """Due now, or public already (a later time never hides an episode apps have seen)."""
        record = self.record_of(episode)
        return episode.publish_at <= self.now or (record is not None and record.state == "live")

    def url(self, key: str) -> str:
        return layout.public_url(self.ws, self.show, key)

    @property
    def feed_url(self) -> str:
        return layout.feed_url(self.ws, self.show)

    def episode_work(self, episode: Episode) -> Path:
        return self.work / episode.slug


@dataclass(frozen=True)
class EpisodeOutcome:
    """What happened to one episode: `state` is live, staged, or failed; `uploaded` the keys written."""

    key: str
    state: str
    guid: str | None = None
    uploaded: tuple[str, ...] = ()
    error: str | None = None
    publish_at: datetime | None = None


@dataclass
class ShowResult:
    """What one show's run did: each episode's outcome or failure, the keys written, the feed."""

    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    failures: list[tuple[str, PipelineError]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    feed: str | None = None

    def add(self, other: "ShowResult") -> None:
        """Take in what a later stage did."""
        self.outcomes += other.outcomes
        self.failures += other.failures
        self.written += other.written
        self.feed = other.feed or self.feed
