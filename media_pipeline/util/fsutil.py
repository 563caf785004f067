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
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from media_pipeline.model import Workspace

TEMP_MARK = ".part"
NEW_FILE_MODE = 0o644
# A scratch folder with no lock file beside it (its lock was swept in a race, or it was made by a
# version without locks) is removed once untouched for this long.
SCRATCH_STALE_SECONDS = 24 * 3600


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
def scratch_folder(prefix: str, *, parent: Path | None = None) -> Iterator[Path]:
    """A new private folder in `parent` (the system's temporary folder unless given), removed on
    leaving, for files a step writes and reads back (a pass's logs).

    A run killed while using one (SIGKILL, a timeout, a lost machine) cannot remove it, so each
    folder has a lock file beside it (`<folder>.lock`) that its run holds until it is gone, and
    every new scratch folder first removes the folders of its `prefix` whose lock nobody holds.
    The lock is taken before the folder exists, so a sweep never sees a folder in use unlocked."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    sweep_scratch(prefix, parent=base)
    while True:
        folder = base / f"{prefix}{secrets.token_hex(6)}"
        try:
            fd = os.open(_scratch_lock(folder), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        break
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        folder.mkdir(mode=0o700)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        _scratch_lock(folder).unlink(missing_ok=True)
        os.close(fd)


def sweep_scratch(prefix: str, *, parent: Path | None = None) -> None:
    """Remove the scratch folders of `prefix` in `parent` whose run is gone (`scratch_folder`)."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    for path in base.glob(f"{prefix}*"):
        if path.name.endswith(".lock"):
            folder = path.with_name(path.name[:-len(".lock")])
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:  # gone meanwhile, or another user's
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: its run is still working
                os.close(fd)
                continue
            try:
                shutil.rmtree(folder, ignore_errors=True)
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)
        elif path.is_dir() and not _scratch_lock(path).exists():
            try:
                if time.time() - path.stat().st_mtime > SCRATCH_STALE_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _scratch_lock(folder: Path) -> Path:
    return folder.with_name(folder.name + ".lock")


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
