"""`tags FILE`: show what a media file's own tags say, as a podcast app would read them."""

from __future__ import annotations

from pathlib import Path

import click

from media_pipeline.cli._common import Command, report, settings
from media_pipeline.tags import tagging


@click.command("tags", cls=Command, needs_ffmpeg=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def tags(ctx: click.Context, file: Path) -> None:
    """Show the tags, chapters and cover art inside an MP3 (ID3v2) or MP4/M4A file.

    Fields have the pipeline's names (title, artist, album, guid, feed_url, ...) whichever ID3
    frame or MP4 atom holds them; --json also lists the raw frame or atom names.

    \b
    Example:
        media-pipeline tags public/ihmiskeskeisyys/003.mp3
        media-pipeline tags --json public/tekoalywebinaarit/02.mp4
    """
    info = tagging.read_tags(file)
    if settings(ctx).json:
        report(ctx).set(**info)
        return
    click.echo(f"{info['path']}: {info['format']}")
    width = max((len(name) for name in info["fields"]), default=0)
    for name, value in info["fields"].items():
        text = "\n".join((" " * (width + 4) + line if i and line else line)
                         for i, line in enumerate(str(value).split("\n")))
        click.echo(f"  {name:<{width}}  {text}")
    cover = info["cover"]
    click.echo(f"  {'cover':<{width}}  " + (_image(cover) if cover else "none"))
    if info["chapters"]:
        click.echo(f"chapters ({len(info['chapters'])}):")
        for chapter in info["chapters"]:
            extras = [chapter["url"]] if chapter.get("url") else []
            if chapter.get("image"):
                extras.append(_image(chapter["image"]))
            suffix = f"  ({'; '.join(extras)})" if extras else ""
            click.echo(f"  {_clock(chapter['start'])}–{_clock(chapter['end'])}  {chapter['title']}{suffix}")


def _image(info: dict) -> str:
    return f"{info['mime']} {info['width']}x{info['height']} px, {info['bytes']} bytes"


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    whole, millis = divmod(ms, 1000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{millis:03d}"
