"""obs's own Go programs as build targets, and the licence guard on every build: nothing here builds."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from obs.errors import StackError
from obs.stack import build
from obs.stack.own import Generated, OwnTarget

KUBECHECK = build.TARGETS["kubecheck"]
assert isinstance(KUBECHECK, OwnTarget)


def test_kubecheck_source_ships_inside_the_obs_package():
    sources = KUBECHECK.sources()
    assert "main.go" in sources and all(name.endswith(".go") for name in sources)
    assert b"package main" in sources["main.go"]


def test_an_own_programs_cache_entry_changes_with_its_source(monkeypatch):
    before = KUBECHECK.entry
    edited = {**KUBECHECK.sources(), "main.go": KUBECHECK.sources()["main.go"] + b"\n// edited\n"}
    monkeypatch.setattr(OwnTarget, "sources", lambda self: edited)
    assert KUBECHECK.entry != before
    assert KUBECHECK.entry.name.startswith("kubecheck-")


@pytest.mark.parametrize("change", [
    {"requires": {**KUBECHECK.requires, "k8s.io/api": "v0.37.1"}},
    {"ldflags": ["-X main.edited=1"]},
    {"assets": KUBECHECK.assets[:1]},
], ids=["a pin", "the link flags", "the assets"])
def test_an_own_programs_cache_entry_changes_with_what_it_is_built_from(change):
    assert dataclasses.replace(KUBECHECK, **change).entry != KUBECHECK.entry


def test_an_own_programs_cache_entry_is_stable():
    assert dataclasses.replace(KUBECHECK).entry == KUBECHECK.entry


def test_every_generator_an_asset_names_is_a_target_at_the_version_the_recipe_records():
    generated = [a for t in build.TARGETS.values() if isinstance(t, OwnTarget) for a in t.assets
                 if isinstance(a, Generated)]
    assert generated
    for asset in generated:
        target = build.TARGETS[build._OWNER[asset.tool]]
        assert target.version == asset.tool_version, asset


def test_kubecheck_pins_every_kubernetes_module_at_one_release():
    k8s = {m: v for m, v in KUBECHECK.requires.items() if m.startswith("k8s.io/")}
    assert len(set(k8s.values())) == 1 and "k8s.io/apiextensions-apiserver" in k8s


class FakeGo:
    def __init__(self, linked: list[str]):
        self.linked = linked

    def linked_modules(self, binary: Path) -> list[str]:
        return self.linked


@pytest.mark.parametrize("module", ["github.com/grafana/loki", "github.com/grafana/loki/pkg/push",
                                    "github.com/grafana/mimir", "github.com/grafana/tempo",
                                    "github.com/grafana/grafana"])
def test_a_binary_linking_an_agpl_module_fails_its_build(module):
    with pytest.raises(StackError, match=f"links AGPL modules obs must not compile: {module}"):
        build._check_licences(FakeGo(["github.com/grafana/dskit", module]), Path("cortextool"))  # type: ignore[arg-type]


def test_a_binary_linking_only_other_grafana_modules_passes():
    # dskit and regexp are Apache-2.0 and BSD; a name that merely starts like a forbidden one is another module.
    build._check_licences(FakeGo(["github.com/grafana/dskit", "github.com/grafana/regexp",  # type: ignore[arg-type]
                                  "github.com/grafana/lokiexporter"]), Path("cortextool"))
