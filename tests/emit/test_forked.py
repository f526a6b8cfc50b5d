"""obs.forked.Ahead: one call made in a forked child while this process goes on. Its result crosses whole; a child
that fails, or whose result cannot cross, gives None (the caller then makes the call itself); every child is
reaped, and none is started where a fork is unsafe or useless."""
from __future__ import annotations

import os
import threading

import pytest

from obs import forked

two_cores = pytest.mark.skipif(not forked.can_fork(forked.cores()),
                               reason="needs fork and two cores; without them no child runs, tested below")


def no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@two_cores
def test_the_result_is_made_in_a_child_and_crosses_whole():
    here = os.getpid()
    ahead = forked.Ahead(lambda: ({"pid": os.getpid(), "squares": [i * i for i in range(1000)]}))
    assert ahead.running
    got = ahead.result()
    assert got is not None and got["pid"] != here and got["squares"] == [i * i for i in range(1000)]
    assert not ahead.running and ahead.result() is None   # taken once
    no_child_left()


def fails() -> None:
    raise ValueError("in the child")


@two_cores
@pytest.mark.parametrize("fn", [fails, lambda: threading.Lock(), lambda: os._exit(0)],
                         ids=["raises", "returns what pickle refuses", "exits without a word"])
def test_a_child_that_fails_in_any_way_gives_none_and_is_reaped(fn):
    assert forked.Ahead(fn).result() is None
    no_child_left()


@two_cores
def test_a_cancelled_child_is_ended_and_reaped():
    blocker, never_written = os.pipe()
    ahead = forked.Ahead(lambda: os.read(blocker, 1))
    ahead.cancel()
    assert not ahead.running and ahead.result() is None
    no_child_left()
    os.close(blocker)
    os.close(never_written)


def test_no_child_is_started_with_one_core_or_another_thread_running(monkeypatch):
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert not forked.Ahead(os.getpid).running
    monkeypatch.undo()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        ahead = forked.Ahead(os.getpid)
        assert not ahead.running and ahead.result() is None
    finally:
        stop.set()
        other.join()
