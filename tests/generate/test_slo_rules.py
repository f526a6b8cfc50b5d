"""The SLO rules' structure, read back from the generated YAML: names, labels, exact thresholds, cost."""
from __future__ import annotations

import re
from functools import cache

import promql_parser
import pytest
from ruamel.yaml import YAML

from obs.generate import rule_tests
from obs.generate.common import Inputs
from obs.generate.slo import rules as slo_rules
from obs.generate.slo.windows import MAX_PIECES, tile
from obs.model import conventions as c
from obs.model.durations import Duration
from obs.project import load_model
from tests.support.paths import FIXTURES, REPO

SPECS = {"repo": REPO / "obs.yaml", "fixture": FIXTURES / "slo" / "obs.yaml"}
D = Duration.parse


@cache
def model(which: str):
    return load_model(SPECS[which])


@cache
def groups(which: str) -> dict[str, list[dict]]:
    files = slo_rules.generate(model(which), Inputs())
    return {path: YAML(typ="safe").load(text)["groups"] for path, text in files.items()}


def all_rules(which: str) -> list[dict]:
    return [r for gs in groups(which).values() for g in gs for r in g["rules"]]


def slo_rules_of(which: str, service: str, slo: str) -> dict[str, list[dict]]:
    """kind -> rules of one SLO."""
    found = {}
    for g in groups(which)[c.rules_file(service)]:
        for kind in slo_rules.KINDS:
            if g["name"] == c.rule_group(service, slo, kind):
                found[kind] = g["rules"]
    return found


def alerts_of(which: str, service: str, slo: str) -> list[dict]:
    return [r for r in slo_rules_of(which, service, slo)["short"] if "alert" in r]


def records_of(which: str, service: str, slo: str, kind: str) -> list[dict]:
    return [r for r in slo_rules_of(which, service, slo)[kind] if "record" in r]


def burn_alerts(which: str, service: str, slo: str) -> list[dict]:
    return [r for r in alerts_of(which, service, slo) if r["alert"] == c.SLO_BURN_ALERT]


def test_each_service_with_slos_gets_one_rules_file_with_two_groups_per_slo_on_the_profile_intervals():
    m = model("repo")
    found = groups("repo")
    assert set(found) == {c.rules_file(s.name) for s in m.services if s.slos}
    t = m.stack.timing
    for slo in m.slos:
        by_name = {g["name"]: g for g in found[c.rules_file(slo.service)]}
        assert len(by_name) == 2 * len(m.service(slo.service).slos)
        intervals = [by_name[c.rule_group(slo.service, slo.name, k)]["interval"] for k in ("short", "long")]
        assert intervals == [str(t.evaluation_interval), str(t.slo_long_interval)]


@pytest.mark.parametrize("which", SPECS)
def test_every_recording_rule_carries_the_service_and_slo_labels(which):
    for gs in groups(which).values():
        for g in gs:
            service, name = next((s.service, s.name) for s in model(which).slos
                                 if g["name"].startswith(f"obs-slo-{s.service}-{s.name}-"))
            for r in g["rules"]:
                assert r["labels"][c.LABEL_SERVICE] == service and r["labels"][c.LABEL_SLO] == name


@pytest.mark.parametrize("which", SPECS)
def test_every_alert_carries_service_slo_severity_and_each_burn_alert_its_tier(which):
    for slo in model(which).slos:
        alerts = alerts_of(which, slo.service, slo.name)
        for a in alerts:
            assert a["labels"][c.LABEL_SERVICE] == slo.service and a["labels"][c.LABEL_SLO] == slo.name
            assert a["labels"][c.LABEL_SEVERITY] in ("page", "ticket")
        tiers = [(a["labels"][c.LABEL_SEVERITY], a["labels"][c.LABEL_TIER]) for a in alerts
                 if a["alert"] == c.SLO_BURN_ALERT]
        assert tiers == [(t.severity, str(t.long)) for t in slo.tiers]


THRESHOLDS = [
    ("api-gateway", "availability", ["0.0144", "0.006", "0.003", "0.001"]),
    # 95% and 99%: the workbook's 1h tier pages a full outage after 43 and 8.6 minutes, so a single-window
    # 5m tier at a 40% error ratio is added first (obs/model/windows.py, FAST_PAGE_CAP); 99.9% needs none.
    ("api-gateway", "latency", ["0.4", "0.72", "0.3", "0.15", "0.05"]),
    ("agent-runner", "execution-success", ["0.4", "0.144", "0.06", "0.03", "0.01"]),
    ("redis-cache", "hit-rate", ["0.6", "0.2"]),
]


@pytest.mark.parametrize("service, slo, expected", THRESHOLDS)
def test_thresholds_are_burn_rate_times_budget_printed_exactly(service, slo, expected):
    limits = [re.search(r"> (\S+)\n", a["expr"]).group(1) for a in burn_alerts("repo", service, slo)]
    assert limits == expected


