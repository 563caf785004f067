"""The one validation gate: whether a show's and an episode's files may go to listeners.

`check`, `process`, `publish` and `release-due` all ask here, and so does a library caller of
`publish()`, so the same episode gets the same verdict everywhere: the loader's findings, then
Apple's and Podcasting 2.0's rules (`lint`), merged so each problem is said once. Against the
publishing manifest, `against_manifest` adds the rules only a published history can break (a
live episode's time moved into the future, a retired guid).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from media_pipeline import layout
from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.feeds.lint import lint, source_refusal
from media_pipeline.model import Catalog, Episode, Show, Workspace
from media_pipeline.publishing.manifest import Manifest
from media_pipeline.util.fsutil import display_path


def problems(ws: Workspace, catalog: Catalog, loaded: Iterable[Problem] = (), *,
             publishing: bool = False, feed_rules: bool = True) -> list[Problem]:
    """Every problem of `catalog`, errors and warnings: the loader's (`loaded`) first, then the
    rules'; a rule's finding on a field the loader already faulted says nothing new. With
    `publishing`, what publishing fixes itself (oversized artwork) is no problem. Without
    `feed_rules` only the loader's findings count (processing makes no feed)."""
    loaded = list(loaded)
    faulted = {(p.path, p.field) for p in loaded}
    # A recording is probed (and decoded, for damage) by `check`; publishing asks per episode in
    # `against_manifest`, so a batch carries on past a damaged recording.
    linted = lint(ws, catalog, publishing=publishing, sources=not publishing) if feed_rules else []
    merged = [*loaded, *(p for p in linted if (p.path, p.field) not in faulted)]
    return list(dict.fromkeys(merged))


def errors(found: Iterable[Problem]) -> list[Problem]:
    return [p for p in found if p.severity == "error"]


def require(ws: Workspace, catalog: Catalog, loaded: Iterable[Problem] = (), *, publishing: bool = False,
            feed_rules: bool = True) -> None:
    """Raise ValidationError (every error, one line each) unless `catalog` passes the gate."""
    if found := errors(problems(ws, catalog, loaded, publishing=publishing, feed_rules=feed_rules)):
        raise ValidationError(found)


def for_episode(ws: Workspace, found: Sequence[Problem], show: Show, slug: str) -> list[Problem]:
    """The problems of one episode's file and of its show's file."""
    mine = {display_path(ws, layout.episode_file(ws, show.slug, slug)), display_path(ws, show.path)}
    return [p for p in found if p.path in mine]


def against_manifest(ws: Workspace, show: Show, catalog: Catalog, episode: Episode, current: Manifest,
                     now: datetime) -> ConfigError | None:
    """Why `episode` may not be published now, given what the show has published, or None."""
    where = display_path(ws, episode.path)
    record = current.episodes.get(episode.guid) if episode.guid else current.by_slug(episode.slug)
    owner = next((o.slug for o in catalog.episodes.get(show.slug, ()) if o.guid and o.guid == episode.guid), None)
    if not episode.source.is_file():
        return ConfigError(f"source file not found: {episode.source}", path=where, field="source")
    if episode.guid and owner not in (None, episode.slug):
        other = layout.episode_key(show.slug, owner)
        return ConfigError(f"{episode.guid} is already the guid of {other}; every episode needs its own",
                           path=where, field="guid")
    if record is not None and record.state == "live" and episode.publish_at > now:
        # Subscribers' apps have downloaded it already: a later time cannot hide it again, and a
        # pubDate in the future would misorder the feed. Taking it down is a deliberate act.
        return ConfigError(f"{episode.publish_at.isoformat()} is in the future, but the episode has been public "
                           f"since {record.publish_at.isoformat()}; put that time back, or take the episode down "
                           f"first with `media-pipeline unpublish {episode.key}`", path=where, field="publish_at")
    if record is not None and record.state == "unpublished":
        # A guid once taken down is never reused: apps that saw it would treat a new episode as old.
        return ConfigError(f"{episode.guid} was unpublished and is never reused; delete the guid line to publish "
                           "this episode again as a new one", path=where, field="guid")
    return source_refusal(ws, show, episode)  # check's rules on the recording, this episode only
