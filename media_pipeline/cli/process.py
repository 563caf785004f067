"""`media-pipeline process EPISODE...`: normalise and encode episodes into the build cache."""

from __future__ import annotations

import click

from media_pipeline.audio.process import process_episode
from media_pipeline.cli._common import Command, progress_bar, quiet, report, workspace
from media_pipeline.config.load import load_catalog
from media_pipeline.errors import PipelineError
from media_pipeline.publishing import gate
from media_pipeline.video.renditions import add_renditions


@click.command("process", cls=Command, needs_ffmpeg=True)
@click.argument("episodes", nargs=-1, required=True, metavar="EPISODE...")
@click.pass_context
def process_command(ctx: click.Context, episodes: tuple[str, ...]) -> None:
    """Probe, loudness-normalise and encode each EPISODE (SHOW/SLUG or the episode's .md file)
    into the build cache, and print one line per episode: its renditions and their loudness.

    Every rendition is measured after encoding; one outside the show's loudness target or
    true-peak ceiling is an error. An unchanged episode comes from the cache without any
    audio work. A failed episode does not stop the others; the exit code is then 1.

    \b
    Example:
        media-pipeline process ihmiskeskeisyys/001
        media-pipeline process episodes/tekoalywebinaarit/01.md
    """
    ws = workspace(ctx)
    catalog, loaded = load_catalog(ws)
    gate.require(ws, catalog, loaded, feed_rules=False)  # the files must load; feed rules wait for publish
    failures = 0
    out = report(ctx)
    out.lists("episodes")
    for ref in episodes:
        try:
            episode = catalog.find_episode(ref)
            show = catalog.shows[episode.show]
            with progress_bar(f"Processing {episode.key}", enabled=not quiet(ctx)) as progress:
                result = add_renditions(ws, show, episode, process_episode(ws, show, episode, progress=progress))
        except PipelineError as exc:
            failures += 1
            click.echo(f"error: {exc}", err=True)
            out.fail(str(exc))
            continue
        parts = [f"{r.path.name} {r.loudness.integrated:.1f} LUFS {r.loudness.true_peak:.1f} dBTP"
                 for r in result.renditions if r.loudness]
        state = "cached" if result.cached else "processed"
        folder = result.renditions[0].path.parent
        if folder.is_relative_to(ws.root):
            folder = folder.relative_to(ws.root)
        renditions = [{"file": r.path.name, "integrated": r.loudness.integrated, "true_peak": r.loudness.true_peak,
                       "lra": r.loudness.lra} for r in result.renditions if r.loudness]
        out.line(f"{episode.key}: {state}: {', '.join(parts)} in {folder}", into="episodes", episode=episode.key,
                 state=state, folder=folder.as_posix(), renditions=renditions)
    if failures:
        ctx.exit(1)
