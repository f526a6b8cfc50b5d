"""A map over many items, every other one in a forked process: generate's independent work at scale.

At a thousand services a write is some 9,000 files, each made from its shape's text, encoded, hashed, compared
with what is on disk and staged; a render is a hundred services rendered in full and a dozen generators. Each item
shares nothing with the others, and one Python process runs them on one core. One fork gives a second core every
other item. The child inherits the model, the rendered tree and the plan's state (copy on write), does its share,
sends back only the results, and exits; what the writer's child staged is in obs's own staging folder, which the
parent commits or drops as before.

The child dies with the parent (PR_SET_PDEATHSIG), so a killed generate leaves no writer behind, only a staging
folder that the next run sweeps. Without fork, with one core, with threads running (a fork copies no other thread)
or below MIN_ITEMS, the map runs in the calling process alone.
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar, cast

from obs import forked

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 2000   # below this the fork (and the copy on write of a large heap) costs about what it saves
_cores = forked.cores


def can_split(count: int, at_least: int | None = None) -> bool:
    return count >= (MIN_ITEMS if at_least is None else at_least) and forked.can_fork(_cores())


_TOKEN = 4                     # bytes of one chunk's number in the queue
_MAX_CHUNKS = 8192             # the queue's numbers fit a pipe's buffer (64 KiB) at once


def _take(queue: int, chunk: int, count: int) -> range | None:
    """The next chunk of item indices from the shared queue, or None when it is empty. A pipe's read of at most
    PIPE_BUF bytes is atomic, so the two processes never take the same number."""
    token = os.read(queue, _TOKEN)
    if len(token) < _TOKEN:
        return None
    start = int.from_bytes(token, "little") * chunk
    return range(start, min(start + chunk, count))


class _Failed(Exception):
    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index)
        self.index, self.error = index, error


def _run(fn: Callable[[T], R], items: Sequence[T], queue: int, chunk: int) -> list[tuple[int, R]]:
    """(index, result) of each item this process takes; _Failed names the item that raised."""
    done: list[tuple[int, R]] = []
    while (indices := _take(queue, chunk, len(items))) is not None:
        for i in indices:
            try:
                done.append((i, fn(items[i])))
            except BaseException as e:
                raise _Failed(i, e) from e
    return done


def map_halves(fn: Callable[[T], R], items: Sequence[T], at_least: int | None = None, *,
               split: bool | None = None,
               beside: Callable[[], AbstractContextManager[object]] = nullcontext) -> list[R]:
    """[fn(item) for item in items], in order; shared with a forked child where can_split(len(items), at_least)
    (MIN_ITEMS by default), or where `split` says so when given (the caller's own can_split() of what it counts: the
    writer's files, not its units of them). Both take the next chunk of items from one queue as they finish the
    last, so neither waits for the other however the items' costs vary. An exception in either process is raised
    here, after the child is gone; one that cannot cross processes is raised by running the child's failing item
    again here. `beside()` is entered in this process once the child is forked, or around the whole map where
    there is none, and left when both are done: a thread may run there (the writer's Flusher), which a fork must not
    copy."""
    if not (can_split(len(items), at_least) if split is None else split):
        with beside():
            return [fn(item) for item in items]
    chunk = -(-len(items) // _MAX_CHUNKS)
    queue, fill = os.pipe()
    os.set_blocking(queue, False)   # an empty queue reads as empty, not as a wait
    os.write(fill, b"".join(n.to_bytes(_TOKEN, "little") for n in range(-(-len(items) // chunk))))
    os.close(fill)
    def share() -> tuple[bool, object]:   # the child's share, or which item failed there (the parent raises it)
        try:
            return True, _run(fn, items, queue, chunk)
        except _Failed as failed:
            return False, (failed.index, forked.sendable(failed.error))

    pid, read_end = forked.start(share)
    try:
        with os.fdopen(read_end, "rb") as inp, beside():
            try:
                mine = _run(fn, items, queue, chunk)
            except _Failed as failed:
                raise failed.error from None
            ok, theirs = pickle.load(inp)
    except BaseException:
        forked.reap(pid, kill=True)
        raise
    finally:
        os.close(queue)
    status = forked.reap(pid)
    if not ok:
        index, error = cast("tuple[int, BaseException | None]", theirs)
        if error is None:
            fn(items[index])   # raises it here, in its own type and words
            error = RuntimeError(f"the second process failed on item {index}, which passes here")
        raise error
    if status != 0:
        raise RuntimeError(f"the second process ended with status {status}")
    merged: list[R | None] = [None] * len(items)
    for i, result in (*mine, *cast("list[tuple[int, R]]", theirs)):
        merged[i] = result
    return cast("list[R]", merged)
