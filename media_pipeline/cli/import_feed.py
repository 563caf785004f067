"""`media-pipeline import`: move a show in from its feed, every guid, date and order kept."""

from __future__ import annotations

import click

from media_pipeline.cli._common import Command, echo, quiet, workspace
from media_pipeline.importing.run import ItemResult, import_feed


@click.command("import", cls=Command, needs_ffmpeg=True, json_output=False)
@click.argument("feed", metavar="FEED_URL_OR_FILE")
@click.option("--show", "show", default=None, metavar="SLUG",
              help="The show's name in the workspace (feeds/SLUG.toml); default: from the feed's title.")
@click.option("--dry-run", is_flag=True, help="List what would be written; download nothing, write nothing.")
@click.option("--force", is_flag=True, help="Replace the show file and episode files the import wrote before.")
@click.pass_context
def import_command(ctx: click.Context, feed: str, show: str | None, dry_run: bool, force: bool) -> None:
    """Import an existing podcast from its RSS feed: the show, every episode, its media.

    Writes feeds/SHOW.toml and one episodes/SHOW/<slug>.md per item, and downloads the media
    into media/SHOW/, artwork into artwork/ and transcripts into transcripts/SHOW/. Each
    episode keeps its guid exactly as the old feed had it, and its publish time, so podcast apps
    see nothing new when the show is first published here. Downloads continue where an
    interrupted run stopped and are verified (length, and a probe of the media) before an
    episode file names them. Run it again at any time: episodes already in the workspace are
    found by their guid and left alone; nothing is overwritten without --force. A failed item
    is one line on stderr; the others go on, and the exit code is 1. docs/import.md explains
    moving the old feed.

    \b
    Example:
        media-pipeline import https://old-host.example/feed.xml --show ihmiskeskeisyys --dry-run
        media-pipeline import https://old-host.example/feed.xml --show ihmiskeskeisyys
        media-pipeline check ihmiskeskeisyys
    """
    silent = quiet(ctx)

    def shown(result: ItemResult) -> None:
        if result.state == "failed":
            echo(f"error: {result.label}: {result.reason}", err=True)
        elif result.state == "skipped":
            echo(f"skipped {result.label}: {result.reason}", err=True)
        elif not silent and result.state != "unchanged":
            echo(f"{result.state} {result.label}: {result.path}")

    report = import_feed(workspace(ctx), feed, show=show, dry_run=dry_run, force=force, on_item=shown)
    if dry_run:
        for path in report.written:
            echo(f"would write {path}")
    if not silent:
        echo(f"{report.show}: {report.count('imported') + report.count('would import')} "
             f"{'to import' if dry_run else 'imported'}, {report.count('unchanged')} already here, "
             f"{report.count('skipped')} skipped, {len(report.failures)} failed; show file {report.show_file}")
    if report.failures:
        ctx.exit(1)

