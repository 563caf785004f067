"""The one validation gate: whether a show's and an episode's files may go to listeners.

`check`, `process`, `publish` and `release-due` all ask here, and so does a library caller of
`publish()`, so the same episode gets the same verdict everywhere: the loader's findings, then
Apple's and Podcasting 2.0's rules (`lint`), merged so each problem is said once. Against the
publishing manifest, `against_manifest` adds the rules only a published history can break (a
live episode's time moved into the future, a retired guid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from media_pipeline import layout
from media_pipeline.config.load import episode_paths, show_slugs
from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.feeds.lint import lint
from media_pipeline.feeds.recordings import source_refusal
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


@dataclass
class Placed:
    """The gate's findings placed with what they belong to: an episode (by `show/slug`: its file,
    and the transcripts, artwork and chapter images it names), a show (its file and artwork), or
    nothing the catalog knows (`elsewhere`). A finding on a file two episodes share belongs to both;
    a duplicate filed against one episode also concerns the one it names (`Problem.see`)."""

    episodes: dict[str, list[Problem]] = field(default_factory=dict)
    shows: dict[str, list[Problem]] = field(default_factory=dict)
    related: dict[str, list[Problem]] = field(default_factory=dict)  # show/slug -> another's duplicate
    elsewhere: list[Problem] = field(default_factory=list)

    def of_episode(self, key: str) -> list[Problem]:
        return self.episodes.get(key, [])

    def of_show(self, slug: str) -> list[Problem]:
        return self.shows.get(slug, [])


def place(ws: Workspace, catalog: Catalog, found: Iterable[Problem]) -> Placed:
    """Each finding of `found` with the episode or show it stops (see `Placed`)."""
    owners: dict[str, list[tuple[str, str]]] = {}

    def own(path, kind: str, key: str) -> None:
        if path is not None:
            owners.setdefault(display_path(ws, path), []).append((kind, key))

    for slug in dict.fromkeys([*show_slugs(ws), *catalog.shows]):
        own(ws.feeds_dir / f"{slug}.toml", "show", slug)
        for path in episode_paths(ws, slug):  # loaded or not: a file that failed to load is still its episode's
            own(path, "episode", layout.episode_key(slug, path.stem))
    for slug, show in catalog.shows.items():
        own(show.artwork, "show", slug)
        for episode in catalog.episodes.get(slug, ()):
            for path in (*(t.path for t in (*episode.transcripts, *episode.text_transcripts)),
                         *(d.path for d in episode.descriptions), episode.artwork,
                         *(c.image for c in episode.chapters)):
                own(path, "episode", episode.key)
    placed = Placed()
    for problem in dict.fromkeys(found):
        where = list(dict.fromkeys(owners.get(problem.path, ())))
        for kind, key in where:
            (placed.shows if kind == "show" else placed.episodes).setdefault(key, []).append(problem)
        for kind, key in dict.fromkeys(owners.get(problem.see, ()) if problem.see else ()):
            if kind == "episode":
                placed.related.setdefault(key, []).append(problem)
        if not where:
            placed.elsewhere.append(problem)
    return placed


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
