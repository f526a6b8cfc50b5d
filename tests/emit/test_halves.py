"""obs.emit.halves: the writer's per-file map, half of it in a forked process. Same results in the same order as
a plain map, errors raised from either side, and no second process outliving the first."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest

from obs.emit import halves
from obs.errors import Problem, SpecError

two_cores = pytest.mark.skipif(not halves.can_split(halves.MIN_ITEMS),
                               reason="needs fork and two cores; the map is then a plain one, tested below")


@pytest.fixture
def split_everything(monkeypatch):
    monkeypatch.setattr(halves, "MIN_ITEMS", 1)


def test_below_the_threshold_the_map_runs_in_this_process():
    assert {pid for _, pid in halves.map_halves(lambda i: (i, os.getpid()), range(50))} == {os.getpid()}


def both_take_part(here, there):
    """A map's function that runs `here(i)` in the first process and `there(i)` in the second. The second says which
    item it began with (the list returned beside the function holds it) and waits for the first's answer, which the
    first gives at its own first item: so each process gets items however the two share the queue, and however
    late either is scheduled (without the answer, a second process scheduled first could take every item)."""
    first = os.getpid()
    word_read, word_write = os.pipe()
    answer_read, answer_write = os.pipe()
    began: list[int] = []

    def step(i):
        if os.getpid() != first:
            if not began:   # the second process's own copy of the list
                began.append(i)
                os.write(word_write, i.to_bytes(4, "little"))
                os.read(answer_read, 1)
            return there(i)
        if not began:
            began.append(int.from_bytes(os.read(word_read, 4), "little"))
            os.write(answer_write, b"a")
        return here(i)

    return step, began


@two_cores
@pytest.mark.parametrize("count", [2, 7, 100, 20_000])
def test_the_map_returns_every_result_in_order_with_some_made_in_a_second_process(split_everything, count):
    here = os.getpid()
    square = lambda i: (i * i, os.getpid())  # noqa: E731
    results = halves.map_halves(both_take_part(square, square)[0], list(range(count)))
    assert [r for r, _ in results] == [i * i for i in range(count)]
    assert here in {pid for _, pid in results} and len({pid for _, pid in results}) == 2
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)   # the second process was reaped


def in_second(error):
    """A map's function that raises `error()` in the second process, at its first item."""
    def fail(i):
        raise error()

    return both_take_part(lambda i: i, fail)[0]


@two_cores
def test_an_error_in_the_second_process_is_raised_in_the_first_with_its_path(split_everything):
    step = in_second(lambda: OSError(errno.ENOSPC, "No space left on device", "deploy/slo/x.yaml"))
    with pytest.raises(OSError) as caught:
        halves.map_halves(step, list(range(10)))
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, "deploy/slo/x.yaml")
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


class Unsendable(Exception):
    """An error pickle cannot rebuild (its constructor takes two arguments, its args hold one)."""

    def __init__(self, what: str, where: int):
        super().__init__(f"{what} at {where}")


@two_cores
def test_an_error_that_cannot_cross_processes_is_raised_by_running_its_item_again_here(split_everything):
    """The second process fails at its first item and says which; that item fails here too, as a pure function's
    would, and so the first process raises the error in its own type and words."""
    def fail(i):
        raise Unsendable("no", i)

    step, failing = both_take_part(lambda i: fail(i) if i == failing[0] else i, fail)
    with pytest.raises(Unsendable) as caught:
        halves.map_halves(step, list(range(10)))
    assert str(caught.value) == f"no at {failing[0]}"


@two_cores
def test_a_spec_error_crosses_processes_whole(split_everything):
    problems = [Problem("services[0].name", "is bad", 3, 5)]
    with pytest.raises(SpecError) as caught:
        halves.map_halves(in_second(lambda: SpecError("obs.yaml", problems)), list(range(4)))
    assert (caught.value.source, caught.value.problems, str(caught.value)) == (
        "obs.yaml", problems, "obs.yaml:3:5: services[0].name: is bad")


@two_cores
def test_an_error_in_the_first_process_ends_the_second_and_is_raised(split_everything):
    def fail(i):
        raise ValueError("the first process failed")

    with pytest.raises(ValueError, match="the first process failed"):
        halves.map_halves(both_take_part(fail, lambda i: i)[0], list(range(10)))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


# The map under test: its second process says it is running, then blocks reading a pipe the harness holds (fd in
# argv[1]); its first waits for that word, then kills itself. Each process is told by its pid, not by its item: the
# two take items from one queue in either order, and a first process that took the second's part would wait on
# the harness's pipe for ever. Neither takes both: the first is blocked at its first item until the second begins.
WORKER = """
import os, signal, sys
from obs.emit import halves
from obs.errors import Problem, SpecError
halves.MIN_ITEMS = 1
first = os.getpid()
ready_read, ready_write = os.pipe()
def step(i):
    if os.getpid() != first:
        os.write(ready_write, b"r")
        os.read(int(sys.argv[1]), 1)
    else:
        os.read(ready_read, 1)
        os.kill(os.getpid(), signal.SIGKILL)
halves.map_halves(step, [0, 1])
"""

# Adopts orphans (PR_SET_CHILD_SUBREAPER), runs WORKER, closes the pipe once WORKER is dead, and reaps the orphan.
HARNESS = """
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1)
read_end, write_end = os.pipe()
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(read_end)], pass_fds=[read_end])
os.close(read_end)
assert worker.wait() == -signal.SIGKILL
os.close(write_end)
pid, status = os.waitpid(-1, 0)
print(pid != worker.pid, os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL)
"""


@two_cores
def test_the_second_process_dies_with_the_first_when_that_is_killed(tmp_path):
    """The orphan, once the pipe is closed, would end with status 0; killed with its parent, it ends by SIGKILL."""
    done = subprocess.run([sys.executable, "-c", HARNESS, WORKER], capture_output=True, text=True, cwd=tmp_path,
                          check=True)
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_a_machine_without_fork_or_a_second_core_runs_the_map_alone(monkeypatch, split_everything):
    monkeypatch.setattr(halves, "_cores", lambda: 1)
    assert not halves.can_split(10_000)
    assert {pid for _, pid in halves.map_halves(lambda i: (i, os.getpid()), range(10))} == {os.getpid()}


@contextmanager
def a_thread_beside(seen: list[tuple[str, int]]):
    """What map_halves runs beside: a thread for as long as it is entered, and what the map looked like then."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    seen.append(("entered", os.getpid()))
    try:
        yield
    finally:
        stop.set()
        thread.join()
        seen.append(("left", os.getpid()))


@two_cores
def test_what_runs_beside_a_split_map_starts_after_the_fork_and_ends_with_the_map(split_everything):
    seen: list[tuple[str, int]] = []
    results = halves.map_halves(both_take_part(lambda i: (i, os.getpid()), lambda i: (i, os.getpid()))[0],
                                list(range(20)), beside=lambda: a_thread_beside(seen))
    assert len({pid for _, pid in results}) == 2, "a thread running before the fork would have kept the map whole"
    assert seen == [("entered", os.getpid()), ("left", os.getpid())] and threading.active_count() == 1


def test_what_runs_beside_a_map_in_one_process_is_entered_around_it():
    seen: list[tuple[str, int]] = []

    def step(i):
        seen.append(("item", threading.active_count()))
        return i

    assert halves.map_halves(step, [0, 1], beside=lambda: a_thread_beside(seen)) == [0, 1]
    assert seen == [("entered", os.getpid()), ("item", 2), ("item", 2), ("left", os.getpid())]
