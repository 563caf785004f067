"""The `feed` command: a show's feed exactly as listeners' apps get it from storage."""

from __future__ import annotations

import click

from media_pipeline.cli._common import Command, workspace
from media_pipeline.config.load import load_show
from media_pipeline.errors import ConfigError
from media_pipeline.layout import feed_key, feed_url
from media_pipeline.storage import open_storage
from media_pipeline.util.fsutil import display_path


@click.command("feed", cls=Command, json_output=False)
@click.argument("show")
@click.pass_context
def feed_cmd(ctx: click.Context, show: str) -> None:
    """Print SHOW's published feed (RSS) to stdout, byte for byte as stored.

    It reads the feed from storage, not from the episode files: what you see is what podcast
    apps see. Publish first if the show has never been published.

    \b
    Example:
        media-pipeline feed ihmiskeskeisyys > feed.xml
        media-pipeline feed tekoalywebinaarit | xmllint --format -
    """
    ws = workspace(ctx)
    loaded = load_show(ws, show)
    got = open_storage(ws.storage_url, ws.root).get_bytes(feed_key(loaded.slug))
    if got is None:
        raise ConfigError(f"not published yet (no feed at {feed_url(ws, loaded)}); run `media-pipeline publish "
                          f"--show {loaded.slug}` first", path=display_path(ws, loaded.path))
    click.echo(got[0], nl=False)  # bytes go to the binary stream as they are
