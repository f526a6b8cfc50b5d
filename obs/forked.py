"""Work done in a forked copy of this process: what obs.emit.halves (a map shared with a second process) and Ahead
(one call made in a second process while this one goes on) have in common.

A fork is used only where it exists, there is a second core to run it, and no other thread runs: a fork copies
only the calling thread, so a lock another thread held would stay held in the child. The child inherits what this
process has made (copy on write), dies with it (PR_SET_PDEATHSIG), never runs its exit handlers or flushes its
streams (os._exit), and sends back only its pickled result.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R")

_PR_SET_PDEATHSIG = 1


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork(cores_here: int) -> bool:
    return hasattr(os, "fork") and cores_here > 1 and threading.active_count() == 1


def die_with_parent(parent: int) -> None:
    """In a child just forked from `parent`: be killed when it dies, or exit now if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:   # the parent died before the request took hold
        os._exit(1)


def sendable(error: BaseException) -> BaseException | None:
    """The error, if it survives a trip through pickle; None if not."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return None


def reap(pid: int, kill: bool = False) -> int:
    """Wait for the child (killed first if `kill`); its exit code."""
    if kill:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def start(work: Callable[[], object]) -> tuple[int, int]:
    """Fork a child that sends back work()'s result, pickled, and exits: (its pid, the end of the pipe to read the
    result from). A child whose work raises, or whose result pickle refuses, ends with status 1 and sends nothing
    whole."""
    parent = os.getpid()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: never returns, never runs the parent's exit handlers
        status = 1
        try:
            os.close(read_end)
            die_with_parent(parent)
            result = work()
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


class Ahead(Generic[R]):
    """work() begun in a forked child at once, its result taken with result() when this process needs it.

    result() is None where no child ran (see can_fork) or where it failed in any way: the caller then makes the call
    itself, so what it returns or raises, and where, is what it always was. A pending child is ended by cancel(),
    or with this process."""

    def __init__(self, work: Callable[[], R]) -> None:
        self._pid: int | None = None
        self._read = -1
        if can_fork(cores()):
            self._pid, self._read = start(work)

    @property
    def running(self) -> bool:
        """A child was started and its result not yet taken."""
        return self._pid is not None

    def result(self) -> R | None:
        """The child's result, once it has sent it and ended well; None where there is none."""
        if self._pid is None:
            return None
        pid, self._pid = self._pid, None
        try:
            with os.fdopen(self._read, "rb") as inp:
                value: R = pickle.load(inp)
        except Exception:   # it ended without sending all of it (it failed, or its result would not pickle)
            reap(pid, kill=True)
            return None
        except BaseException:   # interrupted here: the child goes too
            reap(pid, kill=True)
            raise
        return value if reap(pid) == 0 else None

    def cancel(self) -> None:
        """End a child whose result is not needed."""
        if self._pid is not None:
            pid, self._pid = self._pid, None
            os.close(self._read)
            reap(pid, kill=True)
