"""Supervising ffmpeg children: each one dies with this process (even by SIGKILL), runs at the
priority asked for, and is stopped at once when a stop signal arrives, after which no more start.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from typing import Callable, Sequence

_children: set[subprocess.Popen] = set()
# re-entrant: the signal handler takes it in the main thread, which may hold it already
_children_lock = threading.RLock()
_stopping = threading.Event()
_stop_signal: list[int] = []
# How much lower a background run's priority is (see `run`). Measured on a 10-minute webinar on 2
# cores, whose AAC encoder, MP3 encoder and two verifiers want more CPU than there is: 15.9 s with
# the verifiers at the encoders' priority, 13.7 s with them 10 steps lower (19: no better).
BACKGROUND_NICE = 10
# The signals a run stops on (see the command line's handler).
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n))


class Interrupted(BaseException):
    """A stop signal arrived: unwind (removing temporary folders) and exit 128+N.

    A BaseException, so that no handler meant for a failed episode takes it for one."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - every Linux libc has it
        return None


_PRCTL = _prctl()
_PR_SET_PDEATHSIG = 1


def _child_setup(parent: int, mask: set[int], nice: int) -> Callable[[], None]:
    """In the child before exec: die when this process dies (even by SIGKILL), take back the
    signal mask the parent had before it blocked the stop signals around the start, and lower the
    child's priority by `nice`."""

    def die_with_parent() -> None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if nice:
            os.nice(nice)
        if os.getppid() != parent:  # the parent died before the line above: do not outlive it
            os._exit(1)

    return die_with_parent


def _lower_priority(nice: int) -> Callable[[], None] | None:
    return (lambda: os.nice(nice)) if nice and hasattr(os, "nice") else None


def stop_signal() -> int | None:
    """The stop signal this process received, if any."""
    return _stop_signal[0] if _stop_signal else None


def terminate_children(signum: int | None = None) -> None:
    """Stop every ffmpeg this process started and start no more (a signal handler's first act)."""
    if signum is not None and not _stop_signal:
        _stop_signal.append(signum)
    _stopping.set()
    with _children_lock:
        running = list(_children)
    for proc in running:
        try:
            proc.kill()
        except OSError:
            pass


def _check_stopping() -> None:
    if _stopping.is_set():
        raise Interrupted(stop_signal() or signal.SIGTERM)


def popen(argv: Sequence[str], *, nice: int = 0, **kwargs) -> subprocess.Popen:
    """Start a child that dies with this process and is stopped by `terminate_children`, `nice`
    steps below this process's priority.

    On Linux the child is told to die with this process, which takes code run between fork and
    exec. Python runs its fork handlers (logging's lock among them) around that; a signal handler
    that raised inside one would leave the lock taken or its exception ignored. So the stop signals
    wait, blocked, until the child has started; the child takes back the usual mask before exec."""
    _check_stopping()
    if _PRCTL is None:
        proc = subprocess.Popen(argv, preexec_fn=_lower_priority(nice), **kwargs)
        with _children_lock:
            _children.add(proc)
    else:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            proc = subprocess.Popen(argv, preexec_fn=_child_setup(os.getpid(), mask, nice), **kwargs)
            with _children_lock:
                _children.add(proc)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending stop signal is handled here
    if _stopping.is_set():  # set while this thread was starting it: it missed the kill
        proc.kill()
    return proc


def forget(proc: subprocess.Popen) -> None:
    """Stop tracking a child started with `popen` once it has exited."""
    with _children_lock:
        _children.discard(proc)
