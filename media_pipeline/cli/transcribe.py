"""`media-pipeline transcribe EPISODE`: a draft transcript from offline speech recognition."""

from __future__ import annotations

from pathlib import Path

import click

from media_pipeline.cli._common import Command, progress_bar, quiet, report, workspace
from media_pipeline.cli._select import completer, one_episode


@click.command("transcribe", cls=Command)
@click.argument("episode", metavar="EPISODE", shell_complete=completer())
@click.option("--language", default=None, help="Language of the speech (fi, sv, en). Default: the show's.")
@click.option("--force", is_flag=True, help="Draft even when a checked transcript in that language exists.")
@click.pass_context
def transcribe_command(ctx: click.Context, episode: str, language: str | None, force: bool) -> None:
    """Recognise the speech of EPISODE (SHOW/SLUG or its .md file) on this machine, write a
    draft WebVTT to transcripts/SHOW/SLUG.LANG.draft.vtt and name it in the episode file with
    `draft: true`. No audio leaves the machine.

    The engine and model come from the show's [transcripts] table (needs the asr extra:
    pip install 'media-pipeline[asr]'). `check` and `publish` treat a draft as missing until
    a person has checked it and removed `draft: true`, unless the show sets
    `allow_machine = true`, in which case it is published labelled as a machine transcript.

    \b
    Example:
        media-pipeline transcribe ihmiskeskeisyys/004-vieras
    """
    from media_pipeline.transcripts.asr import transcribe_episode

    ws = workspace(ctx)
    catalog, found = one_episode(ws, episode)
    show = catalog.shows[found.show]
    with progress_bar(f"Transcribing {found.key}", enabled=not quiet(ctx)) as progress:
        target = transcribe_episode(ws.root, show, found, language=language, force=force, progress=progress)
    shown = target.relative_to(ws.root) if target.is_relative_to(ws.root) else target
    report(ctx).set(episode=found.key, draft=Path(shown).as_posix())
    report(ctx).line(f"{found.key}: draft transcript {shown}; check it, then remove draft: true from {found.path.name}")
