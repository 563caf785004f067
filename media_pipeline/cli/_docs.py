"""Renders the command reference (docs/cli.md) from the commands' own --help texts."""

from __future__ import annotations

import click


def _help(command: click.Command, path: list[str]) -> str:
    ctx = click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100)
    return command.get_help(ctx)


def render_markdown() -> str:
    from . import cli

    parts = [
        "# Command reference",
        "",
        "Generated from each command's `--help` by `scripts/cli-docs`; a test keeps it in step with the code.",
        "",
        "```text",
        _help(cli, ["media-pipeline"]),
        "```",
    ]
    for name in sorted(cli.commands):
        parts += ["", f"## {name}", "", "```text", _help(cli.commands[name], ["media-pipeline", name]), "```"]
    return "\n".join(parts) + "\n"
