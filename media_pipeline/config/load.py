"""Loading a workspace: `media-pipeline.toml`, then every show and episode file into a `Catalog`.

The entry points callers use (`load_workspace`, `load_catalog`, `load_show`, `load_episode`) are
all importable from here. Every problem in a file is collected with its key and reason, and
reported together before any work starts, so a producer fixes a file in one go rather than one
error per run.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from media_pipeline.config.declare import read
from media_pipeline.config.episodes import episode_paths, load_episode
from media_pipeline.config.fields import Fields, read_toml, url_problem
from media_pipeline.config.keys import WORKSPACE
from media_pipeline.config.shows import load_show, show_slugs
from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.layout import episode_key
from media_pipeline.model import Catalog, Episode, Show, SiteSettings, Workspace
from media_pipeline.util.redact import url_credentials

__all__ = ["ENV_PUBLIC_URL", "ENV_STORAGE", "ENV_TIMEZONE", "WORKSPACE_FILE", "episode_paths", "find_root",
           "load_catalog", "load_episode", "load_show", "load_workspace", "show_slugs"]

WORKSPACE_FILE = "media-pipeline.toml"
ENV_STORAGE = "MEDIA_PIPELINE_STORAGE"
ENV_PUBLIC_URL = "MEDIA_PIPELINE_PUBLIC_URL"
ENV_TIMEZONE = "MEDIA_PIPELINE_TIMEZONE"


# -- workspace ---------------------------------------------------------------------------------


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` that holds `media-pipeline.toml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    raise ConfigError(f"no {WORKSPACE_FILE} here or in any parent folder; run inside a workspace or pass --root",
                      path=str(here))


def load_workspace(root: Path | None = None, environ: dict[str, str] | None = None) -> Workspace:
    """Read `media-pipeline.toml`; environment variables override storage, public URL and zone."""
    environ = os.environ if environ is None else environ
    root = (root.resolve() if root else find_root())
    path = root / WORKSPACE_FILE
    problems: list[Problem] = []
    data = read_toml(path, problems) if path.exists() else {}
    f = Fields(data, path, problems)
    # Read every key before applying overrides: a key shadowed by the environment is still known,
    # and a wrong type in the file is still worth reporting.
    values = read(f, WORKSPACE, root)
    storage, public_url, timezone = values.pop("storage_url"), values.pop("public_url"), values.pop("timezone")
    cache = values.pop("cache_dir")
    site = _site(values, f)
    storage_from = ENV_STORAGE if environ.get(ENV_STORAGE) else str(path)
    storage = environ.get(ENV_STORAGE) or storage
    public_url = environ.get(ENV_PUBLIC_URL) or public_url
    timezone = environ.get(ENV_TIMEZONE) or timezone
    f.finish()
    if environ.get(ENV_PUBLIC_URL) and (reason := url_problem(public_url)):
        problems.append(Problem(ENV_PUBLIC_URL, "public_url", reason))
    if found := url_credentials(storage or ""):
        # The value itself is never repeated: it is the secret.
        problems.append(Problem(storage_from, "storage", f"holds a credential ({', '.join(found)}); credentials never "
                                                         "go in the storage URL: give them through AWS_PROFILE or "
                                                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and remove "
                                                         "them from the URL"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(str(path), "timezone", f"unknown time zone {timezone!r}"))
    if problems:
        raise ValidationError(problems)
    return Workspace(root=root, storage_url=storage, public_url=public_url.rstrip("/"), timezone=timezone,
                     cache_dir=(root / cache) if cache else None, site=site)


def _site(values: dict, f: Fields) -> SiteSettings:
    """The listener site's keys of `media-pipeline.toml`: the rest of `values`."""
    translated = tuple((lang, values.pop(f"accessibility_shortcomings_{lang}")) for lang in ("fi", "sv", "en"))
    site = SiteSettings(**values, translated_shortcomings=tuple((lang, items) for lang, items in translated if items))
    if site.assessed:
        try:
            dt.date.fromisoformat(site.assessed)
        except ValueError:
            f.error("accessibility_assessed", f"must be a date YYYY-MM-DD, not {site.assessed!r}")
    return site


# -- whole-workspace loading -------------------------------------------------------------------


def load_catalog(ws: Workspace, shows: list[str] | None = None) -> tuple[Catalog, list[Problem]]:
    """Load shows and episodes, returning every problem found instead of stopping at the first.

    Each problem names its file (`Problem.path`, workspace-relative, as `display_path` gives it),
    so a caller can tell whose it is. A problem stays with its file: an episode file with an
    error is left out of the catalog and listed in `Catalog.refused` under `show/slug` with its
    problems, and every other episode and show still loads. A show file with an error still
    loads as far as it can (its problems name the show's file); one that cannot be read at all is
    left out with its problem.
    """
    problems: list[Problem] = []
    loaded_shows: dict[str, Show] = {}
    loaded_episodes: dict[str, tuple[Episode, ...]] = {}
    refused: dict[str, tuple[Problem, ...]] = {}
    for slug in shows or show_slugs(ws):
        try:
            show = load_show(ws, slug, problems)
        except ConfigError as exc:
            problems.append(Problem(exc.path or "", exc.field, exc.reason))
            continue
        loaded_shows[slug] = show
        episodes = []
        for path in episode_paths(ws, slug):
            start = len(problems)
            episode = load_episode(ws, slug, path, problems)
            if episode is None:
                refused[episode_key(slug, path.stem)] = tuple(problems[start:])
            else:
                episodes.append(episode)
        loaded_episodes[slug] = tuple(sorted(episodes, key=lambda e: e.listed_at))
    return Catalog(loaded_shows, loaded_episodes, refused), problems
