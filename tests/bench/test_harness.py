"""The Sloth benchmark's harness: what it reports of a command is the command's own."""
from __future__ import annotations

import sys

import pytest

from tests.support.paths import REPO

TOUCH = "x = bytearray({mib} << 20)\nfor i in range(0, len(x), 4096): x[i] = 1"   # RSS of at least that much


@pytest.fixture
def timed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from generate_vs_sloth import timed
    return timed


def test_a_commands_peak_memory_is_its_own_not_that_of_the_benchmark_that_started_it(timed) -> None:
    # A process's peak RSS counts the process it was forked from until it runs its own program: once the benchmark
    # had read a spec of a thousand services, every command it timed read as at least its 72 MiB.
    held = bytearray(200 << 20)
    for i in range(0, len(held), 4096):
        held[i] = 1
    small, large = timed([sys.executable, "-c", TOUCH.format(mib=1)]), timed([sys.executable, "-c", TOUCH.format(mib=300)])
    assert small.rss_mib < 50 < 300 < large.rss_mib < 350
    assert small.cpu > 0 and small.wall > 0


def test_a_command_that_fails_stops_the_benchmark_with_what_it_said(timed) -> None:
    with pytest.raises(SystemExit, match=r"failed \(3\):\nbroken"):
        timed([sys.executable, "-c", "import sys; print('broken', file=sys.stderr); sys.exit(3)"])
