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


def examined(out: Path, rel: str, probe: safepath.Probe) -> tuple[object, object]:
    try:
        return probe.examine(rel)
    except OSError as e:
        return ("OSError", e.errno), None


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_a_probe_answers_every_path_as_the_one_off_functions_do(tree, order):
    probe = safepath.Probe(tree)
    paths = PATHS if order == "as listed" else PATHS[::-1]
    for rel in paths:
        assert answers(tree, rel, probe) == answers(tree, rel, None), rel
    # and again, now that every directory is remembered
    for rel in paths:
        assert answers(tree, rel, probe) == answers(tree, rel, None), rel


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_examine_answers_as_obstacle_and_then_read_do_with_one_look_at_the_file(tree, order):
    paths = PATHS if order == "as listed" else PATHS[::-1]
    probe = safepath.Probe(tree)
    seen = {rel: examined(tree, rel, probe) for rel in paths}
    for rel in paths:
        why = safepath.obstacle(tree, rel)
        assert seen[rel] == (why, None if why else safepath.read(tree, rel)), rel
    assert seen["alerts/x.yml"] == (None, b"x") and seen["missing/deeper/x.yml"] == (None, None)
    assert seen["leaf-link.yml"][0].startswith("leaf-link.yml: is a symbolic link") and seen["leaf-link.yml"][1] is None


def test_a_file_is_read_whole_past_the_size_it_had_when_opened(tmp_path, monkeypatch):
    """One read of the size fstat gives is not the end: a file that grew since, or a read cut short, reads on."""
    big = bytes(range(256)) * 40_000   # 10 MB, past the reads of 1 MiB that follow the first
    (tmp_path / "f").write_bytes(big)
    assert safepath.Probe(tmp_path).read("f") == big
    real_fstat = os.fstat

    class Shrunk:
        st_size = 10

    probe = safepath.Probe(tmp_path)
    assert probe.is_file("f")
    with monkeypatch.context() as patched:   # only around the read: os.fstat is every module's
        patched.setattr(os, "fstat", lambda fd: Shrunk() if fd > 2 else real_fstat(fd))
        assert probe.read("f") == big
    (tmp_path / "empty").write_bytes(b"")
    assert safepath.Probe(tmp_path).read("empty") == b""


def test_a_directory_made_after_the_probe_looked_is_told_with_made(tree):
    probe = safepath.Probe(tree)
    assert probe.obstacle("new/dir/x.yml") is None and not probe.is_dir("new/dir")
    (tree / "new" / "dir").mkdir(parents=True)
    probe.made("new/dir")
    assert probe.is_dir("new") and probe.is_dir("new/dir")
    (tree / "new" / "dir" / "x.yml").write_text("x")
    assert probe.is_file("new/dir/x.yml") and probe.read("new/dir/x.yml") == b"x"
