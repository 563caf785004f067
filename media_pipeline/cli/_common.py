"""What the commands share: the global options (accepted before or after the command's name),
workspace loading, logging set-up, the report a command prints, and progress drawing."""

from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import click

from media_pipeline.audio import ffmpeg
from media_pipeline.config.load import load_workspace
from media_pipeline.errors import PipelineError
from media_pipeline.model import Workspace
from media_pipeline.util.redact import redact

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _TextFormatter(logging.Formatter):
    """The message alone, without credentials or staging tokens (redact.py); an error's line
    starts with `error: `, as every failure line on stderr does."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR and not text.startswith("error: "):
            text = f"error: {text}"
        return redact(text)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False))


def setup_logging(verbose: int, quiet: bool, log_format: str = "text") -> None:
    """Logs go to stderr; results go to stdout. -v shows info from the library, -vv ffmpeg argv."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if log_format == "json" else _TextFormatter("%(message)s"))
    root = logging.getLogger("media_pipeline")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


# -- global options -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The global options as given, before the command's name and after it (as git and aws take them)."""

    root: str | None = None
    verbose: int = 0
    quiet: bool = False
    log_format: str = "text"
    json: bool = False

    def apply(self) -> None:
        setup_logging(self.verbose, self.quiet, self.log_format)


_SETTINGS = "media_pipeline.settings"  # in ctx.meta, which every context of one invocation shares


