"""The `notify` command: send what the published state owes the shows' hubs, podping and chat
channels, without publishing; with --retry, what was given up too."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from media_pipeline import notify as notifying
from media_pipeline.cli._common import Command, echo, workspace
from media_pipeline.config.load import load_catalog
from media_pipeline.errors import ConfigError


@click.command("notify", cls=Command, json_output=False)
@click.argument("shows", nargs=-1, metavar="[SHOW...]")
@click.option("--retry", is_flag=True,
              help="Make the notifications given up after the show's `attempts` runs owed again, then send.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@click.pass_context
def notify_cmd(ctx: click.Context, shows: tuple[str, ...], retry: bool, dry_run: bool) -> None:
    """Send the notifications the published shows owe (every show, or each SHOW).

    publish, release-due and unpublish send them after each run; this sends what those left owed
    (a receiver that was down, a secret that was not set) without publishing. A notification that
    failed in the show's `attempts` runs is given up and left alone; --retry sends it again.
    Exit status: 0 when every channel took what it was sent, 1 when one failed (its warning says
    which), 2 usage error.

    \b
    Example:
        media-pipeline notify ihmiskeskeisyys --retry
    """
    ws = workspace(ctx)
    catalog, _ = load_catalog(ws, list(shows) or None)
    for show in shows:
        if show not in catalog.shows:
            raise ConfigError("no such show, or its file has errors (see `media-pipeline check`)",
                              path=f"feeds/{show}.toml")
    report = notifying.after_run(ws, catalog, list(shows) or None, now=datetime.now(timezone.utc),
                                 dry_run=dry_run, retry=retry and not dry_run)
    if report.retried:
        echo(f"{report.retried} given-up notification(s) owed again")
    for line in report.planned:
        echo(f"would notify {line}")
    for line in report.sent:
        echo(f"notified {line}")
    if report.warnings:
        ctx.exit(1)

