"""What the commands share: workspace loading, logging set-up and progress drawing."""

from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from media_pipeline.config.load import load_workspace
from media_pipeline.model import Workspace
from media_pipeline.util.redact import redact

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _TextFormatter(logging.Formatter):
    """The message alone, without credentials or staging tokens (redact.py)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


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


def echo(message: str, *, err: bool = False) -> None:
    """One line for the user, on stdout (or stderr), with credentials and staging tokens hidden."""
    click.echo(redact(message), err=err)


def workspace(ctx: click.Context) -> Workspace:
    root = (ctx.find_root().obj or {}).get("root")
    return load_workspace(Path(root) if root else None)


def quiet(ctx: click.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("quiet"))


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
