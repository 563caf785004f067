"""What `stats` shows: per show and episode the downloads (all time, in the first 7 and 30 days after
publication, by app, by day) and the site's page views, as a table, JSON, CSV and a private HTML
report with charts that are also tables. Computed from the summary's counts alone."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass, field

from jinja2 import Environment, PackageLoader, select_autoescape

from media_pipeline.model import Catalog
from media_pipeline.stats.summary import RULES, Summary


@dataclass
class EpisodeReach:
    show: str
    slug: str
    title: str
    published: str | None
    downloads: int = 0
    first_7_days: int = 0
    first_30_days: int = 0
    by_app: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)
    by_day_and_app: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Reach:
    rules: str
    episodes: list[EpisodeReach]
    by_show: dict[str, int]
    by_app: dict[str, int]
    by_day: dict[str, int]
    page_views: dict[str, int]
    page_views_by_day: dict[str, int]
    left_out: dict[str, int]
    open_days: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def reach(summary: Summary, catalog: Catalog) -> Reach:
    titles = {(e.show, e.slug): e for episodes in catalog.episodes.values() for e in episodes}
    rows: list[EpisodeReach] = []
    by_show: dict[str, int] = {}
    by_app: dict[str, int] = {}
    by_day: dict[str, int] = {}
    for show, episodes in sorted(summary.tally.downloads.items()):
        for slug, days in sorted(episodes.items()):
            episode = titles.get((show, slug))
            published = episode.publish_at.astimezone(dt.timezone.utc).date() if episode else None
            row = EpisodeReach(show, slug, episode.title if episode else slug,
                               published.isoformat() if published else None)
            for day, apps in sorted(days.items()):
                n = sum(apps.values())
                row.downloads += n
                row.by_day[day] = row.by_day.get(day, 0) + n
                row.by_day_and_app[day] = dict(sorted(apps.items()))
                by_day[day] = by_day.get(day, 0) + n
                if published is not None:
                    age = (dt.date.fromisoformat(day) - published).days
                    row.first_7_days += n if 0 <= age < 7 else 0
                    row.first_30_days += n if 0 <= age < 30 else 0
                for app, k in apps.items():
                    row.by_app[app] = row.by_app.get(app, 0) + k
                    by_app[app] = by_app.get(app, 0) + k
            by_show[show] = by_show.get(show, 0) + row.downloads
            rows.append(row)
    pages = {key: sum(days.values()) for key, days in sorted(summary.tally.pages.items())}
    pages_by_day: dict[str, int] = {}
    for days in summary.tally.pages.values():
        for day, n in days.items():
            pages_by_day[day] = pages_by_day.get(day, 0) + n
    return Reach(RULES, rows, by_show, dict(sorted(by_app.items(), key=lambda kv: (-kv[1], kv[0]))),
                 dict(sorted(by_day.items())), pages, dict(sorted(pages_by_day.items())),
                 dict(sorted(summary.tally.left_out.items())), sorted(summary.open_days.days))


def table(r: Reach) -> str:
    """The text a person reads in a terminal."""
    out = io.StringIO()
    width = max([len(f"{e.show}/{e.slug}") for e in r.episodes] + [7])
    out.write(f"{'episode':<{width}}  {'downloads':>9}  {'7 days':>6}  {'30 days':>7}  apps\n")
    for e in r.episodes:
        apps = ", ".join(f"{a} {n}" for a, n in sorted(e.by_app.items(), key=lambda kv: (-kv[1], kv[0])))
        out.write(f"{e.show + '/' + e.slug:<{width}}  {e.downloads:>9}  {e.first_7_days:>6}  "
                  f"{e.first_30_days:>7}  {apps}\n")
    for show, n in r.by_show.items():
        out.write(f"{show + ' (all episodes)':<{width}}  {n:>9}\n")
    if r.page_views:
        out.write(f"\npage views: {sum(r.page_views.values())} on {len(r.page_views)} page(s)\n")
    if r.left_out:
        out.write("left out: " + ", ".join(f"{k} {v}" for k, v in r.left_out.items()) + "\n")
    if r.open_days:
        out.write(f"still open (may grow with late logs): {', '.join(r.open_days)}\n")
    return out.getvalue()


def csv_rows(r: Reach) -> str:
    """One row per show, episode, day and app: the raw counts for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["show", "episode", "day", "app", "downloads"])
    for e in r.episodes:
        for day in sorted(e.by_day):
            for app, n in e.by_day_and_app[day].items():
                writer.writerow([e.show, e.slug, day, app, n])
    return out.getvalue()


_env = Environment(loader=PackageLoader("media_pipeline.stats", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def html(r: Reach, generated: dt.datetime) -> bytes:
    """The private report: totals, downloads over time, per episode and per app, each chart a table
    whose rows carry their bar, so it reads without sight, on a phone and without JavaScript."""
    def bars(data: dict[str, int]) -> list[dict]:
        top = max(data.values(), default=0) or 1
        return [{"label": k, "value": v, "share": v / top} for k, v in data.items()]
    page = _env.get_template("report.html").render(
        r=r, generated=generated.strftime("%Y-%m-%d %H:%M UTC"),
        over_time=bars(r.by_day), per_episode=bars({f"{e.show}/{e.slug}": e.downloads for e in r.episodes}),
        per_app=bars(r.by_app), total=sum(r.by_show.values()))
    return page.encode()
