"""`media-pipeline process EPISODE...`: normalise and encode episodes into the build cache."""

from __future__ import annotations

import click

from media_pipeline.audio.process import process_episode
from media_pipeline.cli._common import Command, progress_bar, quiet, report, workspace
from media_pipeline.cli._select import completer, file_errors, find_episode, select
from media_pipeline.config.load import episode_paths, load_catalog
from media_pipeline.errors import PipelineError, ValidationError
from media_pipeline.video.renditions import add_renditions


@click.command("process", cls=Command, needs_ffmpeg=True)
@click.argument("episodes", nargs=-1, metavar="[EPISODE...]", shell_complete=completer())
@click.option("--show", "shows", multiple=True, metavar="SHOW", shell_complete=completer(episodes=False, shows=True),
              help="Every episode of this show (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Every episode of every show.")
@click.pass_context
def process_command(ctx: click.Context, episodes: tuple[str, ...], shows: tuple[str, ...], all_: bool) -> None:
    """Probe, loudness-normalise and encode each EPISODE (SHOW/SLUG or the episode's .md file,
    or every episode of --show SHOW, or --all) into the build cache, and print one line per
    episode: its renditions and their loudness. Only the named episodes' files are judged.

    Every rendition is measured after encoding; one outside the show's loudness target or
    true-peak ceiling is an error. An unchanged episode comes from the cache without any
    audio work. A failed episode does not stop the others; the exit code is then 1.

    \b
    Example:
        media-pipeline process ihmiskeskeisyys/001
        media-pipeline process episodes/tekoalywebinaarit/01.md
    """
    ws = workspace(ctx)
    chosen = select(ws, episodes, shows, all_)
    catalog, loaded = load_catalog(ws, chosen.shows)
    failures = 0
    out = report(ctx)
    out.lists("episodes")
    # each episode's own file and its show's must load; feed rules wait for publish
    todo = [(ref, show, slug) for ref, (show, slug) in chosen.named if show not in chosen.whole]
    for slug in chosen.whole:  # a file that failed to load is reported, never skipped
        loaded_slugs = [e.slug for e in catalog.episodes.get(slug, ())]
        broken = [p.stem for p in episode_paths(ws, slug) if p.stem not in loaded_slugs]
        todo += [(f"{slug}/{name}", slug, name) for name in loaded_slugs + broken]
    for ref, show_slug, slug in todo:
        try:
            if errors := file_errors(ws, loaded, show_slug, slug):
                raise ValidationError(errors)
            episode = find_episode(ws, catalog, loaded, ref, show_slug, slug)
            show = catalog.shows[episode.show]
            with progress_bar(f"Processing {episode.key}", enabled=not quiet(ctx)) as progress:
                result = add_renditions(ws, show, episode, process_episode(ws, show, episode, progress=progress))
        except PipelineError as exc:
            failures += 1
            for line in str(exc).splitlines():
                click.echo(f"error: {line}", err=True)
                out.fail(line)
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