def settings(ctx: click.Context) -> Settings:
    return ctx.meta.get(_SETTINGS) or Settings()


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the command's name: laid over what was given before it
    (`-v` counts add up, a later --root or --log-format wins)."""
    if value in (None, False, 0):
        return value
    given = settings(ctx)
    name = (param.name or "").rstrip("_")
    if name == "verbose":
        value = given.verbose + value
    ctx.meta[_SETTINGS] = replace(given, **{name: value})
    return value


def _global_options(after_command: bool) -> list[click.Option]:
    """The options every command takes. On the group they set the defaults; after a command's name
    they are laid over those (and never passed to the command's function)."""
    extra: dict[str, Any] = {"expose_value": False, "callback": _remember} if after_command else {}
    log_format = {} if after_command else {"default": "text", "show_default": True}
    return [
        click.Option(["--root"], type=click.Path(file_okay=False, exists=True), default=None,
                     help="Workspace folder (holds media-pipeline.toml). Default: found from here upwards.", **extra),
        click.Option(["-v", "--verbose"], count=True,
                     help="More detail on stderr; twice shows every ffmpeg command.", **extra),
        click.Option(["-q", "--quiet"], is_flag=True, help="Only errors on stderr.", **extra),
        click.Option(["--log-format"], type=click.Choice(["text", "json"]), **log_format,
                     help="json writes one JSON object per log line, for log collectors.", **extra),
        click.Option(["--json", "json_"], is_flag=True,
                     help="Print the result as one JSON document on stdout.", **extra),
    ]


class Group(click.Group):
    """The command group: the global options before a command's name set the defaults."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options(after_command=False))


def remember_settings(ctx: click.Context, root: str | None, verbose: int, quiet: bool, log_format: str,
                      json_: bool) -> None:
    """The group's part: the global options given before the command's name."""
    ctx.meta[_SETTINGS] = Settings(root, verbose, quiet, log_format, json_)
    ctx.meta[_SETTINGS].apply()


class Command(click.Command):
    """A command that takes the global options after its name too, lists them in a section of
    their own in --help, checks ffmpeg before it starts when it runs ffmpeg (`needs_ffmpeg`), and
    prints its report (`Report`) once it ends, whether it succeeded or not."""

    def __init__(self, *args, needs_ffmpeg: bool = False, json_output: bool = True, **kwargs) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.needs_ffmpeg = needs_ffmpeg
        self.json_output = json_output
        self.global_params = _global_options(after_command=True)
        self.params.extend(self.global_params)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        shared = {id(p) for p in self.global_params}
        own = [r for p in self.get_params(ctx)
               if id(p) not in shared and not isinstance(p, click.Argument) and (r := p.get_help_record(ctx))]
        common = [r for p in self.global_params if (r := p.get_help_record(ctx))]
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if common:
            with formatter.section("Global options (also before the command)"):
                formatter.write_dl(common)

    def invoke(self, ctx: click.Context) -> Any:
        given = settings(ctx)
        given.apply()
        if given.json and not self.json_output:
            raise click.UsageError(f"{ctx.info_name} prints no report; --json does not apply to it", ctx)
        report = Report(ctx.info_name or self.name or "", given)
        ctx.meta[_REPORT] = report
        try:
            if self.needs_ffmpeg:
                ffmpeg.binary()  # a binary that lacks what the pipeline uses is refused before any work
            value = super().invoke(ctx)
        except click.exceptions.Exit as exc:
            report.finish(ok=exc.exit_code == 0)
            raise
        except click.exceptions.Abort:
            report.finish(ok=False, failures=["aborted"])
            raise
        except (click.UsageError, ffmpeg.Interrupted, KeyboardInterrupt, BrokenPipeError):
            raise
        except click.ClickException as exc:
            report.finish(ok=False, failures=[exc.format_message()])
            raise
        except Exception as exc:  # the run's one-line error handling prints it on stderr too
            report.finish(ok=False, failures=error_lines(exc))
            raise
        report.finish(ok=True)
        return value


# -- the report ---------------------------------------------------------------------------------


_REPORT = "media_pipeline.report"


@dataclass
class Report:
    """What a command prints on stdout. As text, each result is a line printed as it comes; with
    --json, the results are gathered into one JSON document printed when the command ends (also
    when it fails: `ok` false and the error lines in `failures`, as on stderr). With
    --log-format json, commands that printed their result lines as JSON objects (`json_lines`)
    still do so, one per line, when --json is not given."""

    command: str
    settings: Settings
    json_lines: bool = False
    document: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    done: bool = False

    def line(self, message: str, *, into: str | None = None, **fields: Any) -> None:
        """One result: `message` as text, or `fields` added to the document's list `into`."""
        if self.settings.json:
            if into is not None:
                self.document.setdefault(into, []).append(fields)
        elif self.json_lines and self.settings.log_format == "json":
            echo(json.dumps({"message": message, **fields}, ensure_ascii=False, default=str))
        else:
            echo(message)

    def set(self, **values: Any) -> None:
        """Keys of the JSON document (nothing is printed as text)."""
        self.document.update(values)

    def lists(self, *names: str) -> None:
        """Keys of the document that are lists, present even when empty."""
        for name in names:
            self.document.setdefault(name, [])

    def fail(self, line: str) -> None:
        """An error line the command prints on stderr at its end; the document lists it too."""
        self.failures.append(line)

    def finish(self, *, ok: bool, failures: list[str] = ()) -> None:
        if self.done or not self.settings.json:
            return
        self.done = True
        document = {"command": self.command, "ok": ok and not self.failures, **self.document,
                    "failures": [*self.failures, *failures]}
        echo(json.dumps(document, ensure_ascii=False, default=str, indent=2))


def report(ctx: click.Context, *, json_lines: bool = False) -> Report:
    """The running command's report (`json_lines`: keep the per-line JSON of --log-format json)."""
    found = ctx.meta.get(_REPORT)
    if found is None:
        found = ctx.meta[_REPORT] = Report(ctx.info_name or "", settings(ctx))
    found.json_lines = json_lines
    return found


def error_lines(exc: BaseException) -> list[str]:
    """The lines an error is reported with (without the `error: ` each gets on stderr)."""
    if isinstance(exc, PipelineError):
        return str(exc).splitlines() or [type(exc).__name__]
    text = " ".join(str(exc).split()) or "no details"
    return [f"unexpected {type(exc).__name__}: {text[:300]}"]


# -- the rest -----------------------------------------------------------------------------------


def echo(message: str, *, err: bool = False) -> None:
    """One line for the user, on stdout (or stderr), with credentials and staging tokens hidden."""
    click.echo(redact(message), err=err)


def workspace(ctx: click.Context) -> Workspace:
    root = settings(ctx).root
    return load_workspace(Path(root) if root else None)


def quiet(ctx: click.Context) -> bool:
    return settings(ctx).quiet


@contextmanager
def progress_bar(label: str, enabled: bool = True) -> Iterator:
    """A progress callback taking a fraction 0..1: a bar with time left on a terminal, nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1000, label=label, file=sys.stderr, show_eta=True, show_percent=True) as bar:
        state = {"done": 0}

        def update(fraction: float) -> None:
            target = int(max(0.0, min(1.0, fraction)) * 1000)
            if target > state["done"]:
                bar.update(target - state["done"])
                state["done"] = target

        yield update
