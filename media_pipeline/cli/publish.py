"""Commands that change what listeners see: publish, release-due (for cron) and unpublish."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click

from media_pipeline.cli._common import CONTEXT_SETTINGS, echo, progress_bar, quiet, workspace
from media_pipeline.config.load import load_catalog, localize
from media_pipeline.errors import ConfigError, ValidationError
from media_pipeline.model import Catalog, Workspace
from media_pipeline.notify import notify as notifying
from media_pipeline.publishing import publish as publishing
from media_pipeline.publishing import release as releasing
from media_pipeline.publishing import unpublish as unpublishing

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


def _now(ws: Workspace, given: datetime | None) -> datetime:
    return localize(given, ZoneInfo(ws.timezone)) if given else datetime.now(timezone.utc)


def _emit(ctx: click.Context, message: str, **fields) -> None:
    """One result line on stdout: text, or a JSON object with --log-format json."""
    if ctx.find_root().params.get("log_format") == "json":
        echo(json.dumps({"message": message, **fields}, ensure_ascii=False, default=str))
    else:
        echo(message)


def _notify(ctx: click.Context, ws: Workspace, catalog: Catalog, shows: list[str] | None, *, now: datetime,
            dry_run: bool, enabled: bool, upcoming: list[str] = ()) -> None:
    """After the library call: what the run's shows owe their hubs, podping and chat channels
    (docs/notifications.md). A failed notification is one warning line, never a failed command."""
    if not enabled:
        return
    report = notifying.after_run(ws, catalog, shows, now=now, dry_run=dry_run, upcoming=upcoming)
    for line in report.planned:
        _emit(ctx, f"would notify {line}", notify=line, dry_run=True)
    for line in report.sent:
        _emit(ctx, f"notified {line}", notify=line)


_NO_NOTIFY = click.option("--no-notify", is_flag=True,
                          help="Send no notifications; what is owed goes out with the next run that notifies.")


def _catalog(ws: Workspace, shows: list[str] | None = None, strict: bool = True) -> tuple[Catalog, list]:
    """Load; the loader's errors (strict: raised) and everything it found."""
    catalog, problems = load_catalog(ws, shows)
    errors = [p for p in problems if p.severity == "error"]
    if errors and strict:
        raise ValidationError(errors)
    return catalog, errors


@click.command("publish", context_settings=CONTEXT_SETTINGS)
@click.argument("episodes", nargs=-1, metavar="[EPISODE...]")
@click.option("--show", "shows", multiple=True, metavar="SHOW", help="Every episode of this show (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Every episode of every show.")
@click.option("--dry-run", is_flag=True, help="Say what would go live or be staged; change nothing.")
@click.option("--now", type=TimeParam(), default=None,
              help="Take this as the current time (ISO 8601; no offset: the workspace time zone).")
@_NO_NOTIFY
@click.pass_context
def publish_cmd(ctx: click.Context, episodes: tuple[str, ...], shows: tuple[str, ...], all_: bool, dry_run: bool,
                now: datetime | None, no_notify: bool) -> None:
    """Process, tag and upload episodes, then rebuild their shows' feeds.

    Episodes whose publish time has come go live; later ones are uploaded to a private staging
    area and go live when `release-due` runs after their time. Media is stored and verified
    before the feed; unchanged files are not uploaded again. A failed episode does not stop the
    others; the command then exits 1 listing the failures.

    \b
    Example:
        media-pipeline publish ihmiskeskeisyys/003
        media-pipeline publish --show tekoalywebinaarit --dry-run
        media-pipeline publish --all
    """
    if sum(map(bool, (episodes, shows, all_))) != 1:
        raise click.UsageError("name episodes, or use --show SHOW, or --all (exactly one of them)")
    ws = workspace(ctx)
    catalog, loaded = load_catalog(ws, list(shows) or None)
    if all_ or shows:
        selected = [e for slug in (shows or catalog.shows) for e in catalog.episodes.get(slug, ())]
    else:
        selected = [_find(catalog, loaded, ref) for ref in episodes]
    moment = _now(ws, now)
    with progress_bar("publishing", enabled=not dry_run and not quiet(ctx)) as progress:
        report = publishing.publish(ws, catalog, selected, now=moment, dry_run=dry_run, progress=progress,
                                    loaded=loaded)
    for outcome in report.outcomes:
        if outcome.state == "failed":
            continue
        detail = {"live": "live", "staged": f"staged until {outcome.publish_at.isoformat()}"}.get(
            outcome.state, outcome.state)
        uploads = f", {len(outcome.uploaded)} file(s) uploaded" if outcome.state in ("live", "staged") else ""
        _emit(ctx, f"{outcome.key}: {detail}{uploads}", episode=outcome.key, state=outcome.state, guid=outcome.guid,
              uploaded=list(outcome.uploaded))
    for url in report.feeds:
        _emit(ctx, f"feed: {url}", feed=url)
    _notify(ctx, ws, catalog, sorted({e.show for e in selected}), now=moment, dry_run=dry_run, enabled=not no_notify,
            upcoming=[o.key for o in report.outcomes if o.state == "would go live"])
    _fail_if(ctx, report.failures)


