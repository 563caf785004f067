"""Writing files so no reader ever sees half of one, and naming files in messages.

Every file the pipeline writes goes through `replacing`: a temporary file beside the target,
renamed into place only when it is complete. One temporary-name rule (`.<stem>.<random>.part<suffix>`,
keeping the suffix because ffmpeg picks its muxer by it) and one file-mode rule (the mode of the
file replaced, else 0644: published files and episode files are readable by all) hold everywhere.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from media_pipeline.model import Workspace

TEMP_MARK = ".part"
NEW_FILE_MODE = 0o644


def temp_name_pattern(target: Path) -> str:
    """A glob for the temporary files `replacing` makes for `target` (for sweeping leftovers)."""
    return f".{target.stem}.*{TEMP_MARK}{target.suffix}"


@contextlib.contextmanager
def replacing(target: Path, *, fsync: bool = False, exclusive: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `target` to write; on success it takes `target`'s place.

    On any failure the temporary file is removed and `target` is untouched. With `fsync` the data
    reaches the disk before the rename; with `exclusive` an existing `target` is never replaced
    (FileExistsError, even in a race).
    """
    tmp = _temp_beside(target)
    try:
        yield tmp
        os.chmod(tmp, _mode_for(target))
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if exclusive:
            os.link(tmp, target)  # fails if the target appeared meanwhile
            tmp.unlink()
        else:
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(target: Path, data: bytes, *, exclusive: bool = False) -> None:
    with replacing(target, exclusive=exclusive) as tmp:
        tmp.write_bytes(data)


def atomic_copy(source: Path, target: Path) -> None:
    with replacing(target) as tmp:
        shutil.copyfile(source, tmp)


def display_path(ws: Workspace, path: Path | str) -> str:
    """A file's name in messages: relative to the workspace when it is inside it, else as given."""
    text = str(path)
    here = "" if os.path.isabs(text) else os.getcwd()  # a relative name means another file elsewhere
    if not ws.root.is_absolute():
        return _display(ws.root.resolve(), text, here)
    return _display(_resolved(ws.root), text, here)


@functools.lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    return root.resolve()  # the workspace's root, resolved once per process: named in every message


@functools.lru_cache(maxsize=4096)
def _display(root: Path, path: str, here: str) -> str:
    # resolved once per process: a run names each file in several messages and checks
    try:
        return str((Path(here) / path).resolve().relative_to(root))
    except ValueError:
        return path


def _temp_beside(target: Path) -> Path:
    for attempt in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f"{TEMP_MARK}{target.suffix}",
                                       dir=target.parent)
            os.close(fd)
            return Path(tmp)
        except FileNotFoundError:  # a concurrent delete pruned the folder just made
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return NEW_FILE_MODE


def move_into_place(source: Path, target: Path) -> None:
    """Give a complete file written beside `target` under another name (a resumable download,
    kept between runs) the target's name, with the same file-mode rule as `replacing`."""
    os.chmod(source, _mode_for(target))
    os.replace(source, target)
