"""obs.emit.halves: the writer's per-file map, half of it in a forked process. Same results in the same order as
a plain map, errors raised from either side, and no second process outliving the first."""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from obs.emit import halves

two_cores = pytest.mark.skipif(not halves.can_split(halves.MIN_ITEMS),
                               reason="needs fork and two cores; the map is then a plain one, tested below")


@pytest.fixture
def split_everything(monkeypatch):
    monkeypatch.setattr(halves, "MIN_ITEMS", 1)


def test_below_the_threshold_the_map_runs_in_this_process():
    assert {pid for _, pid in halves.map_halves(lambda i: (i, os.getpid()), range(50))} == {os.getpid()}


@two_cores
def test_the_map_returns_every_result_in_order_with_every_other_one_made_in_a_second_process(split_everything):
    for count in (1, 2, 7, 100):
        results = halves.map_halves(lambda i: (i * i, os.getpid()), list(range(count)))
        assert [r for r, _ in results] == [i * i for i in range(count)]
        assert {pid for k, (_, pid) in enumerate(results) if k % 2 == 0} == {os.getpid()}
        assert os.getpid() not in {pid for k, (_, pid) in enumerate(results) if k % 2 == 1}
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)   # every second process was reaped


@two_cores
def test_an_error_in_the_second_process_is_raised_in_the_first_with_its_path(split_everything):
    def fail_on_three(i):
        if i == 3:
            raise OSError(errno.ENOSPC, "No space left on device", "deploy/slo/x.yaml")
        return i

    with pytest.raises(OSError) as caught:
        halves.map_halves(fail_on_three, list(range(10)))
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, "deploy/slo/x.yaml")
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@two_cores
def test_an_error_in_the_first_process_ends_the_second_and_is_raised(split_everything):
    def fail_on_zero(i):
        if i == 0:
            raise ValueError("the first process failed")
        return i

    with pytest.raises(ValueError, match="the first process failed"):
        halves.map_halves(fail_on_zero, list(range(10)))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


# The map under test: its second process says it is running, then blocks reading a pipe the harness holds (fd in
# argv[1]); its first waits for that word, then kills itself.
WORKER = """
import os, signal, sys
from obs.emit import halves
halves.MIN_ITEMS = 1
ready_read, ready_write = os.pipe()
def step(i):
    if i % 2:
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
