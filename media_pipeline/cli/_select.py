"""One way to name episodes on every command that takes them: `SHOW/SLUG`, the episode file's
path, `--show SHOW` (repeatable) and `--all`; and the shell completion of those names.

Names are resolved from the file tree alone, so a command loads only the shows it needs and
judges only the episodes it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import click
from click.shell_completion import CompletionItem

from media_pipeline import layout
from media_pipeline.config.episodes import episode_files
from media_pipeline.config.load import find_root, load_catalog, show_slugs
from media_pipeline.errors import ConfigError, PipelineError, Problem, ValidationError
from media_pipeline.model import Catalog, Episode, Workspace
from media_pipeline.util.fsutil import display_path

EPISODE_HELP = "EPISODE is SHOW/SLUG or the episode file's path."


@dataclass(frozen=True)
class Selection:
    """What the user named: the shows to load, the episodes named one by one (as given, with the
    (show, slug) each names) and the shows taken whole."""

    shows: list[str]
    named: list[tuple[str, tuple[str, str]]] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)

    def episodes(self, ws: Workspace, catalog: Catalog, loaded: Sequence[Problem] = ()) -> list[Episode]:
        """The selected episodes of `catalog`, shows taken whole first. A named episode that is not
        there because its file failed to load raises what the loader said of that file (what
        `check` says of it), never another file's problems."""
        chosen = [e for slug in self.whole for e in catalog.episodes.get(slug, ())]
        for ref, (show, slug) in self.named:
            if show in self.whole:
                continue
            chosen.append(find_episode(ws, catalog, loaded, ref, show, slug))
        return list(dict.fromkeys(chosen))


def find_episode(ws: Workspace, catalog: Catalog, loaded: Sequence[Problem], ref: str, show: str,
                 slug: str) -> Episode:
    try:
        return catalog.find_episode(ref)
    except ConfigError:
        if errors := file_errors(ws, loaded, show, slug):
            raise ValidationError(errors) from None
        raise


def one_episode(ws: Workspace, ref: str) -> tuple[Catalog, Episode]:
    """The episode `ref` names (SHOW/SLUG or its file), loading and judging only its own file and
    its show's: a command about one episode is not stopped by another episode's problems."""
    ((name, (show, slug)),) = select(ws, [ref]).named
    catalog, problems = load_catalog(ws, [show])
    if errors := file_errors(ws, problems, show, slug):
        raise ValidationError(errors)
    return catalog, find_episode(ws, catalog, problems, name, show, slug)


def file_errors(ws: Workspace, loaded: Sequence[Problem], show: str, slug: str) -> list[Problem]:
    """The loader's errors of one episode's file and of its show's file."""
    mine = {display_path(ws, layout.episode_file(ws, show, slug)), display_path(ws, ws.feeds_dir / f"{show}.toml")}
    return [p for p in loaded if p.severity == "error" and p.path in mine]


def select(ws: Workspace, refs: Sequence[str], shows: Sequence[str] = (), all_: bool = False, *,
           show_names: bool = False, default_all: bool = False, param_hint: str = "EPISODE") -> Selection:
    """Resolve the names a command was given. `show_names`: a bare SHOW (or its feeds/SHOW.toml)
    among `refs` means the whole show; `default_all`: naming nothing means every show."""
    known = show_slugs(ws)
    if all_ and (refs or shows):
        raise click.UsageError("--all takes every show; name no episode or show with it")
    if not (refs or shows or all_):
        if not default_all:
            raise click.UsageError("name episodes (SHOW/SLUG or the episode file), or use --show SHOW, or --all")
        all_ = True
    if all_:
        return Selection(list(known), whole=list(known))
    order: list[str] = []
    whole: list[str] = []
    named: list[tuple[str, tuple[str, str]]] = []
    for show in shows:
        if show not in known:
            raise click.BadParameter(f"{show!r} is not a show ({', '.join(known) or 'none'})", param_hint="--show")
        whole.append(show)
        order.append(show)
    for ref in refs:
        path = Path(ref)
        if show_names and ref in known:
            whole.append(ref)
            order.append(ref)
        elif show_names and path.suffix == ".toml" and path.resolve().parent == ws.feeds_dir.resolve() \
                and path.stem in known:
            whole.append(path.stem)
            order.append(path.stem)
        elif (pair := layout.episode_ref(ws, ref)) and pair[0] in known:
            named.append((ref, pair))
            order.append(pair[0])
        else:
            what = f"neither a show ({', '.join(known) or 'none'}) nor an episode" if show_names else "not an episode"
            raise click.BadParameter(f"{ref!r} is {what} (SHOW/SLUG or an episode file's path)",
                                     param_hint=param_hint)
    return Selection(list(dict.fromkeys(order)), named, list(dict.fromkeys(whole)))


# -- shell completion ---------------------------------------------------------------------------


def _root(ctx: click.Context) -> Path | None:
    given = ctx.find_root().params.get("root") or ctx.params.get("root")
    try:
        return Path(given) if given else find_root()
    except PipelineError:
        return None


def _names(ctx: click.Context, episodes: bool, shows: bool) -> list[str]:
    root = _root(ctx)
    if root is None:
        return []
    names = sorted(p.stem for p in (root / "feeds").glob("*.toml"))
    found = list(names) if shows else []
    if episodes:
        found += [f"{show}/{p.stem}" for show in names for p in episode_files(root / "episodes" / show)]
    return found


def completer(*, episodes: bool = True, shows: bool = False) -> Callable:
    """Tab completion of show names and SHOW/SLUG from the workspace's files; a path (with a
    `/` that is no show's, or starting with `.`) is left to the shell's file completion."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        names = _names(ctx, episodes, shows)
        matches = [CompletionItem(n) for n in names if n.startswith(incomplete)]
        if not matches and (incomplete.startswith((".", "/")) or "/" in incomplete):
            return [CompletionItem(incomplete, type="file")]
        return matches

    return complete