@click.command("release-due", context_settings=CONTEXT_SETTINGS)
@click.option("--now", type=TimeParam(), default=None,
              help="Take this as the current time (ISO 8601; no offset: the workspace time zone).")
@click.option("--dry-run", is_flag=True, help="List what would be released; change nothing.")
@_NO_NOTIFY
@click.pass_context
def release_due_cmd(ctx: click.Context, now: datetime | None, dry_run: bool, no_notify: bool) -> None:
    """Release every staged episode whose publish time has passed (run it from cron).

    Release is cheap: a server-side copy of the staged files to their public place, then the
    feed. It prints one line per release and at most one line when nothing is due (nothing with
    --quiet). Overlapping runs are safe: they take turns on one machine and use conditional
    writes across machines. Exit codes: 0 success, 1 a release failed (the others still went
    out), 2 usage error. Shows with a [notify] table then tell their hubs, podping and chat
    channels, each change once; a failed notification is a warning, never exit 1.

    \b
    Example:
        */5 * * * *  cd /srv/podcasts && media-pipeline --quiet release-due
        media-pipeline release-due --dry-run --now 2026-03-29T04:30
    """
    ws = workspace(ctx)
    catalog, problems = _catalog(ws, strict=False)
    moment = _now(ws, now)
    report = releasing.release_due(ws, catalog, now=moment, dry_run=dry_run, loaded=problems)
    for release in report.due:
        _emit(ctx, f"would release {release.key} (due {release.publish_at.isoformat()})", episode=release.key,
              guid=release.guid, due=release.publish_at.isoformat(), dry_run=True)
    for release in report.released:
        _emit(ctx, f"released {release.key} (due {release.publish_at.isoformat()})", episode=release.key,
              guid=release.guid, due=release.publish_at.isoformat())
    if not (report.due or report.released or report.failures or problems) and not quiet(ctx):
        _emit(ctx, f"nothing due at {moment.isoformat(timespec='seconds')}", due=0)
    _notify(ctx, ws, catalog, None, now=moment, dry_run=dry_run, enabled=not no_notify,
            upcoming=[r.key for r in report.due])
    _fail_if(ctx, [(p.path, str(p)) for p in problems] + report.failures)


@click.command("unpublish", context_settings=CONTEXT_SETTINGS)
@click.argument("episode")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_NO_NOTIFY
@click.pass_context
def unpublish_cmd(ctx: click.Context, episode: str, yes: bool, no_notify: bool) -> None:
    """Take an episode down: remove it from the feed first, then delete its media.

    The episode's guid is kept as retired and never given to another episode; to publish the
    same file again as a new episode, delete its guid line first.

    \b
    Example:
        media-pipeline unpublish ihmiskeskeisyys/003 --yes
    """
    ws = workspace(ctx)
    catalog, _ = _catalog(ws)
    target = unpublishing.find_target(ws, catalog, episode)  # an episode whose file is gone too
    if not yes:
        click.confirm(f"Take {target.key} down from its feed and delete its media?", abort=True)
    report = unpublishing.unpublish(ws, catalog, target)
    if report.was is None:
        _emit(ctx, f"{target.key}: not published; nothing to do", episode=target.key, state=None)
    elif report.was == "unpublished":
        _emit(ctx, f"{target.key}: already unpublished (guid {report.guid} retired)", episode=target.key,
              state="unpublished", guid=report.guid)
    else:
        _emit(ctx, f"{target.key}: unpublished ({len(report.deleted)} file(s) deleted, guid {report.guid} retired)",
              episode=target.key, state="unpublished", guid=report.guid, deleted=list(report.deleted))
    _notify(ctx, ws, catalog, [target.show], now=datetime.now(timezone.utc), dry_run=False, enabled=not no_notify)


def _find(catalog: Catalog, loaded: list, ref: str):
    """The episode `ref` names; when it is missing because its file failed to load, the loader's
    errors (what `check` says of it) rather than "no such episode"."""
    try:
        return catalog.find_episode(ref)
    except ConfigError:
        if errors := [p for p in loaded if p.severity == "error"]:
            raise ValidationError(errors) from None
        raise


def _fail_if(ctx: click.Context, failures: list[tuple[str, str]]) -> None:
    """List every failure at the end, one line each, and exit 1 (a batch carries on until here)."""
    if not failures:
        return
    for what, reason in failures:
        line = reason if reason.startswith(what) else f"{what}: {reason}"
        log.error("error: %s", line)
    ctx.exit(1)


COMMANDS = [publish_cmd, release_due_cmd, unpublish_cmd]
