"""Where things are: the repository and the tests' data directories, wherever the test module sits."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
REALSVC = TESTS / "realsvc"
SUPPORT = TESTS / "support"
