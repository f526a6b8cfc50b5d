"""A map over many items, the second half of them in a forked process: the writer's per-file work at scale.

At a thousand services a write is some 9,000 files, each made from its shape's text, encoded, hashed, compared
with what is on disk and staged: work that shares nothing between files, and that one Python process runs on one
core. One fork gives a second core every other file. The child inherits the rendered tree and the plan's state
(copy on write), does its share, sends back only the small results, and exits; what it staged is in obs's own
staging folder, which the parent commits or drops as before.

The child dies with the parent (PR_SET_PDEATHSIG), so a killed generate leaves no writer behind, only a staging
folder that the next run sweeps. Without fork, with one core, with threads running (a fork copies no other thread)
or below MIN_ITEMS, the map runs in the calling process alone.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 2000   # below this the fork (and the copy on write of a large heap) costs about what it saves
_PR_SET_PDEATHSIG = 1


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_split(count: int) -> bool:
    return (count >= MIN_ITEMS and hasattr(os, "fork") and _cores() > 1 and threading.active_count() == 1)


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:   # the parent died before the request took hold
        os._exit(1)


def _sendable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def map_halves(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """[fn(item) for item in items], in order; items 1, 3, 5 ... in a forked child where can_split(len(items)).
    An exception in either process is raised here, after the child is gone."""
    if not can_split(len(items)):
        return [fn(item) for item in items]
    parent = os.getpid()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: never returns, never runs the parent's exit handlers
        status = 1
        try:
            os.close(read_end)
            _die_with_parent(parent)
            try:
                payload: tuple[bool, object] = (True, [fn(item) for item in items[1::2]])
            except BaseException as e:   # noqa: BLE001 (the parent raises it)
                payload = (False, _sendable(e))
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(payload, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as inp:
            mine = [fn(item) for item in items[0::2]]
            ok, theirs = pickle.load(inp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _, status = os.waitpid(pid, 0)
    if not ok:
        raise cast(BaseException, theirs)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the writer's second process ended with status {os.waitstatus_to_exitcode(status)}")
    others = cast("list[R]", theirs)
    merged: list[R] = []
    for k, result in enumerate(mine):
        merged.append(result)
        if k < len(others):
            merged.append(others[k])
    return merged
