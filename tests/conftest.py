"""Shared fixtures. Every external program a test runs comes through `tool`, never a bare name."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from obs.errors import StackError
from obs.stack import tools


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
