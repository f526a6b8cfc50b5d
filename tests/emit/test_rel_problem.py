"""rel_problem() judges every path of an ownership record, which is untrusted input: its fast form must answer
exactly as the plain definition it replaced, which walked each character and asked PurePosixPath for the
normal form."""
from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obs.emit.safepath import MAX_PATH, rel_problem


def plain(rel: object) -> str | None:
    if not isinstance(rel, str) or not rel:
        return "must be a non-empty relative path"
    if len(rel) > MAX_PATH or "\0" in rel or "\\" in rel or any(ord(ch) < 32 for ch in rel):
        return "must be a short path without control characters or backslashes"
    if rel.startswith("/"):
        return "must be relative to the output directory, not absolute"
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or PurePosixPath(rel).as_posix() != rel:
        return "must be in normal form, without `..`, `.` or empty components"
    return None


# The characters that matter to the rules, and a few that do not.
PIECES = st.sampled_from(["/", ".", "..", "a", "Z", "-", "_", "\\", "\0", "\t", "\n", "\x1f", " ", "\x7f", "é",
                          "alerts", "x.yml", "//", "./", "/."])


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_every_path_is_judged_as_the_plain_definition_judges_it(rel):
    assert rel_problem(rel) == plain(rel)


@pytest.mark.parametrize("rel, says", [
    ("alerts/api.rules.yml", None),
    ("alerts/./api.rules.yml", "normal form"),
    ("alerts//api.rules.yml", "normal form"),
    ("alerts/", "normal form"),
    ("../outside", "normal form"),
    ("/etc/passwd", "not absolute"),
    ("alerts\\x", "backslashes"),
    ("alerts/\x01x", "control characters"),
    ("a" * (MAX_PATH + 1), "short path"),
    ("", "non-empty"),
    (None, "non-empty"),
    ("a/..b/c.", None),
])
def test_a_path_in_normal_form_passes_and_every_other_says_why(rel, says):
    why = rel_problem(rel)
    assert (why is None) if says is None else (why is not None and says in why)
    assert why == plain(rel)
