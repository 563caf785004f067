"""One show's publishing run: everything its stages share, so no stage takes a long parameter list,
and what the stages did (`EpisodeOutcome`, `ShowResult`), so none mutates a shared report."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from media_pipeline import layout
from media_pipeline.errors import PipelineError
from media_pipeline.model import Catalog, Episode, Show, Workspace
from media_pipeline.publishing import manifest
from media_pipeline.publishing.manifest import EpisodeRecord, Manifest
from media_pipeline.storage import Storage
from media_pipeline.util import fsutil

log = logging.getLogger(__name__)

Progress = Callable[[float], None]

RUNS_DIR = ".runs"  # under the build folder; a show slug never starts with a dot


def scratch(build_dir: Path) -> contextlib.AbstractContextManager[Path]:
    """A work folder private to this run (tagged copies, sidecars, prepared artwork), removed at
    the end. Concurrent runs never share one, so no run reads a file another is writing; folders
    of killed runs are swept by the next run (`fsutil.scratch_folder`)."""
    return fsutil.scratch_folder(build_dir / RUNS_DIR)


@dataclass(frozen=True)
class ShowRun:
    """The workspace, storage and catalog; the show; what its manifest said when the run began
    (`snapshot`); the time the run takes as now; its local work folder, private to this run
    (`scratch`); and its progress callback."""

    ws: Workspace
    storage: Storage
    catalog: Catalog
    show: Show
    snapshot: manifest.Snapshot
    now: datetime
    work: Path
    progress: Progress | None = None
    # what the stages derive once per run from the fields above (see `reuse`)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

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
