"""`media-pipeline new`: scaffold the next episode file of a show."""

from __future__ import annotations

import os
from pathlib import Path

import click

from media_pipeline.cli._common import Command, report, workspace
from media_pipeline.config.scaffold import new_episode


@click.command("new", cls=Command)
@click.argument("show")
@click.option("--title", default=None, help="The episode's title (else left for you to fill in).")
@click.option("--slug", default=None, metavar="SLUG",
              help="File name without .md (default: the next number, padded like the show's other episodes).")
@click.pass_context
def new(ctx: click.Context, show: str, title: str | None, slug: str | None) -> None:
    """Create episodes/SHOW/<next>.md with every front-matter key, ready to fill in.

    The file gets the next episode number, a publish time tomorrow at 09:00 in the workspace
    time zone, every optional key commented out with what it means, and a template for the show
    notes. An existing file is never overwritten. Fill in the title and the source, then
    publish. The path of the new file is printed.

    \b
    Example:
        media-pipeline new ihmiskeskeisyys --title "Ihmiskeskeinen tekoäly kunnissa"
        media-pipeline check episodes/ihmiskeskeisyys/004.md
    """
    path = new_episode(workspace(ctx), show, title=title, slug=slug)
    report(ctx).set(path=_shown(path))
    report(ctx).line(_shown(path))


def _shown(path: Path) -> str:
    """The path as the user can open it: relative to here when inside, else absolute."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()
