"""An episode published before and unchanged since: its manifest record reused, no media touched.

After an episode is stored, its fingerprint (everything its tagged copies and sidecars are made
from: the cache entry and its renditions, the episode's and show's files and settings, every file
they name, the public URLs, the code) is kept beside the build cache with the record it produced.
A later run whose fingerprint is the same, and whose manifest still holds exactly that record in
the place this run would put it, takes the record as it is: no copy, no re-tag, no sidecar, no
upload. Any difference, or anything unreadable, means the work is done as before.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from pathlib import Path
from typing import Any, Iterator

from media_pipeline.audio import stamps
from media_pipeline.audio.process import ProcessResult
from media_pipeline.model import Episode
from media_pipeline.publishing import manifest
from media_pipeline.publishing.run import ShowRun
from media_pipeline.publishing.uploads import Prepared
from media_pipeline.util.fsutil import atomic_write

log = logging.getLogger(__name__)

FOLDER = "_published"  # in the build cache; "_": no show's folder can have that name (lint.SAFE_NAME)
FORMAT = 1


def unchanged(run: ShowRun, episode: Episode, processed: ProcessResult) -> Prepared | None:
    """The episode as the manifest already has it, when nothing it is made from changed; else None.
    Its files are all where the manifest says, so storing it uploads nothing (no local file needed)."""
    if not processed.cached:
        return None
    current = run.current.episodes.get(episode.guid or "")
    if current is None or (current.state == "live") != run.goes_live(episode) or current.state == "unpublished":
        return None
    try:
        kept = json.loads(_path(run, episode).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("format") != FORMAT:
        return None
    if kept.get("record") != manifest.episode_json(current) or kept.get("guid") != current.guid:
        return None  # published since by another run or workspace, or the manifest was rebuilt
    if kept.get("fingerprint") != fingerprint(run, episode, processed):
        return None
    log.debug("%s: unchanged since it was last published; its files are not copied, tagged or sent", episode.key)
    if kept.get("inputs") != (now := inputs(run, episode)):  # kept before dry runs asked (`unchanged_inputs`)
        _keep(run, episode, {**kept, "inputs": now})
    return Prepared(current, {})


def remember(run: ShowRun, episode: Episode, processed: ProcessResult, prepared: Prepared) -> None:
    """Keep the record the episode's files give, for `unchanged` in later runs: trusted only while
    the manifest holds exactly that record, so after a failed upload or commit the next run does
    the work again."""
    kept = {"format": FORMAT, "guid": prepared.record.guid, "record": manifest.episode_json(prepared.record),
            "fingerprint": fingerprint(run, episode, processed), "inputs": inputs(run, episode)}
    _keep(run, episode, kept)


def _keep(run: ShowRun, episode: Episode, kept: dict) -> None:
    try:
        _path(run, episode).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(_path(run, episode), json.dumps(kept, sort_keys=True).encode())
    except OSError as exc:  # a saving, never a failure
        log.debug("could not keep %s: %s", _path(run, episode), exc)


def unchanged_inputs(run: ShowRun, episode: Episode) -> bool:
    """Without audio work (for a dry run): whether the manifest holds the record this workspace
    last published for the episode, made from the same recording, files and settings as now."""
    current = run.current.episodes.get(episode.guid or "")
    if current is None or current.state == "unpublished" or (current.state == "live") != run.goes_live(episode):
        return False
    try:
        kept = json.loads(_path(run, episode).read_text(encoding="utf-8"))
        return (isinstance(kept, dict) and kept.get("format") == FORMAT and kept.get("guid") == current.guid
                and kept.get("record") == manifest.episode_json(current) and kept.get("inputs") == inputs(run, episode))
    except (OSError, ValueError):
        return False


def inputs(run: ShowRun, episode: Episode) -> str:
    """The digest of what the episode is made from, its recording by content: what `fingerprint`
    covers, with the recording in place of the renditions made from it."""
    known = stamps.stamps_for(run.ws.build_dir)
    material = {
        "show": _show_part(run),
        "episode": repr(episode),
        "source": known.digest(episode.source) if episode.source.is_file() else None,
        "files": {str(p): known.digest(p) if p.is_file() else None for p in sorted(set(_paths(episode)))},
    }
    return stamps.material_digest(material)


def fingerprint(run: ShowRun, episode: Episode, processed: ProcessResult) -> str:
    """The digest of everything the episode's published files are made from."""
    known = stamps.stamps_for(run.ws.build_dir)
    material = {
        "show": _show_part(run),
        "episode": repr(episode),
        "renditions": [(repr(r), stamps.stamp(r.path)) for r in processed.renditions],
        # every file the episode names (transcripts, artwork, chapter images, clips), by content
        "files": {str(p): known.digest(p) if p.is_file() else None for p in sorted(set(_paths(episode)))},
    }
    return stamps.material_digest(material)


def _show_part(run: ShowRun) -> str:
    """What every episode of the run's show is made from: the code, the workspace, storage and show
    settings and every file the show names (artwork, clips), by content; once per run."""
    if "reuse" not in run.memo:
        known = stamps.stamps_for(run.ws.build_dir)
        material = {"code": _code(), "workspace": repr(run.ws), "storage": run.storage.url, "feed_url": run.feed_url,
                    "show": repr(run.show),
                    "files": {str(p): known.digest(p) if p.is_file() else None for p in sorted(set(_paths(run.show)))}}
        run.memo["reuse"] = stamps.material_digest(material)
    return run.memo["reuse"]


def _path(run: ShowRun, episode: Episode) -> Path:
    return run.ws.build_dir / FOLDER / run.show.slug / f"{episode.slug}.json"


def _paths(value: Any) -> Iterator[Path]:
    """Every Path in a (nested) dataclass, tuple, list or dict."""
    if isinstance(value, Path):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _paths(getattr(value, f.name))
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _paths(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _paths(item)


@functools.cache
def _code() -> dict[str, Any]:
    """The code that tags and writes the files: this package's files and mutagen (by version), and
    the ffmpeg that muxes captions."""
    from media_pipeline.audio import ffmpeg

    caps = ffmpeg.checked()
    return {"code": stamps.code_digest("mutagen"), "ffmpeg": [caps.path, caps.version]}


__all__ = ["fingerprint", "inputs", "remember", "unchanged", "unchanged_inputs"]
