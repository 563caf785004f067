"""Renders the command reference (docs/cli.md) from the commands' own --help texts."""

from __future__ import annotations

import click

from media_pipeline.cli._common import CONTEXT_SETTINGS


def render_markdown() -> str:
    from media_pipeline.cli import cli

    # Each command's context is a child of the group's, as in a real invocation, so inherited
    # settings (the -h alias, the width) are the ones users see.
    root = click.Context(cli, info_name="media-pipeline", terminal_width=100, **CONTEXT_SETTINGS)
    parts = [
        "# Command reference",
        "",
        "Generated from each command's `--help` by `scripts/cli-docs`; a test keeps it in step with the code.",
        "",
        "```text",
        cli.get_help(root),
        "```",
    ]
    for name in sorted(cli.commands):
        command = cli.commands[name]
        ctx = click.Context(command, info_name=name, parent=root)
        parts += ["", f"## {name}", "", "```text", command.get_help(ctx), "```"]
    return "\n".join(parts) + "\n"
