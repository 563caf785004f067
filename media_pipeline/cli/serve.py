"""`media-pipeline serve`: preview the workspace's local storage over HTTP, byte ranges included."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from media_pipeline import storage as storage_module
from media_pipeline.cli._common import Command, echo, workspace
from media_pipeline.errors import ConfigError
from media_pipeline.layout import feed_key
from media_pipeline.preview.server import DEFAULT_HOST, DEFAULT_PORT, make_server
from media_pipeline.storage.local import LocalStorage


@click.command("serve", cls=Command, json_output=False)
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port; 0 picks a free one.")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on. Keep 127.0.0.1 unless other devices must reach it.")
@click.option("--access-log", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Append every request to this file (combined log format with the Range header), "
                   "for `media-pipeline stats`.")
@click.pass_context
def serve(ctx: click.Context, port: int, host: str, access_log: Path | None) -> None:
    """Serve the published shows from local storage, as podcast apps would fetch them.

    Answers GET and HEAD with byte ranges (206 Partial Content), so players can stream and seek.
    Staged media and the manifest under _private/ are never served. The listener site is at /:
    a folder answers with its index.html. Only works when the workspace's storage is a local
    folder (file://...); set public_url to the address shown so feed links point here.

    \b
    Example:
        media-pipeline serve --port 8000
        curl -r 1000-1999 -o part.bin http://127.0.0.1:8000/ihmiskeskeisyys/001.mp3
        media-pipeline serve --access-log preview.log
    """
    ws = workspace(ctx)
    store = storage_module.open_storage(ws.storage_url, ws.root)
    if not isinstance(store, LocalStorage):
        raise ConfigError("serve needs local storage (file://FOLDER); this workspace publishes to "
                          f"{store.url}", path=ws.root / "media-pipeline.toml", field="storage")
    try:
        server = make_server(store.root, host, port, access_log)
    except OSError as exc:
        if exc.filename:
            raise click.ClickException(f"{exc.filename}: cannot write the access log: {exc.strerror or exc}") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = server.server_address[:2]
    base = f"http://{bound_host}:{bound_port}"
    click.echo(f"Serving {store.root} at {base}/ (Ctrl+C to stop)", err=True)
    if not _same_place(ws.public_url, bound_host, bound_port):
        # The feeds and pages were written with public_url's links: a player that reads a feed
        # from here still fetches the media from there.
        echo(f"warning: the feeds link to {ws.public_url} (public_url), not to {base}; to preview them "
             f"here, set MEDIA_PIPELINE_PUBLIC_URL={base} or public_url, publish again, then serve on "
             f"port {bound_port}", err=True)
    if store.root.is_dir():
        for feed in sorted(store.root.glob(feed_key("*"))):
            click.echo(f"{base}/{feed_key(feed.parent.name)}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        server.server_close()


_LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"}


def _same_place(public_url: str, host: str, port: int) -> bool:
    """Whether links to `public_url` reach this server: the same port, and the same host or both
    this machine."""
    try:
        parts = urlsplit(public_url)
        public_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return False
    public_host = (parts.hostname or "").lower()
    same_host = public_host == host.lower() or (public_host in _LOCAL and host in _LOCAL)
    return same_host and public_port == port and parts.scheme == "http"
