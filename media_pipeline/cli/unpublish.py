"""`media-pipeline unpublish`: take an episode down, feed first, then its media."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from media_pipeline.cli._common import Command, report, settings, workspace
from media_pipeline.cli._publishing import NO_NOTIFY, emit, notify
from media_pipeline.cli._select import completer, file_errors
from media_pipeline.config.load import episode_paths, load_catalog
from media_pipeline.errors import ConfigError, ValidationError
from media_pipeline.layout import episode_ref
from media_pipeline.publishing import unpublish as unpublishing
from media_pipeline.util.fsutil import display_path


@click.command("unpublish", cls=Command)
@click.argument("episode", shell_complete=completer())
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@NO_NOTIFY
@click.pass_context
def unpublish_cmd(ctx: click.Context, episode: str, yes: bool, no_notify: bool) -> None:
    """Take an episode down: remove it from the feed first, then delete its media.

    EPISODE is SHOW/SLUG or the episode file's path; an episode whose file is gone or broken
    can still be taken down by SHOW/SLUG. The episode's guid is kept as retired and never given
    to another episode; to publish the same file again as a new episode, delete its guid line
    first. Other episodes' files are not judged, except that the feed of the episode's show is
    rebuilt from its live episodes' files.

    \b
    Example:
        media-pipeline unpublish ihmiskeskeisyys/003 --yes
    """
    ws = workspace(ctx)
    # Every show is loaded (the site index lists them all); only what this take-down needs is judged
    catalog, loaded = load_catalog(ws)
    named = episode_ref(ws, episode)
    try:
        target = unpublishing.find_target(ws, catalog, episode)  # an episode whose file is gone or broken too
    except ConfigError:
        if named and (errors := file_errors(ws, loaded, *named)):
            raise ValidationError(errors) from None  # what `check` says of its file
        raise
    if not yes:  # with --json the question goes to stderr: stdout holds the document alone
        click.confirm(f"Take {target.key} down from its feed and delete its media?", abort=True,
                      err=settings(ctx).json)
    report(ctx).lists("episodes")
    try:
        done = unpublishing.unpublish(ws, catalog, target)
    except ConfigError as exc:  # the show's feed cannot be rebuilt: say what is wrong with its files
        files = {display_path(ws, p) for p in [ws.feeds_dir / f"{target.show}.toml", *episode_paths(ws, target.show)]}
        if show_errors := [p for p in loaded if p.severity == "error" and p.path in files]:
            raise ValidationError(show_errors) from exc
        raise
    if done.was is None:
        emit(ctx, f"{target.key}: not published; nothing to do", into="episodes", episode=target.key, state=None)
    elif done.was == "unpublished":
        emit(ctx, f"{target.key}: already unpublished (guid {done.guid} retired)", into="episodes",
             episode=target.key, state="unpublished", guid=done.guid)
    else:
        emit(ctx, f"{target.key}: unpublished ({len(done.deleted)} file(s) deleted, guid {done.guid} retired)",
             into="episodes", episode=target.key, state="unpublished", guid=done.guid, deleted=list(done.deleted))
    notify(ctx, ws, catalog, [target.show], now=datetime.now(timezone.utc), dry_run=False, enabled=not no_notify)

