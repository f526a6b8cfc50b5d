"""The generated promtool suites, run by the real promtool: they pass on the real rules and fail on broken ones."""
from __future__ import annotations

from pathlib import Path

import pytest

from obs.generate import rule_tests
from obs.generate.common import Inputs
from obs.generate.slo import rules as slo_rules
from obs.model import conventions as c
from obs.project import load_model
from obs.stack.promtool import run_promtool, write
from tests.support.paths import FIXTURES, REPO

SPECS = {"repo": REPO / "obs.yaml", "fixture": FIXTURES / "slo" / "obs.yaml"}

SMALL = """\
version: obs/v1
project: small
services:
  - name: web
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli: {availability: {}}
  - name: api
    http: true
    histogram: classic
    slos:
      - name: latency
        objective: 99
        sli: {latency: {threshold: 1s}}
  - name: edge
    http: true
    slos:
      - name: latency
        objective: 99
        sli: {latency: {threshold: 300ms}}
"""


def slo_files(spec: Path) -> dict[str, str]:
    model = load_model(spec)
    return {**slo_rules.generate(model, Inputs()), **rule_tests.generate(model, Inputs())}


def test_every_slo_suite_states_each_proof_the_issue_asks_for():
    model = load_model(SPECS["repo"])
    suites = rule_tests.generate(model, Inputs())
    for slo in model.slos:
        text = suites[c.rule_test_file(slo.service)]
        prefix = f"{slo.service} {slo.name}: "
        for proof in ("every recorded window equals the exact error ratio", "a full outage", "within the workbook detection time", "resolves within the short window",
                      "just under budget", "zero traffic raises no alert and records no NaN",
                      "a slow burn", "tickets but never pages", "a trickle below min_events"):
            assert any(line.startswith(f'- name: "{prefix}') and proof in line for line in text.splitlines()), \
                f"{slo.service}/{slo.name} has no '{proof}' test"


def test_a_suite_too_hard_to_synthesise_says_why_in_its_header():
    suite = rule_tests.generate(load_model(SPECS["fixture"]), Inputs())[c.rule_test_file("search")]
    header = [line for line in suite.splitlines() if line.startswith("#")]
    assert any("combined: REDUCED to the no-data proof" in line and "shard_errors_total" in line for line in header)


def test_a_group_by_label_named_like_a_parameter_is_still_matched(tmp_path):
    # The healthy group's check selects the group by its label, whatever the label is called.
    spec = tmp_path / "obs.yaml"
    spec.write_text(SMALL.replace("        objective: 99.9\n", "        objective: 99.9\n        group_by: [firing]\n", 1))
    suite = rule_tests.generate(load_model(spec), Inputs())[c.rule_test_file("web")]
    assert f'ALERTS{{alertname="{c.SLO_BURN_ALERT}",service="web",slo="availability",firing="obs-healthy"}}' in suite


@pytest.mark.stack   # the real promtool; no stack is started
@pytest.mark.parametrize("which", SPECS)
def test_promtool_checks_the_rules_and_passes_every_generated_suite(which, promtool, tmp_path):
    files = slo_files(SPECS[which])
    write(tmp_path, files)
    results = run_promtool(tmp_path, list(files), promtool)
    assert {r.file for r in results} == set(files)
    failed = [f"{r.kind} {r.file}:\n{r.output}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)


# Each mutation breaks one property; the suite must catch it in the scenario that proves that property.
MUTATIONS = [
    ("a page threshold ten times too high", "web", "> 0.0144\n", "> 0.144\n", "a full outage pages"),
    ("a ticket threshold ten times too low", "web", "> 0.001\n", "> 0.0001\n", "just under budget"),
    ("a ratio without its zero-traffic guard", "web", " > 0)", ")", "zero traffic"),
    ("no minimum-traffic guard", "web", " >= 5", " >= 0", "a trickle below min_events"),
    ("a window tiled from the wrong pieces", "web", "offset 25m", "offset 55m", "equals the exact error ratio"),
    ("a window averaged as a mean of ratios", "web",
     'obs:slo_errors:rate1h{service="web",slo="availability"}\n      / (obs:slo_events:rate1h{service="web",'
     'slo="availability"} > 0)',
     '(obs:slo_error_ratio:rate30m{service="web",slo="availability"}\n      + obs:slo_error_ratio:rate30m'
     '{service="web",slo="availability"} offset 30m) / 2', "equals the exact error ratio"),
    ("a latency bucket matcher that also counts +Inf", "api", 'le=~"1|1\\\\.0"', 'le=~".+"', "api latency"),
    ("a latency matcher that misses Prometheus 3's le=\"1.0\"", "api", 'le=~"1|1\\\\.0"', 'le="1"', "api latency"),
    ("a classic latency SLI that counts instances lacking the threshold bucket as slow", "api",
     " and ignoring(le) rate(", " or ignoring(le) rate(", "an instance whose histogram lacks the threshold bucket"),
    ("a native latency SLI read at the wrong threshold", "edge", "histogram_fraction(0, 0.3,",
     "histogram_fraction(0, 0.6,", "edge latency"),
    ("a native latency SLI whose 0/0 fraction is not dropped", "edge", "[5m]))) >= 0\n", "[5m])))\n", "records no NaN"),
]


@pytest.mark.stack   # the real promtool; no stack is started
@pytest.mark.parametrize("what, service, before, after, caught_by", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_broken_rule_makes_the_generated_suite_fail(what, service, before, after, caught_by, promtool, tmp_path):
    spec = tmp_path / "obs.yaml"
    spec.write_text(SMALL)
    files = slo_files(spec)
    rules = c.rules_file(service)
    assert before in files[rules], f"the rules no longer contain {before!r}"
    files[rules] = files[rules].replace(before, after)
    suite = c.rule_test_file(service)
    write(tmp_path, {rules: files[rules], suite: files[suite]})
    [result] = [r for r in run_promtool(tmp_path, [rules, suite], promtool) if r.kind == "test"]
    assert not result.ok
    assert "FAILED" in result.output and caught_by in result.output


@pytest.mark.stack   # the real promtool; no stack is started
def test_the_unbroken_small_spec_passes(promtool, tmp_path):
    spec = tmp_path / "obs.yaml"
    spec.write_text(SMALL)
    files = slo_files(spec)
    write(tmp_path, files)
    assert all(r.ok for r in run_promtool(tmp_path, list(files), promtool))
