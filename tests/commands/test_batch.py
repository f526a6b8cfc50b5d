"""obs.batch: cycle collection is held off for a bounded batch of work and restored after it."""
from __future__ import annotations

import gc

import pytest

import obs.generate
from obs.batch import batch
from obs.commands import generate
from tests.support.paths import REPO


@pytest.fixture
def collecting():
    """Collection on for the test, and as it was after it, whatever the test did: a session left without collection
    keeps every cycle, open connections among them, and the live stacks' checks after it time out."""
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_no_cycle_collection_inside_a_batch_and_collection_again_after(collecting):
    with batch():
        assert not gc.isenabled()
        with batch():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner batch turned collection back on inside the outer one"
    assert gc.isenabled()


def test_a_batch_that_fails_still_turns_collection_back_on(collecting):
    with pytest.raises(RuntimeError), batch():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_batch_leaves_collection_off_where_it_was_off(collecting):
    gc.disable()
    with batch():
        pass
    assert not gc.isenabled()


def test_generate_runs_as_one_batch_and_leaves_collection_on(collecting, tmp_path, monkeypatch):
    seen = []
    real = obs.generate.render

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(obs.generate, "render", spy)
    generate.generate(REPO / "obs.yaml", tmp_path / "out", check=False)
    assert seen == [False]
    assert gc.isenabled()
