"""What the commands that change what listeners see share: the --now time, the notifications
that follow a run, and the failure list a batch ends with."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click

from media_pipeline.cli._common import report
from media_pipeline.config.load import load_catalog
from media_pipeline.config.times import localize
from media_pipeline.errors import ValidationError
from media_pipeline.model import Catalog, Workspace
from media_pipeline import notify as notifying

log = logging.getLogger(__name__)


class TimeParam(click.ParamType):
    """An ISO 8601 time; without an offset it is read in the workspace time zone (resolved later)."""

    name = "TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not a time like 2026-03-29T03:30 or 2026-03-29T03:30:00+03:00", param, ctx)


NOW = click.option("--now", type=TimeParam(), default=None,
                   help="Take this as the current time (ISO 8601; no offset: the workspace time zone).")
NO_NOTIFY = click.option("--no-notify", is_flag=True,
                         help="Send no notifications; what is owed goes out with the next run that notifies.")


def now(ws: Workspace, given: datetime | None) -> datetime:
    return localize(given, ZoneInfo(ws.timezone)) if given else datetime.now(timezone.utc)


def emit(ctx: click.Context, message: str, *, into: str | None, **fields) -> None:
    """One result: a line on stdout (a JSON object per line with --log-format json, as these
    commands always printed it), or an entry of the document's list `into` with --json."""
    report(ctx, json_lines=True).line(message, into=into, **fields)


def notify(ctx: click.Context, ws: Workspace, catalog: Catalog, shows: list[str] | None, *, now: datetime,
           dry_run: bool, enabled: bool, upcoming: list[str] = ()) -> None:
    """After the library call: what the run's shows owe their hubs, podping and chat channels
    (docs/notifications.md). A failed notification is one warning line, never a failed command."""
    report(ctx).lists("notifications")
    if not enabled:
        return
    done = notifying.after_run(ws, catalog, shows, now=now, dry_run=dry_run, upcoming=upcoming)
    for line in done.planned:
        emit(ctx, f"would notify {line}", into="notifications", notify=line, dry_run=True)
    for line in done.sent:
        emit(ctx, f"notified {line}", into="notifications", notify=line)


def load_checked(ws: Workspace, shows: list[str] | None = None, strict: bool = True) -> tuple[Catalog, list]:
    """Load; the loader's errors (strict: raised) and everything it found."""
    loaded, problems = load_catalog(ws, shows)
    errors = [p for p in problems if p.severity == "error"]
    if errors and strict:
        raise ValidationError(errors)
    return loaded, errors


def fail_if(ctx: click.Context, failures: list[tuple[str, str]]) -> None:
    """List every failure at the end, one line each, and exit 1 (a batch carries on until here)."""
    if not failures:
        return
    for what, reason in failures:
        line = reason if reason.startswith(what) else f"{what}: {reason}"
        log.error("error: %s", line)
        report(ctx).fail(line)
    ctx.exit(1)