@pytest.mark.parametrize("which", SPECS)
def test_no_expression_carries_float_noise(which):
    rules = all_rules(which)
    assert rules, "no rules generated: nothing would be checked"
    for r in rules:
        assert not re.search(r"\d\.\d*(0{6,}|9{6,})\d", r["expr"]), r["expr"]


@pytest.mark.parametrize("which", SPECS)
def test_every_expression_parses_as_promql(which):
    rules = all_rules(which)
    assert rules, "no rules generated: nothing would be parsed"
    for r in rules:
        promql_parser.parse(r["expr"])


def _selectors(expr: str):
    nodes: list = []
    promql_parser.walk(promql_parser.parse(expr), pre_visit=nodes.append)
    return nodes


@pytest.mark.parametrize("which", SPECS)
def test_only_the_5m_rules_read_raw_data_and_every_range_is_5m(which):
    base = {c.slo_events("5m"), c.slo_errors("5m")}
    for r in all_rules(which):
        nodes = _selectors(r["expr"])
        raw = [n for n in nodes if type(n).__name__ == "VectorSelector" and n.name and not n.name.startswith("obs:")]
        if r.get("record") not in base:
            assert not raw, f"{r.get('record') or r.get('alert')} reads raw data"
        ranges = {n.range.total_seconds() for n in nodes if type(n).__name__ == "MatrixSelector"}
        assert ranges <= {300.0}


@pytest.mark.parametrize("which", SPECS)
def test_every_error_ratio_divides_only_by_positive_traffic(which):
    ratios = [r for r in all_rules(which) if r.get("record", "").startswith("obs:slo_error_ratio:")]
    assert ratios
    for r in ratios:
        assert re.fullmatch(r"(obs:slo_errors:rate\w+)(\{[^}]*\})\n/ \(obs:slo_events:rate\w+\2 > 0\)", r["expr"])


def test_a_slo_with_paging_disabled_has_only_ticket_alerts():
    alerts = burn_alerts("repo", "redis-cache", "hit-rate")
    assert [(a["labels"][c.LABEL_SEVERITY], a["labels"][c.LABEL_TIER]) for a in alerts] == [
        ("ticket", "1d"), ("ticket", "3d")]


@pytest.mark.parametrize("which, service, slo, matcher", [
    ("fixture", "checkout", "latency-1s", 'le=~"1|1\\\\.0"'),
    ("repo", "api-gateway", "latency", 'le="0.5"'),
    ("repo", "memory-search", "search-latency", 'le="0.2"'),
])
def test_the_latency_bucket_matcher_accepts_both_forms_prometheus_may_store(which, service, slo, matcher):
    errors = next(r for r in records_of(which, service, slo, "short") if r["record"] == c.slo_errors("5m"))
    assert matcher in errors["expr"]


def test_group_by_labels_are_kept_in_every_aggregation_and_match():
    short = records_of("fixture", "checkout", "availability-28d", "short")
    base = [r["expr"] for r in short if r["record"] in (c.slo_events("5m"), c.slo_errors("5m"))]
    assert all("sum by (http_route)" in e for e in base)
    assert "or on(http_route) 0 *" in base[1]


def test_a_grouped_slos_groups_limit_each_rule_to_its_max_groups_and_no_other_group_is_limited():
    for which in SPECS:
        for gs in groups(which).values():
            for g in gs:
                grouped = g["name"].startswith(c.rule_group("checkout", "availability-28d", "")) and which == "fixture"
                assert g.get("limit") == (100 if grouped else None), (which, g["name"])


GROUPING = """
version: obs/v1
project: p
services:
  - name: a
    http: true
    slos:
      - name: s
        objective: 99
        {extra}
        sli: {{availability: {{}}}}
"""


@pytest.mark.parametrize("extra, where, problem", [
    ("max_groups: 5", "obs.yaml:10:9: services[0].slos[0].max_groups",
     "limits the groups of a grouped SLO, and this SLO has no group_by"),
    ("group_by: [http_route]\n        max_groups: 0", "obs.yaml:11:9: services[0].slos[0].max_groups",
     "must be greater than 0"),
])
def test_max_groups_without_group_by_or_below_one_is_refused_where_it_is_written(extra, where, problem):
    from obs.errors import SpecError
    from obs.project import load_text
    with pytest.raises(SpecError) as info:
        load_text(GROUPING.format(extra=extra), "obs.yaml")
    assert f"{where}: {problem}" in str(info.value)


def test_a_spec_max_groups_is_the_limit_written():
    from obs.project import load_text
    model = load_text(GROUPING.format(extra="group_by: [http_route]\n        max_groups: 7"), "obs.yaml")
    files = slo_rules.generate(model, Inputs())
    assert {g["limit"] for g in YAML(typ="safe").load(files[c.rules_file("a")])["groups"]} == {7}


