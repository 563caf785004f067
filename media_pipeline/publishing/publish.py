"""The orchestrator: episodes from source files to stored media and a rebuilt feed, stage by stage.

validate -> per episode: guid, process, tag copies, sidecars, its would-be record -> the would-be
feed rendered (nothing public is uploaded for a commit that cannot happen) -> upload -> commit
(pages, manifest, then feed) -> OPML. All local files are written in the run's own work folder. Media is stored and verified before the feed that points at it; the feed goes last.
Each stage takes the show's run (`run.ShowRun`) and returns what it did; `publish` gathers the
results into the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable, Sequence

from media_pipeline import layout
from media_pipeline.audio import described, process
from media_pipeline.errors import ConfigError, PipelineError, Problem, os_reason
from media_pipeline.feeds import feed, opml
from media_pipeline.model import Catalog, Episode, Workspace
from media_pipeline.publishing import gate, manifest, render, reuse
from media_pipeline.publishing.files import assign_guid, posters, prepared_show_art, sidecars, tag_copies
from media_pipeline.publishing.lock import lock_path, locked
from media_pipeline.publishing.manifest import EpisodeRecord, FileRecord
from media_pipeline.publishing.render import commit
from media_pipeline.publishing.run import EpisodeOutcome, Progress, ShowResult, ShowRun, scratch
from media_pipeline.publishing.uploads import (
    Prepared,
    Stored,
    artwork_record,
    delete_quietly,
    prepare_files,
    store_artwork,
    store_episode,
)
from media_pipeline.storage import Storage, open_storage
from media_pipeline.transcripts import descriptions
from media_pipeline.video import renditions

log = logging.getLogger(__name__)


@dataclass
class PublishReport:
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)  # feed URLs written or confirmed
    written: list[str] = field(default_factory=list)  # every key written, media and feeds alike
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, reason) for each failure
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, what: str, exc: Exception) -> None:
        log.debug("%s: %s", what, exc)
        # A refusal of a file (ConfigError) is the line `check` prints of it, naming the file itself.
        named = isinstance(exc, ConfigError) and exc.path and str(exc).startswith(exc.path)
        self.failures.append((exc.path if named else what, str(exc)))
        self.outcomes.append(EpisodeOutcome(what, "failed", error=str(exc)))


    def refuse(self, key: str, problems: Iterable[Problem]) -> None:
        """`key` (an episode or a show) is not published, for `problems` (one line each)."""
        problems = list(problems)
        self.failures.extend((p.path, str(p)) for p in problems)
        self.outcomes.append(EpisodeOutcome(key, "failed", error="\n".join(map(str, problems))))


def publish(ws: Workspace, catalog: Catalog, episodes: Sequence[Episode], *, now: datetime, dry_run: bool = False,
            progress: Progress | None = None, storage: Storage | None = None,
            loaded: Iterable[Problem] = (), unloaded: Iterable[str] = (), final: bool = False) -> PublishReport:
    """Publish `episodes`: those due at `now` go live, those with a later publish time are staged.

    The unit of failure is the episode: one the gate refuses (`gate.problems`; `loaded` are the
    loader's findings, when the caller has them) is reported, one line per problem, before any
    audio work, and the others go ahead; a show whose own file is refused publishes nothing.
    `unloaded` names what was asked for but failed to load (`show/slug`, or a show's slug), so
    its problems are reported too. Each show touched gets its manifest and feed rebuilt once,
    after all its media is stored; a failed episode is reported and the others carry on.
    `final` (with no episodes: the last step after workers that published shares of one run at
    once, see `shard`) writes the OPML and the site's index, statement and sitemap from every
    show's stored feed and manifest, even when nothing else changed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    placed = gate.place(ws, catalog, gate.errors(gate.problems(ws, catalog, loaded, publishing=True)))
    storage = storage or open_storage(ws.storage_url, ws.root)
    report = PublishReport(dry_run=dry_run)
    for key in dict.fromkeys(unloaded):
        found = placed.of_episode(key) if "/" in key else placed.of_show(key)
        report.refuse(key, found or [Problem(key, None, "could not be loaded")])
    shows: dict[str, list[Episode]] = {}
    for episode in episodes:
        shows.setdefault(episode.show, []).append(episode)
    for slug in list(shows):
        if refused := placed.of_show(slug):
            report.refuse(slug, refused)
            del shows[slug]
            continue
        for episode in list(shows[slug]):
            if refused := placed.of_episode(episode.key):
                report.refuse(episode.key, refused)
                shows[slug].remove(episode)
    total = sum(map(len, shows.values()))
    with scratch(ws.build_dir) as work:
        done = 0
        for slug, show_episodes in shows.items():
            def show_progress(fraction: float, _done=done, _n=len(show_episodes)) -> None:
                if progress:
                    progress((_done + fraction * _n) / max(1, total))

            try:
                snap = manifest.read(storage, slug)
                run = ShowRun(ws, storage, catalog, catalog.shows[slug], snap, now, work / slug, show_progress)
                result = publish_show(run, show_episodes, dry_run=dry_run)
            except PipelineError as exc:
                report.fail(slug, exc)
            except OSError as exc:  # a full disk or a refused folder: this show; the others go on
                report.fail(slug, os_failure(exc, "publishing the show"))
            else:
                for what, exc in result.failures:
                    report.fail(what, exc)
                report.outcomes.extend(result.outcomes)
                report.written.extend(result.written)
                report.feeds.extend([result.feed] if result.feed else [])
            done += len(show_episodes)
    if final and not dry_run:
        for show in catalog.shows.values():
            url = layout.feed_url(ws, show)
            if url not in report.feeds and storage.head(layout.feed_key(show.slug)) is not None:
                report.feeds.append(url)
    if not dry_run and report.feeds:
        try:
            report.written.extend(opml.store(ws, storage, catalog, report.feeds))
        except PipelineError as exc:
            report.fail(layout.OPML_KEY, exc)
        if report.written or final:  # a run that changed nothing costs no more requests than before
            try:
                report.written.extend(render.store_site(ws, storage, catalog))
            except PipelineError as exc:
                report.fail(layout.INDEX_KEY, exc)
    return report


def publish_show(run: ShowRun, episodes: list[Episode], *, dry_run: bool = False) -> ShowResult:
    """One show: validate against its manifest, each episode up to a would-be record, the feed those
    records give rendered (so nothing public is uploaded for a commit that cannot happen), then
    the uploads and the commit."""
    result = ShowResult()
    ready = []
    for episode in episodes:
        if problem := gate.against_manifest(run.ws, run.show, run.catalog, episode, run.current, run.now):
            result.failures.append((episode.key, problem))
        else:
            ready.append(episode)
    if dry_run:
        result.outcomes.extend(plan(run, episode) for episode in ready)
        return result
    uploaded: list[str] = []  # every key this run wrote, even for an episode that failed half-way
    try:
        art = prepared_show_art(run)
        show_art = artwork_record(run, art)
        prepared: list[Prepared] = []
        for i, episode in enumerate(ready):
            progress = (lambda f, i=i: run.progress((i + f) / max(1, len(ready)))) if run.progress else None
            try:
                prepared.append(prepare_episode(run, episode, progress))
            except PipelineError as exc:
                result.failures.append((episode.key, exc))
            except OSError as exc:  # the build cache or the run's work folder: full, or refused
                result.failures.append((episode.key, os_failure(exc, "writing the episode's files")))
        if not prepared and run.snapshot.manifest_etag is None:
            return result  # nothing of this show ever published and nothing now: no empty feed for apps to find
        accepted = would_commit(run, prepared, show_art, result)
        result.written.extend(store_artwork(run, art, show_art))
        stored: list[Stored] = []
        for item in accepted:
            try:
                stored.append(store_episode(run, item, uploaded))
            except PipelineError as exc:
                result.failures.append((layout.episode_key(run.show.slug, item.record.slug), exc))
            else:
                result.written.extend(stored[-1].uploaded)
        if stored or run.snapshot.manifest_etag is not None:
            result.add(commit_show(run, stored, show_art, uploaded))
        else:
            forget_uploads(run, uploaded)
    except (PipelineError, OSError) as exc:  # the show's artwork or its commit: its episodes' results stand
        failure = os_failure(exc, "writing the show's files") if isinstance(exc, OSError) else exc
        result.failures.append((run.show.slug, failure))
        forget_uploads(run, uploaded)
    return result


def os_failure(exc: OSError, what: str) -> PipelineError:
    """One line for a local write that failed: the path, why (a full disk, a name too long, a
    permission refused), and what was being written."""
    return PipelineError(f"{os_reason(exc)} ({what})", path=exc.filename)


def prepare_episode(run: ShowRun, episode: Episode, progress: Progress | None = None) -> Prepared:
    """One episode's stages up to its would-be record: guid, process, copy and tag, sidecars; none
    after process when nothing the episode is made from changed since it was stored (`reuse`)."""
    episode = replace(episode, guid=assign_guid(run, episode))
    if run.current.by_slug(episode.slug) is None:
        run.storage.check_writable()  # a new episode will be written: a refusing server says so before the audio work
    processed = process.process_episode(run.ws, run.show, episode, progress=progress)
    processed = renditions.add_renditions(run.ws, run.show, episode, processed)
    described = described_version(run, episode)
    if described is not None:  # reused only when both are unchanged
        processed = replace(processed, renditions=processed.renditions + described.renditions,
                            cached=processed.cached and described.cached)
    if (same := reuse.unchanged(run, episode, processed)) is not None:
        return same
    files = tag_copies(run, episode, processed)
    duration = processed.renditions[0].duration  # as published: trimming and intro/outro change it
    files += sidecars(run, episode, duration)
    files += posters(run, episode, processed)
    prepared = prepare_files(run, episode, files, duration)
    reuse.remember(run, episode, processed, prepared)
    return prepared


def described_version(run: ShowRun, episode: Episode) -> process.ProcessResult | None:
    """The described version of a video episode with a description file in the show's language
    (WCAG 1.2.5), or None: its renditions are `<episode>.described.mp4` and `.mp3`."""
    spoken = descriptions.spoken(episode, run.show)
    if not spoken:
        return None
    return described.described_version(run.ws, run.show, episode, spoken, language=run.show.language)


def would_commit(run: ShowRun, prepared: list[Prepared], show_art: FileRecord | None,
                 result: ShowResult) -> list[Prepared]:
    """The episodes whose records give a feed and pages that can be rendered, checked before any
    upload: a show whose current feed cannot be rendered raises (nothing is uploaded), and an
    episode that would break it fails alone."""
    overlay = {p.record.slug: p.record.guid for p in prepared}

    def check(records: list[EpisodeRecord]) -> None:
        m = run.current.copy()
        targets = {f.key if r.state == "live" else r.staged_key(run.show.slug, f) for r in records for f in r.files}
        apply_records(run, m, records, show_art, {}, targets)
        render.preview(run.ws, run.show, run.catalog, m, overlay=overlay, snapshot=run.snapshot)

    try:
        check([p.record for p in prepared])  # the usual case: one rendering
        return prepared
    except PipelineError:
        check([])  # the show's feed as it stands cannot be rendered: raise, before any upload
    accepted: list[Prepared] = []
    for item in prepared:
        try:
            check([p.record for p in accepted] + [item.record])
        except PipelineError as exc:
            result.failures.append((layout.episode_key(run.show.slug, item.record.slug), exc))
        else:
            accepted.append(item)
    return accepted


def apply_records(run: ShowRun, m: manifest.Manifest, records: list[EpisodeRecord], show_art: FileRecord | None,
                  lost: dict[str, str], uploaded: set[str]) -> list[str]:
    """The commit's change to the manifest (idempotent: re-applied to each version read). Returns
    the keys it retired; `lost` gets each episode that cannot be recorded, with the reason."""
    m.podcast_guid = feed.show_podcast_guid(run.show, run.feed_url, m.podcast_guid)
    m.artwork = show_art
    lost.clear()
    retired: list[str] = []
    for record in records:
        current = m.episodes.get(record.guid)
        if current is not None and current.state == "unpublished":
            # Taken down by a concurrent unpublish since we read: it stays down.
            lost[record.guid] = "was unpublished while this run published it; it stays unpublished"
        elif current is not None and current.state == "live" and record.state == "staged":
            # Released by a concurrent release-due since we read: it never goes back into hiding.
            lost[record.guid] = "was released while this run staged it; publish it again to update it"
        elif not _still_there(run, current, record, uploaded):
            lost[record.guid] = "was changed by another run while this run published it; publish it again"
        else:
            retired += m.put_record(record)
    return retired


def _still_there(run: ShowRun, current: EpisodeRecord | None, record: EpisodeRecord, uploaded: set[str]) -> bool:
    """Whether the files this run did not upload (the manifest it read had them) are still where
    the manifest now says: a concurrent run may have replaced and deleted them since."""
    have = set()
    if current is not None:
        if current.state == "live":
            have |= {(f.key, f.sha256) for f in current.files}
        if current.staging:
            have |= {(current.staged_key(run.show.slug, f), f.sha256) for f in current.files}
    for f in record.files:
        key = f.key if record.state == "live" else record.staged_key(run.show.slug, f)
        if key not in uploaded and (key, f.sha256) not in have:
            return False
    return True


def commit_show(run: ShowRun, stored: list[Stored], show_art: FileRecord | None, uploaded: list[str]) -> ShowResult:
    """Record the stored episodes in the manifest and write the feed (last), then remove what no
    longer belongs: files replaced by changed bytes, staged copies of episodes now live, files of
    renamed episodes, and uploads of episodes that could not be recorded."""
    result = ShowResult()
    lost: dict[str, str] = {}
    with locked(lock_path(run.ws, run.show.slug)):
        # What this run uploaded must still be its bytes: a run on another machine (or one that
        # raced this one to the same new key) may have stored other bytes there since.
        ours = set()
        for item in stored:
            for key in item.uploaded:
                f = _file_at(run, item.record, key)
                info = run.storage.head(key)
                if info is not None and info.size == f.size and info.sha256 in (None, f.sha256):
                    ours.add(key)
        for item in stored:
            if not set(item.uploaded) <= ours:
                lost[item.record.guid] = "another run stored other bytes for it at the same time; publish it again"
        records = [s.record for s in stored if s.record.guid not in lost]
        clashed = dict(lost)

        def change(m: manifest.Manifest) -> list[str]:
            retired = apply_records(run, m, records, show_art, lost, ours)
            lost.update(clashed)
            return retired

        updated = commit(run.ws, run.storage, run.catalog, run.show, change,
                         overlay={r.slug: r.guid for r in records}, snapshot=run.snapshot)
        # The stored feed no longer names what this write retired: the staged copies go now (the
        # commit itself deleted the public files), listed as leftovers until the next write should
        # a delete fail or the run stop here.
        delete_quietly(run.storage, [k for k in updated.result or () if k.startswith(layout.PRIVATE_PREFIX)])
        forget_uploads(run, [k for k in uploaded if k in ours], updated.manifest)
    result.feed = run.feed_url
    result.written.extend(updated.pages_written)
    if updated.feed_written:
        result.written.append(layout.feed_key(run.show.slug))
    for item in stored:
        record, key = item.record, layout.episode_key(run.show.slug, item.record.slug)
        if record.guid in lost:
            result.failures.append((key, PipelineError(lost[record.guid], path=key)))
            continue
        result.outcomes.append(EpisodeOutcome(key, record.state, record.guid, item.uploaded,
                                              publish_at=record.publish_at))
    return result


def _file_at(run: ShowRun, record: EpisodeRecord, key: str) -> FileRecord:
    return next(f for f in record.files
                if key == (f.key if record.state == "live" else record.staged_key(run.show.slug, f)))


def forget_uploads(run: ShowRun, uploaded: list[str], latest: manifest.Manifest | None = None) -> None:
    """Delete what this run uploaded that no manifest names (an episode that failed half-way or could
    not be recorded), so no public object is left that nothing points at."""
    if not uploaded:
        return
    try:
        latest = latest or manifest.read_manifest(run.storage, run.show.slug)[0]
    except PipelineError as exc:
        log.warning("could not check this run's uploads: %s", exc)
        return
    named = latest.named_keys()
    named |= {r.staged_key(run.show.slug, f) for r in latest.episodes.values() if r.staging for f in r.files}
    delete_quietly(run.storage, sorted(set(uploaded) - named), "unrecorded upload ")


def plan(run: ShowRun, episode: Episode) -> EpisodeOutcome:
    """What a dry run says of an episode: it would go live or be staged, or it is live (or staged)
    already and nothing it is made from changed since (`reuse.unchanged_inputs`)."""
    record = run.record_of(episode)
    if record is not None and reuse.unchanged_inputs(run, episode):
        state = f"{record.state}, unchanged"
    else:
        state = "would go live" if run.goes_live(episode) else "would be staged"
    return EpisodeOutcome(episode.key, state, record.guid if record else episode.guid, publish_at=episode.publish_at)
