"""The command line: each command loads, calls the library, renders. Errors become one line each.

Every command lives in a module of this package and is registered below; its docstring is its
`--help` and ends with an example.
"""

from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..errors import PipelineError
from ..redact import redact
from ._common import CONTEXT_SETTINGS, setup_logging

log = logging.getLogger(__name__)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="media-pipeline")
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=None,
              help="Workspace folder (holds media-pipeline.toml). Default: found from here upwards.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr; twice shows every ffmpeg command.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json writes one JSON object per log line, for log collectors.")
@click.pass_context
def cli(ctx: click.Context, root: str | None, verbose: int, quiet: bool, log_format: str) -> None:
    """Publish podcast episodes and webinar recordings: loudness-normalise, encode, tag,
    upload, and rebuild the shows' RSS feeds.

    Run the commands inside a workspace, a folder with media-pipeline.toml, feeds/ and
    episodes/. Each command's --help shows an example.

    \b
    Example:
        media-pipeline check
        media-pipeline publish --all
    """
    setup_logging(verbose, quiet, log_format)
    ctx.ensure_object(dict)
    ctx.obj.update(root=root, verbose=verbose, quiet=quiet)


def _register() -> None:
    """Add every command defined in this package's modules (a module lists its commands in COMMANDS)."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for command in getattr(module, "COMMANDS", ()):
                cli.add_command(command)


_register()


def main() -> None:
    """Entry point: library errors become one line each on stderr and exit 1; usage errors exit 2.

    Anything else (a failure nobody foresaw) is one line too, with the traceback on --verbose:
    no traceback ever reaches a user unasked.
    """
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PipelineError as exc:
        for line in str(exc).splitlines():
            click.echo(redact(f"error: {line}"), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        _unexpected(exc)
        sys.exit(1)
    else:
        sys.exit(code if isinstance(code, int) else 0)


def _unexpected(exc: Exception) -> None:
    """One line for an exception outside the error family; the traceback only with --verbose."""
    log.info("the traceback of the unexpected error:", exc_info=exc)  # with --verbose, redacted like every log line
    text = " ".join(str(exc).split()) or "no details"
    shown = logging.getLogger("media_pipeline").isEnabledFor(logging.INFO)
    hint = "" if shown else "; run again with --verbose to see the traceback"
    click.echo(redact(f"error: unexpected {type(exc).__name__}: {text[:300]}{hint}"), err=True)


__all__ = ["cli", "main"]
logging.getLogger(__name__).addHandler(logging.NullHandler())
