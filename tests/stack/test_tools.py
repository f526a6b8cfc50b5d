"""Every program obs and its tests run is found in the project's own environment, or named as missing."""
from __future__ import annotations

import dataclasses
import re

import pytest

from obs.stack import tools
from tests.support.paths import REPO

ROOT = REPO
# A subprocess call whose argv starts with a string literal runs whatever that name finds on PATH.
BARE_NAME = re.compile(r"subprocess\.(?:run|Popen|call|check_call|check_output)\(\s*\[\s*[\"']")


def test_a_python_tool_is_found_beside_the_interpreter_even_with_an_empty_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    found = tools.find("check-jsonschema")
    assert found.parent == tools.scripts_dir() and found.is_file()


def test_a_python_tool_missing_from_the_environment_says_make_install(monkeypatch, tmp_path):
    monkeypatch.setattr(tools, "scripts_dir", lambda: tmp_path)
    monkeypatch.setattr(tools.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(tools.ToolMissing, match=r"`check-jsonschema` is not installed .*make install"):
        tools.find("check-jsonschema")


@pytest.mark.parametrize("name, says", [
    ("go", "Go >= 1.26"),
    ("node", "Node.js"),
    ("npm", "apt-get install npm"),
    ("chromium", "make browser"),
])
def test_a_missing_system_tool_is_named_with_how_to_install_it(monkeypatch, tmp_path, name, says):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(tools.SYSTEM, name, dataclasses.replace(tools.SYSTEM[name], fallbacks=()))
    with pytest.raises(tools.ToolMissing) as caught:
        tools.find(name)
    assert f"`{name}` is not on PATH" in str(caught.value) and says in str(caught.value)


def test_a_system_tool_off_path_is_found_where_its_installer_puts_it(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "go"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(tools.SYSTEM, "go", dataclasses.replace(tools.SYSTEM["go"], fallbacks=(str(fake),)))
    assert tools.find("go") == fake


def test_the_tool_fixture_fails_the_test_instead_of_skipping_it(tool, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(tools.SYSTEM, "node", dataclasses.replace(tools.SYSTEM["node"], fallbacks=()))
    with pytest.raises(pytest.fail.Exception, match="`node` is not on PATH"):
        tool("node")


def test_no_code_runs_a_program_by_a_bare_name():
    offenders = [f"{p.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
                 for folder in ("obs", "tests", "bench") for p in sorted((ROOT / folder).rglob("*.py"))
                 for text in [p.read_text(encoding="utf-8")] for m in BARE_NAME.finditer(text)]
    assert not offenders, "resolve programs through obs.stack.tools.find, not PATH: " + ", ".join(offenders)


def test_the_bare_name_check_catches_one():
    call = "subprocess." + 'run(["check-jsonschema", "x"])'   # split, so this file does not match itself
    assert BARE_NAME.search(call)
    assert not BARE_NAME.search("subprocess.run([str(tools.find('check-jsonschema')), 'x'])")


@pytest.mark.parametrize("text", ["[1, 2]", '"ok"', "null", "{not json", ""])
def test_a_damaged_build_stamp_means_build_again_not_a_crash(tmp_path, text):
    from obs.stack import cache
    (tmp_path / cache.STAMP).write_text(text)
    assert cache.read_stamp(tmp_path) is None
    assert cache.is_ready(tmp_path, "recipe", {}) is False
