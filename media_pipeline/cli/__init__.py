"""The command line: each command loads, calls the library, renders. Errors become one line each.

Every command lives in a module of this package and is listed in COMMANDS below; its docstring is
its `--help` and ends with an example.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys

import click

from media_pipeline import __version__
from media_pipeline.audio import ffmpeg
from media_pipeline.cli import (
    chapters, check, completion, feed, import_feed, loudness, new, notify, process, publish, release_due, serve, stats, tags,
    transcribe, unpublish,
)
from media_pipeline.cli._common import CONTEXT_SETTINGS, Group, error_lines, remember_settings
from media_pipeline.errors import PipelineError
from media_pipeline.util.redact import redact

log = logging.getLogger(__name__)


def _on_signal(signum: int, frame) -> None:
    """Stop at once: this thread's ffmpeg and worker threads' too, then unwind from here (removing
    temporary folders). Should the exception be swallowed where it lands (a finaliser ignores
    exceptions), the stop is recorded: the ffmpeg runs that follow raise it again, and the exit
    code still says so."""
    ffmpeg.terminate_children(signum)
    raise ffmpeg.Interrupted(signum)


def _handle_signals(handler=_on_signal) -> None:
    for signum in ffmpeg.STOP_SIGNALS:
        signal.signal(signum, handler)
    sys.unraisablehook = _unraisable
    atexit.unregister(_ignore_signals)
    atexit.register(_ignore_signals)


def _after_run(signum: int, frame) -> None:
    """The run is over, whichever way: a stop signal from here to exit changes nothing."""


def _ignore_signals() -> None:
    """At exit (atexit runs before Python puts each signal's default action back, and a SIGTERM
    landing after that would kill a process whose work is done, exit -15 instead of its own)."""
    for signum in ffmpeg.STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _unraisable(unraisable) -> None:
    """An exception Python had to ignore (raised in a finaliser): the stop signal's is recorded
    already; any other is one debug line, not a traceback on a user's terminal."""
    if not isinstance(unraisable.exc_value, ffmpeg.Interrupted):
        log.debug("ignored in %r: %s", unraisable.object, redact(repr(unraisable.exc_value)))


def _quiet_stdout() -> None:
    """The reader of stdout went away (`| head`): send the rest nowhere, so exit is quiet too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="media-pipeline")
@click.pass_context
def cli(ctx: click.Context, root: str | None, verbose: int, quiet: bool, log_format: str, json_: bool) -> None:
    """Publish podcast episodes and webinar recordings: loudness-normalise, encode, tag,
    upload, and rebuild the shows' RSS feeds.

    Run the commands inside a workspace, a folder with media-pipeline.toml, feeds/ and
    episodes/. Each command's --help shows an example. The options below are accepted after
    the command's name too.

    \b
    Example:
        media-pipeline check
        media-pipeline publish --all
    """
    remember_settings(ctx, root, verbose, quiet, log_format, json_)


# Every command, in one place: a command is a module of this package and one line here.
COMMANDS = [
    chapters.chapters_command,
    check.check,
    completion.completion,
    feed.feed_cmd,
    import_feed.import_command,
    loudness.loudness_command,
    new.new,
    notify.notify_cmd,
    process.process_command,
    publish.publish_cmd,
    release_due.release_due_cmd,
    serve.serve,
    stats.stats_cmd,
    tags.tags,
    transcribe.transcribe_command,
    unpublish.unpublish_cmd,
]
for _command in COMMANDS:
    cli.add_command(_command)


def run(args: list[str] | None = None, *, handle_signals: bool = True) -> int:
    """Run the command line `args` (default: sys.argv) and return its exit code: library errors
    become one line each on stderr and 1, usage errors 2, a signal 128+N, a closed stdout 0.
    `handle_signals`: the run owns the process's stop signals (SIGTERM, SIGINT, SIGHUP), as the
    command line's process does; after the run they change nothing, up to the process's exit."""
    if handle_signals:
        _handle_signals()
    try:
        try:
            code = _run(args)
        finally:
            if handle_signals:  # a signal caught just before this raises here, inside the run's handling
                _handle_signals(_after_run)
    except (ffmpeg.Interrupted, KeyboardInterrupt) as exc:
        ffmpeg.terminate_children()
        click.echo("Interrupted.", err=True)
        return 128 + exc.signum if isinstance(exc, ffmpeg.Interrupted) else 130
    stopped = ffmpeg.stop_signal()
    if stopped is not None:  # the stop's exception was swallowed where it landed; the run ended otherwise
        click.echo("Interrupted.", err=True)
        return 128 + stopped
    return code


def _run(args: list[str] | None) -> int:
    if instruction := os.environ.get(completion.COMPLETE_VAR):  # the shell asks (`completion --help`)
        return completion.answer(cli, instruction)
    try:
        # what cli.main does, without its handler that turns a closed stdout into exit 1
        with cli.make_context(completion.PROG_NAME, sys.argv[1:] if args is None else list(args)) as ctx:
            code = cli.invoke(ctx)
        sys.stdout.flush()
    except click.exceptions.Exit as exc:  # --help, --version
        code = exc.exit_code
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
            return 0
    except BrokenPipeError:  # the reader went away (`| head -n 1`): a normal end
        _quiet_stdout()
        return 0
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.UsageError as exc:
        exc.show()
        return exc.exit_code
    except click.ClickException as exc:  # a failure, not a usage error: one line like the others
        click.echo(redact(f"error: {exc.format_message()}"), err=True)
        return exc.exit_code
    except PipelineError as exc:
        for line in error_lines(exc):
            click.echo(redact(f"error: {line}"), err=True)
        return 1
    except SystemExit:
        raise
    except Exception as exc:
        _unexpected(exc)
        return 1
    return code if isinstance(code, int) else 0


def _unexpected(exc: Exception) -> None:
    """One line for an exception outside the error family (a failure nobody foresaw); the
    traceback only with --verbose: no traceback ever reaches a user unasked."""
    log.info("the traceback of the unexpected error:", exc_info=exc)  # with --verbose, redacted like every log line
    shown = logging.getLogger("media_pipeline").isEnabledFor(logging.INFO)
    hint = "" if shown else "; run again with --verbose to see the traceback"
    click.echo(redact(f"error: {error_lines(exc)[0]}{hint}"), err=True)


def main() -> None:
    """Entry point (the `media-pipeline` script)."""
    sys.exit(run())


__all__ = ["cli", "main", "run"]
logging.getLogger(__name__).addHandler(logging.NullHandler())
