"""`media-pipeline chapters EPISODE`: chapters proposed from a webinar's slides."""

from __future__ import annotations

import click

from media_pipeline.cli._common import Command, report, workspace
from media_pipeline.cli._select import completer, one_episode
from media_pipeline.text.strings import format_clock


@click.command("chapters", cls=Command, needs_ffmpeg=True)
@click.argument("episode", metavar="EPISODE", shell_complete=completer())
@click.option("--dry-run", is_flag=True, help="Show the proposed chapters; write nothing.")
@click.pass_context
def chapters_command(ctx: click.Context, episode: str, dry_run: bool) -> None:
    """Propose chapters for the video EPISODE (SHOW/SLUG or its .md file) from its slides: a
    chapter where each slide appears, titled by the slide's number ("Dia 2"), with a picture of
    the slide, saved under chapters/SHOW/SLUG/, as the chapter image.

    The chapters are written into the episode file as a draft under a comment line that says so:
    give each chapter its title, merge or delete chapters, then delete the comment line to keep
    them. While the line is there, running the command again replaces the draft; chapters you
    wrote yourself are never replaced. The chapter images are published beside the episode and
    named in its JSON chapters and on its page.

    A slide change is a change of most of the picture that stays for a second or more, so a
    speaker's camera window or a mouse pointer does not start a chapter.

    \b
    Example:
        media-pipeline chapters tekoalywebinaarit/01 --dry-run
        media-pipeline chapters tekoalywebinaarit/01
    """
    from media_pipeline.video.chapters import propose_chapters

    ws = workspace(ctx)
    catalog, found = one_episode(ws, episode)
    proposal = propose_chapters(ws, catalog.shows[found.show], found, dry_run=dry_run)
    out = report(ctx)
    out.set(episode=found.key, dry_run=dry_run)
    out.lists("chapters")
    for slide, title in zip(proposal.slides, proposal.titles):
        image = slide.image.relative_to(ws.root).as_posix() if slide.image else None
        out.line(f"{format_clock(slide.start):>8}  {title}" + (f"  {image}" if image else ""), into="chapters",
                 start=slide.start, title=title, image=image)
    folder = proposal.folder.relative_to(ws.root).as_posix()
    if dry_run:
        out.line(f"{found.key}: {len(proposal.slides)} chapters proposed (dry run: nothing written; "
                 f"the pictures would go to {folder}/)")
    else:
        out.line(f"{found.key}: {len(proposal.slides)} draft chapters in {found.path.name}; title them, "
                 "then delete the comment line above them to keep them")
