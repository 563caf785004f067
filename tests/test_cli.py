"""The command line as a whole: every command teaches by example and is documented."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from media_pipeline.cli import cli
from media_pipeline.cli._docs import render_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
EXPECTED = {"check", "feed", "loudness", "new", "process", "publish", "release-due", "serve", "tags", "unpublish"}


def test_every_planned_command_exists():
    assert EXPECTED <= set(cli.commands)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_help_ends_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert f"media-pipeline {name}" in result.output.split("Example", 1)[1]


def test_cli_reference_is_current():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), "run scripts/cli-docs to regenerate docs/cli.md"


def test_usage_error_exits_2(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "media_pipeline", "no-such-command"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "No such command" in proc.stderr


def test_progress_is_drawn_on_a_terminal_and_nowhere_else(workspace):
    """Issue 3: percentage and time left on a terminal during long work; nothing of it without one."""
    import os
    import pty
    import subprocess
    import sys

    workspace.show()
    workspace.episode("001", seconds=4)
    argv = [sys.executable, "-m", "media_pipeline", "--root", str(workspace.root), "process", "testi/001"]

    piped = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "%" not in piped.stderr and "[#" not in piped.stderr

    (workspace.root / ".media-pipeline").rename(workspace.root / "old-cache")  # do the audio work again
    main, secondary = pty.openpty()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary, timeout=120)
        os.close(secondary)
        drawn = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(main)
    assert proc.returncode == 0
    assert b"100%" in drawn and b"Processing testi/001" in drawn


@pytest.mark.parametrize("command", [["feed", "testi"], ["check"], ["--help"]])
def test_a_reader_that_goes_away_ends_the_command_quietly_with_0(workspace, command):
    """`media-pipeline feed SHOW | head -n 1`: the reader closes the pipe before the command writes."""
    import subprocess
    import sys

    from cli_support import invoke

    workspace.show()
    workspace.episode("001", seconds=2)
    if command[0] == "feed":
        assert invoke("--root", str(workspace.root), "publish", "--all").returncode == 0
    read, write = os.pipe()
    os.close(read)  # gone before the child starts: its first write meets a closed pipe
    try:
        proc = subprocess.run([sys.executable, "-m", "media_pipeline", "--root", str(workspace.root), *command],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (0, "")
