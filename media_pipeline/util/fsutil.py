"""Writing files so no reader ever sees half of one, scratch folders that a killed run does not
leave behind, and naming files in messages.

Every file the pipeline writes goes through `replacing`: a temporary file beside the target,
renamed into place only when it is complete. One temporary-name rule (`.<stem>.<random>.part<suffix>`,
keeping the suffix because ffmpeg picks its muxer by it) and one file-mode rule (the mode of the
file replaced, else 0644: published files and episode files are readable by all) hold everywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from media_pipeline.model import Workspace

log = logging.getLogger(__name__)

TEMP_MARK = ".part"
NEW_FILE_MODE = 0o644
# The lock file inside a scratch folder, locked by the run using it for as long as it lives.
SCRATCH_ALIVE = ".alive"
# A scratch folder with no lock file (its run died before it locked one, or a version without
# locks made it) is removed once untouched for this long.
SCRATCH_STALE_SECONDS = 3600


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


@contextlib.contextmanager
def scratch_folder(parent: Path, prefix: str = "") -> Iterator[Path]:
    """A new private folder in `parent`, removed on leaving, for files a step writes and reads back
    (a publishing run's tagged copies, an analysis pass's logs).

    A run killed while using one (SIGKILL, a timeout, a lost machine) cannot remove it, so the
    folder holds a lock file (`SCRATCH_ALIVE`) that its run keeps locked until the folder is gone,
    and every new scratch folder first removes those of its `prefix` in `parent` whose lock nobody
    holds. The lock file is locked under another name and renamed into place, so a sweep never
    finds it unlocked while its run lives; a folder without one is left until it is
    `SCRATCH_STALE_SECONDS` old."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    fd = os.open(folder / f"{SCRATCH_ALIVE}.new", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(folder / f"{SCRATCH_ALIVE}.new", folder / SCRATCH_ALIVE)
        sweep_scratch(parent, prefix, own=folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def sweep_scratch(parent: Path, prefix: str = "", *, own: Path | None = None) -> None:
    """Remove the scratch folders of `prefix` in `parent` whose run is gone (`scratch_folder`)."""
    for folder in parent.glob(f"{prefix}*"):
        if folder == own or not folder.is_dir():
            continue
        try:
            fd = os.open(folder / SCRATCH_ALIVE, os.O_RDONLY)
        except FileNotFoundError:  # made by a version without the lock, or being made: by its age
            try:
                if time.time() - folder.stat().st_mtime > SCRATCH_STALE_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass
            continue
        except OSError:  # another user's
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its run is still working
            pass
        else:  # nobody holds it: the run that made it is gone
            log.debug("removing the scratch folder of a stopped run: %s", folder)
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)


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