def test_annotations_give_the_budget_consumed_the_runbook_and_the_dashboard():
    alerts = burn_alerts("repo", "api-gateway", "availability")
    shares = [re.search(r"(\d+(\.\d+)?)% of the 30d error budget", a["annotations"]["description"]).group(1)
              for a in alerts]
    assert shares == ["2", "5", "10", "10"]
    for a in alerts:
        assert a["annotations"][c.ANNOTATION_RUNBOOK] == "https://runbooks.example.com/api-gateway/availability"
        # The one SLO dashboard, with the variables set to this SLO (the templated layout is the default).
        assert a["annotations"][c.ANNOTATION_DASHBOARD] == "/d/ai-tools-slo?var-service=api-gateway&var-slo=availability"
        assert a["labels"][c.LABEL_TEAM] == "platform"


def test_the_spec_alerting_labels_and_annotations_reach_every_alert():
    for a in alerts_of("fixture", "checkout", "availability-28d"):
        assert a["labels"]["tier"] == "gold" and a["annotations"]["owner"] == "payments-oncall"


def test_a_tier_with_for_keeps_it():
    fors = [a.get("for") for a in burn_alerts("fixture", "checkout", "latency-1s")]
    assert fors == [None, "5m"]


def test_every_slo_has_a_no_data_alert_that_waits_before_firing():
    for slo in model("repo").slos:
        absent = [a for a in alerts_of("repo", slo.service, slo.name) if a["alert"] == c.SLO_NO_DATA_ALERT]
        assert len(absent) == 1 and absent[0]["expr"].startswith("absent(") and absent[0]["for"] == "10m"


def test_metadata_rules_give_objective_budget_period_remaining_and_burn_rate():
    meta = {r["record"]: r["expr"] for r in records_of("repo", "api-gateway", "availability", "long")}
    assert meta[c.SLO_OBJECTIVE] == "vector(0.999)"
    assert meta[c.SLO_ERROR_BUDGET] == "vector(0.001)"
    assert meta[c.SLO_PERIOD_SECONDS] == "vector(2592000)"
    assert meta[c.SLO_BUDGET_REMAINING].startswith("1 - obs:slo_error_ratio:rate30d{")
    assert meta[c.SLO_BURN_RATE_CURRENT].startswith("obs:slo_error_ratio:rate5m{")


def test_a_workbook_slo_costs_34_rules_in_two_groups():
    """8 windows (5m 30m 1h 2h 6h 1d 3d 30d) x errors/events/ratio, 5 metadata rules, 4 tiers + no data;
    only 2 of them read raw data (test_only_the_5m_rules_read_raw_data_and_every_range_is_5m)."""
    rules = slo_rules_of("repo", "api-gateway", "availability")
    assert {k: len(v) for k, v in rules.items()} == {"short": 9 + 5, "long": 15 + 5}


def test_windows_longer_than_an_hour_are_evaluated_on_the_long_interval():
    windowed = re.compile(r"^obs:slo_\w+:rate(\w+)$")
    windows = {kind: {m.group(1) for r in records_of("repo", "api-gateway", "availability", kind)
                      if (m := windowed.search(r["record"]))} for kind in ("short", "long")}
    assert windows == {"short": {"5m", "30m", "1h"}, "long": {"2h", "6h", "1d", "3d", "30d"}}


@pytest.mark.parametrize("window, recorded", [
    ("1h", ["5m", "30m"]), ("30d", ["5m", "1h", "1d", "3d"]), ("28d", ["5m", "1d", "3d"]),
    ("45m", ["5m", "30m"]), ("23h55m", ["5m", "1h", "6h"]),
])
def test_a_window_is_tiled_by_contiguous_recorded_pieces_that_cover_it_exactly(window, recorded):
    pieces = tile(D(window), [D(w) for w in recorded])
    assert len(pieces) <= MAX_PIECES or window == "23h55m"
    position = Duration(0)
    for p in pieces:
        assert p.offset == position and str(p.window) in recorded
        position = position + p.window
    assert position == D(window)


@pytest.mark.parametrize("which", SPECS)
def test_generation_is_deterministic(which):
    assert slo_rules.generate(model(which), Inputs()) == slo_rules.generate(model(which), Inputs())
    assert rule_tests.generate(model(which), Inputs()) == rule_tests.generate(model(which), Inputs())


@pytest.mark.parametrize("path", ["obs.yaml", "tests/fixtures/kubernetes/obs.yaml", "tests/fixtures/slo/obs.yaml"])
def test_the_group_names_a_test_file_orders_are_those_of_the_groups_built(path):
    # The promtool suite names its groups' evaluation order without building them (a file made alone when read).
    model = load_model(REPO / path)
    for s in model.services:
        assert slo_rules.group_names(s) == [g["name"] for g in slo_rules.service_groups(model, s.name)]
