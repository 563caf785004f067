"""`media-pipeline stats`: downloads and page views counted from the storage's own access logs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from media_pipeline import storage as storage_module
from media_pipeline.cli._common import Command, echo, quiet, report, settings, workspace
from media_pipeline.cli._publishing import NOW
from media_pipeline.cli._publishing import now as current_time
from media_pipeline.config.load import load_catalog
from media_pipeline.layout import STATS_REPORT_KEY
from media_pipeline.stats import report as reporting
from media_pipeline.stats.collect import collect
from media_pipeline.util.fsutil import atomic_write, display_path


@click.command("stats", cls=Command)
@click.argument("logs", nargs=-1, metavar="[LOG...]")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV: show, episode, day, app, downloads.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the HTML report to this local file (it is always stored privately "
                   f"as {STATS_REPORT_KEY}).")
@click.option("--grace-hours", type=click.IntRange(0, 240), default=6, show_default=True,
              help="How long after a day ends its late log lines are still counted; then the day's "
                   "pseudonyms and key are deleted.")
@NOW
@click.pass_context
def stats_cmd(ctx: click.Context, logs: tuple[str, ...], as_csv: bool, report_path: Path | None,
              grace_hours: int, now: dt.datetime | None) -> None:
    """Count downloads and page views from access logs, the way the industry counts them, with no
    tracking: the storage's own logs are read, counts are kept, no IP address or user agent is.

    LOG is a log file, a folder of them, or s3://BUCKET/PREFIX: S3 server access logs, CloudFront
    standard logs, or the log `serve --access-log FILE` writes (gzip or not). Each log is read
    once: what was counted is kept in a private summary beside the manifests, so a daily cron run
    costs time in the new logs only. Without LOG, the counts so far are shown.

    Downloads follow the IAB Tech Lab podcast measurement rules (docs/stats.md): a listener's
    requests for an episode on one day (UTC) count once, when they hold one minute of audio; bots,
    HEAD and 2-byte probes do not count. Every rendition of an episode counts for it, old keys of
    republished media included. Malformed lines and logs of other buckets are counted and shown,
    never fatal.

    \b
    Example:
        media-pipeline stats s3://my-logs/podcasts/ --report reach.html
        media-pipeline serve --access-log preview.log   # then, later:
        media-pipeline stats preview.log --json
    """
    as_json = settings(ctx).json
    ws = workspace(ctx)
    catalog, _ = load_catalog(ws)
    store = storage_module.open_storage(ws.storage_url, ws.root)
    moment = current_time(ws, now)
    show_progress = not quiet(ctx) and not (as_json or as_csv)
    summary, done = collect(ws, store, catalog, logs, now=moment, grace=dt.timedelta(hours=grace_hours),
                            progress=(lambda name: echo(f"reading {name}", err=True)) if show_progress else None)
    reach = reporting.reach(summary, catalog)
    page = reporting.html(reach, moment.astimezone(dt.timezone.utc))
    store.put_bytes(STATS_REPORT_KEY, page, content_type="text/html; charset=utf-8", cache_control="no-store")
    if report_path is not None:
        atomic_write(report_path, page)
    if as_json:
        report(ctx).set(**reach.as_dict(), logs_read=done.read, logs_already_counted=done.unchanged)
    elif as_csv:
        click.echo(reporting.csv_rows(reach), nl=False)
    else:
        click.echo(reporting.table(reach), nl=False)
    if not quiet(ctx) and logs:
        echo(f"stats: {len(done.read)} log(s) read, {len(done.unchanged)} already counted, "
             f"{done.lines} line(s)" + (f"; days closed: {', '.join(done.closed)}" if done.closed else ""),
             err=True)
        if report_path is not None:
            echo(f"report: {display_path(ws, report_path)}", err=True)
    for problem in done.problems:
        report(ctx).fail(problem)
        echo(f"error: {problem}", err=True)
    if done.problems:
        ctx.exit(1)
