"""obs.spec.loader.read_ahead: a large spec's YAML is read in a second process while obs imports the rest, and what
read_yaml() then returns is exactly what it reads itself: the same data, positions and problems, the same errors,
and, for `obs generate`, the same tree."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from obs import forked
from obs.commands.generate import generate
from obs.errors import SpecError
from obs.spec import loader
from tests.support.paths import REPO

two_cores = pytest.mark.skipif(not forked.can_fork(forked.cores()),
                               reason="needs fork and two cores; without them the spec is read here, as always")


def scale_spec(services: int) -> str:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate_at_scale import spec
    finally:
        sys.path.remove(str(REPO / "bench"))
    return spec(services, names="realistic", various=True)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "obs.yaml"
    path.write_text(scale_spec(250))
    assert path.stat().st_size >= loader.MIN_AHEAD_BYTES
    return path


@pytest.fixture
def spy(monkeypatch):
    """What each read_yaml() took from a read ahead: the Document, None where it declined, or "none" with none."""
    seen: list[object] = []
    real = loader._taken

    def taken(text: str):
        got = real(text)
        seen.append("none" if got is None else got[0])
        return got

    monkeypatch.setattr(loader, "_taken", taken)
    yield seen
    loader.drop_ahead()


def no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@two_cores
def test_a_large_spec_read_ahead_reads_as_it_does_here(big, spy):
    text = loader.read_file(big)
    loader.read_ahead(big)
    ahead = loader.read_yaml(text, str(big))
    assert spy == [ahead] and ahead is not None
    assert ahead == loader.read_yaml(text, str(big)) and spy[1] == "none"
    no_child_left()


@two_cores
def test_a_spec_the_fast_path_declines_is_read_here_as_always(tmp_path, spy):
    path = tmp_path / "obs.yaml"
    text = scale_spec(250).replace("project: scale", "project: &name scale\nx-copy: *name", 1)
    path.write_text(text)
    loader.read_ahead(path)
    doc = loader.read_yaml(text, str(path))
    assert spy == [None]   # the child declined (an anchor), and read_yaml read it here
    assert doc == loader.read_yaml(text, str(path)) and doc.data["x-copy"] == "scale"
    no_child_left()


@two_cores
def test_a_spec_with_problems_read_ahead_reports_each_where_it_is_as_always(tmp_path, spy):
    path = tmp_path / "obs.yaml"
    text = scale_spec(250).replace("http: true", "http: maybe", 2).replace("team: payments", "team: 7", 1)
    path.write_text(text)
    loader.read_ahead(path)
    with pytest.raises(SpecError) as ahead:
        loader.parse_text(text, str(path))
    assert len(spy) == 1 and spy[0] not in ("none", None)
    with pytest.raises(SpecError) as here:
        loader.parse_text(text, str(path))
    assert spy[1] == "none" and str(ahead.value) == str(here.value)
    assert len(here.value.problems) == 3 and all(p.line for p in here.value.problems)
    no_child_left()


@two_cores
def test_a_spec_changed_after_the_read_ahead_began_is_read_anew(big, spy):
    loader.read_ahead(big)
    big.write_text(scale_spec(260))
    text = loader.read_file(big)
    assert loader.read_yaml(text, str(big)).data["services"][-1] == loader.read_yaml(text, "x").data["services"][-1]
    assert spy == ["none", "none"]   # the other text's child was ended, not taken
    no_child_left()


def test_a_small_spec_a_pipe_or_a_missing_file_is_not_read_ahead(tmp_path, spy, monkeypatch):
    small = tmp_path / "small.yaml"
    small.write_text((REPO / "obs.yaml").read_text())
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    opened: list[Path] = []
    real = loader.read_file
    monkeypatch.setattr(loader, "read_file", lambda path: opened.append(path) or ("" if path == fifo else real(path)))
    for path in (small, fifo, tmp_path / "missing.yaml"):
        loader.read_ahead(path)
        assert loader._ahead is None
    assert fifo not in opened   # read here, a pipe would be read empty by the real read (and opening it waits)
    assert small in opened


@two_cores
def test_generate_writes_the_same_tree_with_and_without_the_read_ahead(big, tmp_path, spy, monkeypatch):
    generate(big, tmp_path / "ahead", check=False)
    assert len(spy) == 1 and spy[0] not in ("none", None)
    monkeypatch.setattr(loader, "MIN_AHEAD_BYTES", 1 << 30)
    generate(big, tmp_path / "here", check=False)
    assert spy[1] == "none"
    assert tree(tmp_path / "ahead") == tree(tmp_path / "here")
    no_child_left()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
