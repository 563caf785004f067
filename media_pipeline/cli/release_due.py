"""`media-pipeline release-due`: release the staged episodes whose time has come (run from cron)."""

from __future__ import annotations

from datetime import datetime

import click

from media_pipeline.cli._common import Command, quiet, report, workspace
from media_pipeline.cli._publishing import NO_NOTIFY, NOW, emit, fail_if, load_checked, notify
from media_pipeline.cli._publishing import now as current_time
from media_pipeline.publishing import release as releasing


@click.command("release-due", cls=Command)
@NOW
@click.option("--dry-run", is_flag=True, help="List what would be released; change nothing.")
@NO_NOTIFY
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
    catalog, problems = load_checked(ws, strict=False)
    moment = current_time(ws, now)
    report(ctx).lists("released", "due")
    report(ctx).set(dry_run=dry_run, now=moment.isoformat(timespec="seconds"))
    done = releasing.release_due(ws, catalog, now=moment, dry_run=dry_run, loaded=problems)
    for release in done.due:
        emit(ctx, f"would release {release.key} (due {release.publish_at.isoformat()})", into="due",
             episode=release.key, guid=release.guid, due=release.publish_at.isoformat(), dry_run=True)
    for release in done.released:
        emit(ctx, f"released {release.key} (due {release.publish_at.isoformat()})", into="released",
             episode=release.key, guid=release.guid, due=release.publish_at.isoformat())
    if not (done.due or done.released or done.failures or problems) and not quiet(ctx):
        emit(ctx, f"nothing due at {moment.isoformat(timespec='seconds')}", into=None, due=0)
    notify(ctx, ws, catalog, None, now=moment, dry_run=dry_run, enabled=not no_notify,
           upcoming=[r.key for r in done.due])
    fail_if(ctx, [(p.path, str(p)) for p in problems] + done.failures)
