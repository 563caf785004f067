"""`media-pipeline publish`: process, tag and upload episodes, then rebuild their shows' feeds."""

from __future__ import annotations

from datetime import datetime

import click

from media_pipeline.cli._common import Command, progress_bar, quiet, report, workspace
from media_pipeline.cli._publishing import NO_NOTIFY, NOW, emit, fail_if, notify
from media_pipeline.cli._publishing import now as current_time
from media_pipeline.cli._select import completer, select
from media_pipeline.config.load import episode_paths, load_catalog
from media_pipeline.errors import ConfigError, ValidationError
from media_pipeline.layout import episode_file, episode_key, episode_ref
from media_pipeline.model import Catalog, Episode, Workspace
from media_pipeline.publishing import publish as publishing
from media_pipeline.publishing import shard


@click.command("publish", cls=Command, needs_ffmpeg=True)
@click.argument("episodes", nargs=-1, metavar="[EPISODE...]", shell_complete=completer())
@click.option("--show", "shows", multiple=True, metavar="SHOW", shell_complete=completer(episodes=False, shows=True),
              help="Every episode of this show (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Every episode of every show.")
@click.option("--dry-run", is_flag=True, help="Say what would go live or be staged; change nothing.")
@click.option("--workers", type=int, metavar="N",
              help="Publish only this worker's share of the episodes, one of N workers started at once "
                   "(default: $MEDIA_PIPELINE_WORKERS).")
@click.option("--worker-index", type=int, metavar="I",
              help="This worker's index, 0 to N-1 (default: $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX).")
@click.option("--final", is_flag=True,
              help="With --all: publish no episode, write the OPML and the site's index, statement and sitemap "
                   "from what is stored (the last step after --workers runs).")
@NOW
@NO_NOTIFY
@click.pass_context
def publish_cmd(ctx: click.Context, episodes: tuple[str, ...], shows: tuple[str, ...], all_: bool, dry_run: bool,
                workers: int | None, worker_index: int | None, final: bool, now: datetime | None,
                no_notify: bool) -> None:
    """Process, tag and upload episodes, then rebuild their shows' feeds.

    Episodes whose publish time has come go live; later ones are uploaded to a private staging
    area and go live when `release-due` runs after their time. Media is stored and verified
    before the feed; unchanged files are not uploaded again. A failed episode does not stop the
    others; the command then exits 1 listing the failures.

    \b
    Example:
        media-pipeline publish ihmiskeskeisyys/003
        media-pipeline publish --show tekoalywebinaarit --dry-run
        media-pipeline publish --all
        media-pipeline publish --all --workers 4     # in each of 4 pods of an Indexed Job
        media-pipeline publish --all --final         # after them
    """
    if final and not all_:
        raise click.UsageError("--final goes with --all: it writes the site of every show")
    ws = workspace(ctx)
    chosen = select(ws, episodes, shows, all_)
    # A show's run rebuilds the site's index, statement and sitemap across shows, so every show is
    # loaded, whatever was named: `--show X` alone once dropped every other show from the index
    catalog, loaded = load_catalog(ws)
    selected = [e for slug in chosen.whole for e in catalog.episodes.get(slug, ())]
    unloaded = _unloaded(ws, catalog, chosen.whole)
    for ref, (show, _) in chosen.named:
        if show not in chosen.whole:
            found = _find(ws, catalog, loaded, ref)
            (unloaded if isinstance(found, str) else selected).append(found)
    selected = list(dict.fromkeys(selected))
    if final:
        selected, unloaded = [], []  # the workers published them
    elif (share := shard.from_environment(workers, worker_index)) is not None:
        selected = share.select(selected)
    moment = current_time(ws, now)
    report(ctx).lists("episodes", "feeds")
    report(ctx).set(dry_run=dry_run, now=moment.isoformat())
    with progress_bar("publishing", enabled=not dry_run and not quiet(ctx)) as progress:
        done = publishing.publish(ws, catalog, selected, now=moment, dry_run=dry_run, progress=progress,
                                  loaded=loaded, unloaded=unloaded, final=final)
    for outcome in done.outcomes:
        if outcome.state == "failed":
            continue
        detail = {"live": "live", "staged": f"staged until {outcome.publish_at.isoformat()}"}.get(
            outcome.state, outcome.state)
        uploads = f", {len(outcome.uploaded)} file(s) uploaded" if outcome.state in ("live", "staged") else ""
        emit(ctx, f"{outcome.key}: {detail}{uploads}", into="episodes", episode=outcome.key, state=outcome.state,
             guid=outcome.guid, uploaded=list(outcome.uploaded))
    for url in done.feeds:
        emit(ctx, f"feed: {url}", into="feeds", feed=url)
    notify(ctx, ws, catalog, sorted({e.show for e in selected}), now=moment, dry_run=dry_run, enabled=not no_notify,
           upcoming=[o.key for o in done.outcomes if o.state == "would go live"])
    fail_if(ctx, done.failures)


def _find(ws: Workspace, catalog: Catalog, loaded: list, ref: str) -> Episode | str:
    """The episode `ref` names; `show/slug` when its file exists but failed to load, or the show's
    slug when its show did (publishing then reports the loader's errors for it, and the other
    episodes go ahead)."""
    try:
        return catalog.find_episode(ref)
    except ConfigError:
        named = episode_ref(ws, ref)
        if named and named[0] in catalog.shows and episode_file(ws, *named).is_file():
            return episode_key(*named)
        if named and named[0] not in catalog.shows and (ws.feeds_dir / f"{named[0]}.toml").is_file():
            return named[0]
        if errors := [p for p in loaded if p.severity == "error"]:
            raise ValidationError(errors) from None
        raise


def _unloaded(ws: Workspace, catalog: Catalog, shows: list[str]) -> list[str]:
    """What of `shows` failed to load: a show's slug, or an episode file as `show/slug`."""
    out = []
    for slug in shows:
        if slug not in catalog.shows:
            out.append(slug)
            continue
        have = {e.slug for e in catalog.episodes.get(slug, ())}
        out += [episode_key(slug, p.stem) for p in episode_paths(ws, slug) if p.stem not in have]
    return out
