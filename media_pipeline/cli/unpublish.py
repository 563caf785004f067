"""`media-pipeline unpublish`: take an episode down, feed first, then its media."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from media_pipeline.cli._common import Command, report, settings, workspace
from media_pipeline.cli._publishing import NO_NOTIFY, emit, load_checked, notify
from media_pipeline.publishing import unpublish as unpublishing


@click.command("unpublish", cls=Command)
@click.argument("episode")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@NO_NOTIFY
@click.pass_context
def unpublish_cmd(ctx: click.Context, episode: str, yes: bool, no_notify: bool) -> None:
    """Take an episode down: remove it from the feed first, then delete its media.

    The episode's guid is kept as retired and never given to another episode; to publish the
    same file again as a new episode, delete its guid line first.

    \b
    Example:
        media-pipeline unpublish ihmiskeskeisyys/003 --yes
    """
    ws = workspace(ctx)
    catalog, _ = load_checked(ws)
    target = unpublishing.find_target(ws, catalog, episode)  # an episode whose file is gone too
    if not yes:  # with --json the question goes to stderr: stdout holds the document alone
        click.confirm(f"Take {target.key} down from its feed and delete its media?", abort=True,
                      err=settings(ctx).json)
    report(ctx).lists("episodes")
    done = unpublishing.unpublish(ws, catalog, target)
    if done.was is None:
        emit(ctx, f"{target.key}: not published; nothing to do", into="episodes", episode=target.key, state=None)
    elif done.was == "unpublished":
        emit(ctx, f"{target.key}: already unpublished (guid {done.guid} retired)", into="episodes",
             episode=target.key, state="unpublished", guid=done.guid)
    else:
        emit(ctx, f"{target.key}: unpublished ({len(done.deleted)} file(s) deleted, guid {done.guid} retired)",
             into="episodes", episode=target.key, state="unpublished", guid=done.guid, deleted=list(done.deleted))
    notify(ctx, ws, catalog, [target.show], now=datetime.now(timezone.utc), dry_run=False, enabled=not no_notify)
