"""`media-pipeline completion SHELL`: the script that teaches bash, zsh or fish to complete the
command line (commands, options, show names and SHOW/SLUG episode names)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class, shell_complete

from media_pipeline.cli._common import Command

PROG_NAME = "media-pipeline"
COMPLETE_VAR = "_MEDIA_PIPELINE_COMPLETE"  # what click's completion scripts set: `_{PROG}_COMPLETE`
SHELLS = ("bash", "zsh", "fish")


def answer(cli: click.Command, instruction: str) -> int:
    """What the shell asked for in COMPLETE_VAR (`bash_source`, `zsh_complete`, ...): the script,
    or the completions of the words on its command line."""
    return shell_complete(cli, {}, PROG_NAME, COMPLETE_VAR, instruction)


@click.command("completion", cls=Command, json_output=False)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (bash 4.4 or later, zsh, fish).

    Load it from the shell's start-up file, so Tab completes commands, options, show names
    and episodes (SHOW/SLUG):

    \b
        bash:  echo 'eval "$(media-pipeline completion bash)"' >> ~/.bashrc
        zsh:   echo 'eval "$(media-pipeline completion zsh)"' >> ~/.zshrc
        fish:  media-pipeline completion fish > ~/.config/fish/completions/media-pipeline.fish

    The script is the same as `_MEDIA_PIPELINE_COMPLETE=bash_source media-pipeline` prints
    (zsh_source, fish_source for the others).

    \b
    Example:
        media-pipeline completion bash > ~/.local/share/bash-completion/completions/media-pipeline
    """
    script = get_completion_class(shell)(ctx.find_root().command, {}, PROG_NAME, COMPLETE_VAR).source()
    click.echo(script)
