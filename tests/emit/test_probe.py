"""safepath.Probe remembers what each directory is, and must answer every path exactly as the one-off functions
do: links, files where folders go, folders where files go, unwritable folders, missing ones."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from obs.emit import safepath

PATHS = ["a.yml", "alerts/x.yml", "alerts/tests/x.test.yml", "linked/x.yml", "linked/deep/x.yml", "file/x.yml",
         "leaf-link.yml", "folder-leaf", "missing/deeper/x.yml", "locked/x.yml", "locked/new/x.yml", "fifo",
         "alerts/linked-leaf.yml", "deploy/kubernetes/rules/a.yaml", "deploy/kubernetes/rules/b.yaml"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "alerts" / "tests").mkdir(parents=True)
    (out / "alerts" / "x.yml").write_text("x")
    (out / "a.yml").write_text("a")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.yml").write_text("secret")
    (out / "linked").symlink_to(tmp_path / "elsewhere")
    (out / "file").write_text("not a folder")
    (out / "leaf-link.yml").symlink_to(tmp_path / "elsewhere" / "x.yml")
    (out / "alerts" / "linked-leaf.yml").symlink_to(tmp_path / "elsewhere" / "x.yml")
    (out / "folder-leaf").mkdir()
    (out / "locked").mkdir()
    (out / "locked" / "x.yml").write_text("x")
    os.mkfifo(out / "fifo")
    (out / "deploy" / "kubernetes" / "rules").mkdir(parents=True)
    (out / "deploy" / "kubernetes" / "rules" / "a.yaml").write_text("a")
    (out / "locked").chmod(0o500)
    yield out
    (out / "locked").chmod(0o700)


def answers(out: Path, rel: str, probe: safepath.Probe | None) -> tuple[object, ...]:
    def read() -> object:
        try:
            return probe.read(rel) if probe else safepath.read(out, rel)
        except OSError as e:
            return ("OSError", e.errno)
    if probe is None:
        return (safepath.obstacle(out, rel), safepath.unwritable(out, rel), safepath.is_file(out, rel),
                read() if safepath.obstacle(out, rel) is None else "blocked")
    return (probe.obstacle(rel), probe.unwritable(rel), probe.is_file(rel),
            read() if probe.obstacle(rel) is None else "blocked")


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_a_probe_answers_every_path_as_the_one_off_functions_do(tree, order):
    probe = safepath.Probe(tree)
    paths = PATHS if order == "as listed" else PATHS[::-1]
    for rel in paths:
        assert answers(tree, rel, probe) == answers(tree, rel, None), rel
    # and again, now that every directory is remembered
    for rel in paths:
        assert answers(tree, rel, probe) == answers(tree, rel, None), rel


def test_a_directory_made_after_the_probe_looked_is_told_with_made(tree):
    probe = safepath.Probe(tree)
    assert probe.obstacle("new/dir/x.yml") is None and not probe.is_dir("new/dir")
    (tree / "new" / "dir").mkdir(parents=True)
    probe.made("new/dir")
    assert probe.is_dir("new") and probe.is_dir("new/dir")
    (tree / "new" / "dir" / "x.yml").write_text("x")
    assert probe.is_file("new/dir/x.yml") and probe.read("new/dir/x.yml") == b"x"
