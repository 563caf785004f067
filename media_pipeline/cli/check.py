"""`media-pipeline check`: lint shows and episodes against Apple's and Podcasting 2.0 rules."""

from __future__ import annotations

import os
from pathlib import Path

import click

from media_pipeline.cli._common import Command, quiet, report, workspace
from media_pipeline.cli._select import completer, select
from media_pipeline.config.episodes import episode_files
from media_pipeline.config.load import load_catalog
from media_pipeline.errors import Problem
from media_pipeline.layout import episode_file
from media_pipeline.notify.channels import setting_problems
from media_pipeline.publishing import gate
from media_pipeline.storage import storage_problem
from media_pipeline.util.fsutil import display_path


@click.command("check", cls=Command)
@click.argument("targets", nargs=-1, metavar="[SHOW|EPISODE]...", shell_complete=completer(shows=True))
@click.option("--show", "shows", multiple=True, metavar="SHOW", shell_complete=completer(episodes=False, shows=True),
              help="Every episode of this show (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Every show and episode (the default).")
@click.option("--strict", is_flag=True, help="Fail on warnings too (for CI and cron).")
@click.pass_context
def check(ctx: click.Context, targets: tuple[str, ...], shows: tuple[str, ...], all_: bool, strict: bool) -> None:
    """Check show and episode files before publishing: unknown keys, wrong types, dates,
    Apple Podcasts rules (owner email, categories, description length, artwork, unique guids
    and episode numbers, safe file names), Podcasting 2.0 rules (transcripts, persons,
    licence, funding) and the chat channels' environment variables (unset: a warning; not a
    usable URL: an error). Each episode's recording is probed and decoded: missing, unreadable or
    damaged recordings, digital silence, one too short or too quiet to measure, and chapters
    or transcript cues past its end, are errors too (once a build cache exists, the result is
    kept there until the recording changes). Naming one episode checks what publishing it
    would meet: its file, its transcripts' caption norms, its show. Nothing is published or
    uploaded.

    Each problem is one line, "file: field: reason", warnings prefixed with "warning:".
    Exits 1 when there is an error (or, with --strict, a warning), 0 otherwise.

    SHOW is a show's name (its file in feeds/, or --show SHOW); EPISODE is SHOW/SLUG or the
    episode file's path. Without arguments (or with --all) every show and episode is checked.

    \b
    Example:
        media-pipeline check
        media-pipeline check ihmiskeskeisyys --strict
        media-pipeline check episodes/ihmiskeskeisyys/003.md
    """
    ws = workspace(ctx)
    chosen = select(ws, targets, shows, all_, show_names=True, default_all=True, param_hint="SHOW|EPISODE")
    shows = chosen.shows if (targets or shows) else []
    episode_files = _episode_files(ws, chosen)
    catalog, loaded = load_catalog(ws, shows or None)
    problems = gate.problems(ws, catalog, loaded)
    for slug, show in catalog.shows.items():
        problems += setting_problems(show, os.environ, display_path(ws, ws.feeds_dir / f"{slug}.toml"))
    if reason := storage_problem(ws.storage_url, ws.root):
        problems.append(Problem(display_path(ws, ws.root / "media-pipeline.toml"), None, reason))
    if episode_files:
        # What publishing the named episodes would meet: their own files' problems (their transcripts'
        # caption norms and artwork included), their shows', the workspace's, and a duplicate filed
        # against another episode that names one of them.
        placed = gate.place(ws, catalog, problems)
        keys = {f"{Path(path).parent.name}/{Path(path).stem}" for path in episode_files}
        chosen = [p for key in sorted(keys) for p in (*placed.of_episode(key), *placed.related.get(key, ()))]
        chosen += [p for slug in shows for p in placed.of_show(slug)]
        chosen += [p for p in problems if p.path == display_path(ws, ws.root / "media-pipeline.toml")]
        problems = list(dict.fromkeys(chosen))
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    out = report(ctx)
    out.lists("problems")
    for problem in sorted(problems, key=lambda p: p.path):
        out.line(f"warning: {problem}" if problem.severity != "error" else str(problem), into="problems",
                 file=problem.path, field=problem.field, reason=problem.reason, severity=problem.severity)
    checked = sum(len(catalog.episodes.get(s, ())) for s in catalog.shows)
    out.set(shows=len(catalog.shows), episodes=checked, errors=len(errors), warnings=len(warnings), strict=strict)
    if not quiet(ctx):
        click.echo(f"{len(catalog.shows)} show(s), {checked} valid episode(s) checked: "
                   f"{len(errors)} error(s), {len(warnings)} warning(s)", err=True)
    if errors or (strict and warnings):
        ctx.exit(1)


def _episode_files(ws, chosen) -> set[str]:
    """When episodes were named, the files (relative paths) to report: theirs, their shows' files,
    and every file of a show named whole too."""
    files: set[str] = set()
    for ref, (show, slug) in chosen.named:
        path = episode_file(ws, show, slug)
        if not path.is_file():
            raise click.BadParameter(f"{ref!r} is not an episode: {display_path(ws, path)} does not exist",
                                     param_hint="SHOW|EPISODE")
        files.add(display_path(ws, path.resolve()))
    if files:
        files |= {display_path(ws, ws.feeds_dir / f"{slug}.toml") for slug in chosen.shows}
        files |= {display_path(ws, p) for s in chosen.whole for p in episode_files(ws.episodes_dir / s)}
    return files
