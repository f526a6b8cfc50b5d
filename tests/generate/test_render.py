"""obs.generate.render: the generators it runs, and a render split over two processes is the render in one."""
from __future__ import annotations

import os
from importlib import import_module

import pytest

import obs.generate as generate
from obs.emit import halves
from obs.project import load_model, load_text
from tests.generate.test_stamp import service, spec
from tests.support.paths import REPO


def test_the_stamped_generators_are_exactly_those_with_a_file_per_service():
    own = {name for name in generate.MODULES if hasattr(import_module(f"obs.generate.{name}"), "files")}
    assert own == set(generate.STAMPED)
    assert set(generate.STAMPED) <= set(generate.MODULES)
    # and each gives a service's files as its frame and a unit per SLO too (obs.generate.units)
    assert all(callable(getattr(import_module(f"obs.generate.{name}"), kind, None))
               for name in (*generate.STAMPED, "kubernetes") for kind in ("frame", "unit"))


SPECS = {
    "the repository's spec": lambda: load_model(REPO / "obs.yaml"),
    "services of one template, of names of every length, and one of its own": lambda: load_text(spec(
        *(service(f"{'x' * n}-svc", f"team-{n % 3}") for n in range(3, 60)),
        service("billing", "money", query_metric="invoices_total")), "obs.yaml"),
}


@pytest.mark.skipif(not halves.can_split(halves.MIN_ITEMS), reason="needs fork and two cores")
@pytest.mark.parametrize("units_from", [0, 10**9], ids=["frames and units", "whole services"])
@pytest.mark.parametrize("make", SPECS.values(), ids=list(SPECS))
def test_a_render_split_over_two_processes_is_the_render_in_one(make, units_from, monkeypatch):
    monkeypatch.setattr(generate, "UNITS_FROM", units_from)
    model = make()
    whole = dict(generate.render(model))
    forks: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(generate, "SPLIT_FROM", 1)
    monkeypatch.setattr(os, "fork", counted)
    split = dict(generate.render(model))
    assert len(forks) == 2, "the dashboards and half of the other jobs were not made in processes of their own"
    assert sorted(split) == sorted(whole)
    assert [p for p in whole if split[p] != whole[p]] == []


@pytest.mark.skipif(not halves.can_split(halves.MIN_ITEMS), reason="needs fork and two cores")
def test_where_the_dashboards_process_fails_they_are_made_here_alike(monkeypatch):
    model = load_model(REPO / "obs.yaml")
    whole = dict(generate.render(model))
    monkeypatch.setattr(generate, "SPLIT_FROM", 1)
    monkeypatch.setattr(generate, "_shared", failing_in_a_child(generate._shared, generate.AHEAD))
    split = dict(generate.render(model))
    assert [p for p in whole if split.get(p) != whole[p]] == [] and sorted(split) == sorted(whole)


def failing_in_a_child(shared, name):
    """_shared, but the job `name` dies in any process but this one (as a process killed by the system would)."""
    here = os.getpid()

    def job(which, *args):
        if which == name and os.getpid() != here:
            os._exit(3)
        return shared(which, *args)
    return job
