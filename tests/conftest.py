"""Shared fixtures. Every external program a test runs comes through `tool`, never a bare name."""
from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest

from obs.errors import StackError
from obs.stack import tools
from obs.stack.build import ensure
from tests.support import realsvc


@pytest.fixture(autouse=True)
def _cycle_collection_stays_on():
    """A test that leaves cycle collection off (obs.batch) fails: the session after it would keep every cycle, open
    connections among them, and the live stacks' checks time out far from the cause."""
    yield
    assert gc.isenabled(), "this test left cycle collection off; restore it (gc.enable()) before it ends"


@pytest.fixture(scope="session")
def tool() -> Callable[[str], Path]:
    """`tool("promtool")`: the program from the project's own environment (obs.stack.tools).

    A missing program fails the test with what is missing and how to install it; it never skips,
    because a skipped check on a machine without the tool would look like a passing one."""
    def find(name: str) -> Path:
        try:
            return tools.find(name)
        except StackError as e:   # missing, or a pinned build that failed: both say what to do
            pytest.fail(str(e), pytrace=False)
    return find


# -- fixtures several modules share ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def promtool() -> Path:
    """The pinned promtool, built when missing (a test using it is marked `stack`)."""
    return ensure(["promtool"], progress=lambda _: None)["promtool"]


@pytest.fixture(scope="module")
def installed():
    """The real services of tests/realsvc (Node.js and Python) installed (cached) before any stack starts, so a
    cold install never eats a budget."""
    return realsvc.install_node(), realsvc.install_python()


# -- markers -------------------------------------------------------------------------------------------------
# `stack`: the test needs a binary obs builds from the Go module proxy (promtool, otelcol, ...); `live` (it
# starts a real stack) implies it. `pytest -m "not stack"` is the quick loop: it builds nothing. The guard
# below keeps the marker honest: in a test without it, asking obs.stack.build for a Go binary fails the test.

def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("live") is not None and item.get_closest_marker("stack") is None:
            item.add_marker(pytest.mark.stack)


_UNGUARDED = {}


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("stack") is not None:
        return
    from obs.stack import build
    real = build._target_of

    def guarded(name: str) -> str:
        pytest.fail(f"{item.nodeid} asks for the Go binary {name!r}: mark the test (or its module) "
                    "`pytest.mark.stack`, so the quick loop (`-m 'not stack'`) leaves it out", pytrace=False)
        return real(name)
    _UNGUARDED[item.nodeid] = real
    build._target_of = guarded


def pytest_runtest_teardown(item: pytest.Item) -> None:
    real = _UNGUARDED.pop(item.nodeid, None)
    if real is not None:
        from obs.stack import build
        build._target_of = real
