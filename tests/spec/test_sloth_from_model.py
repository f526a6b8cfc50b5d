"""bench/generate_vs_sloth.py --spec: any obs spec's SLOs in Sloth's format, as the real Sloth takes them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from obs.model.kinds import SliKind
from obs.project import load_model
from obs.stack.build import ensure
from tests.support.paths import FIXTURES, REPO

SPEC = FIXTURES / "slo" / "obs.yaml"   # every SLI kind, group_by, a disabled page tier, custom tiers


@pytest.fixture
def written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from generate_vs_sloth import sloth_from_model
    return tmp_path / "sloth", sloth_from_model(load_model(SPEC), tmp_path / "sloth")


def _docs(folder: Path) -> dict[str, dict]:
    return {p.stem: YAML(typ="safe", pure=True).load(p.read_text()) for p in sorted(folder.glob("*.yml"))}


def test_each_slo_of_the_spec_is_written_with_its_objective_its_sli_kind_and_its_severities(written) -> None:
    folder, count = written
    model = load_model(SPEC)
    docs = _docs(folder)
    assert count == sum(len(s.slos) for s in model.services) == 5
    for service in model.services:
        slos = {d["name"]: d for d in docs[service.name]["slos"]}
        assert docs[service.name]["service"] == service.name and list(slos) == [o.name for o in service.slos]
        for slo in service.slos:
            doc = slos[slo.name]
            assert str(doc["objective"]) == str(slo.objective)
            assert list(doc["sli"]) == ["raw" if slo.sli.kind == SliKind.RAW else "events"]
            queries = "".join(doc["sli"][k][q] for k in doc["sli"] for q in doc["sli"][k])
            assert "{{.window}}" in queries and "{{window}}" not in queries
            severities = {str(t.severity) for t in slo.tiers}
            for severity in ("page", "ticket"):
                alert = doc["alerting"][f"{severity}_alert"]
                assert alert == ({"labels": {"severity": severity}} if severity in severities else {"disable": True})
    # The fixture's `search/results` has its page tier turned off; its latency SLI reads the threshold bucket.
    assert _docs(folder)["search"]["slos"][0]["alerting"]["page_alert"] == {"disable": True}
    latency = next(d for d in docs["checkout"]["slos"] if d["name"] == "latency-1s")["sli"]["events"]
    assert "histogram_fraction(0, 1" in latency["error_query"] and 'le=~"1|1\\\\.0"' in latency["error_query"]


@pytest.mark.stack
def test_the_real_sloth_generates_rules_for_every_slo_written(written, tmp_path: Path) -> None:
    folder, count = written
    sloth = ensure(["sloth"], progress=lambda _: None)["sloth"]
    out = tmp_path / "rules"
    out.mkdir()
    done = subprocess.run([str(sloth), "generate", "--no-log", "-i", str(folder), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    rules = {p.stem: YAML(typ="safe", pure=True).load(p.read_text()) for p in out.glob("*.yml")}
    # Sloth writes one group of SLI recording rules per SLO, named after its service and it.
    groups = [g["name"] for doc in rules.values() for g in doc["groups"] if "-sli-recordings-" in g["name"]]
    assert len(groups) == count and "sloth-slo-sli-recordings-checkout-latency-1s" in groups


def test_the_benchmark_refuses_the_generated_specs_options_with_a_spec_of_ones_own() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "generate_vs_sloth.py"), "--spec", str(SPEC),
                           "--shuffled"], capture_output=True, text=True)
    assert done.returncode == 2 and "--spec times the spec as written" in done.stderr


@pytest.mark.parametrize(("spec", "said"), [
    ("services: []\n", "{spec}:3:1: services: must not be empty"),
    ("services:\n  - {name: web, http: true}\n", "{spec}: no service has an SLO, so Sloth has nothing to generate"),
], ids=["a spec obs refuses, as obs validate does", "a spec without SLOs"])
def test_the_benchmark_says_what_is_wrong_with_the_spec_before_building_sloth(tmp_path: Path, spec: str,
                                                                             said: str) -> None:
    path = tmp_path / "obs.yaml"
    path.write_text("version: obs/v1\nproject: x\n" + spec)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "generate_vs_sloth.py"), "--spec", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and said.format(spec=path) in done.stderr
    assert "Traceback" not in done.stderr and "already built" not in done.stderr and "building" not in done.stderr
