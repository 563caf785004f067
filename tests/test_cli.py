"""The command line as a whole: every command teaches by example and is documented."""

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
