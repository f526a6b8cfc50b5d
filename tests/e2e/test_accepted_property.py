"""Property: whatever spec is drawn, obs either rejects it with every problem located, or generates a
tree that promtool (check rules, check config, test rules on every suite), amtool and otelcol accept,
in which no two SLOs or services share a file or a rule group.

Specs are drawn across the schema's whole space: names (short, 63 characters, near collisions),
label sets (valid, reserved, templated values), annotation templates (supported and not), durations,
objectives (50 to 99.999 and out of range), every SLI kind with queries that carry comments, scalars
or ranges, custom tiers, every receiver kind with secret references (env, odd paths), routes,
versions. Most draws are sound, so the generation branch is the one exercised most.

Real tools run per example, so the count is modest: OBS_PROPERTY_EXAMPLES (default 30). Draws are
derandomized and there is no example database, so CI sees the same specs every run. The collector
build is keyed by its component set, which only `stack.metrics`, the persistent queue and the
receivers' bearer token decide: the stack is drawn from the three combinations that
tests/generate/test_offline_validation.py already builds collectors for, so this test builds none of its own.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from obs.errors import SpecError
from obs.generate import render
from obs.model import conventions as c
from obs.project import load_text
from tests.support import real_tools as tools

EXAMPLES = int(os.environ.get("OBS_PROPERTY_EXAMPLES", "30"))

def mostly(sound, unsound):
    """Fifteen draws in sixteen sound: a spec holds a dozen such choices, and most specs must be generated.
    (The unsound value sits mid-range: Hypothesis draws the bounds of a range most often.)"""
    return st.integers(0, 15).flatmap(lambda i: unsound if i == 7 else sound)


name_part = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
names = mostly(st.one_of(name_part, st.builds("-".join, st.lists(name_part, min_size=2, max_size=3)),
                         st.sampled_from(["a" * 63, "b" * 62 + "1", "a-b", "b-c", "a", "c"])),
               st.sampled_from(["obs-pipeline", "Bad", "x_y", "-a", "a" * 64]))
label_names = mostly(st.sampled_from(["region", "tenant", "tier_1", "http_route", "team", "owner"]),
                     st.sampled_from(["slo", "alertname", "le", "severity", "runbook-link", "__tenant", "9x"]))
texts = st.one_of(st.sampled_from(["", "platform", "on call", "{{ x }}", "a }} b", "{{", 'quote " \\ back',
                                   "ünïcode ✓", "x" * 120]), st.text(max_size=12))
templates = mostly(st.sampled_from(["{{ $value }}", "{{ $value | humanizePercentage }}", "{{ $labels.service }}",
                                    '{{ printf "%.3f" $value }}', '{{ "{{" }}', "{{ $labels.slo | toUpper }}",
                                    "{{- $value -}}"]),
                   st.sampled_from(["{{ .Foo }}", "{{ range . }}", "{{ oops }}"]))
plain = st.sampled_from(["", "platform", "on call", "a }} b", 'quote " \\ back', "ünïcode ✓", "x" * 120])
annotation_values = mostly(st.one_of(plain, st.builds(lambda a, t, b: a + t + b, plain, templates, plain)), texts)
windows = mostly(st.sampled_from(["7d", "28d", "30d", "4w"]), st.sampled_from(["1d", "0s", "1h", "90s"]))
group_waits = st.sampled_from(["0s", "1s", "30s", "5m", "1h30m"])
repeat_intervals = mostly(st.sampled_from(["1s", "30s", "5m", "4h"]), st.just("0s"))
objectives = mostly(st.one_of(st.sampled_from([95, 99, 99.5, 99.9, 99.95, 99.99, 99.999]),
                              st.floats(min_value=97, max_value=99.999).map(lambda x: round(x, 3))),
                    st.sampled_from([50, 80, 90, 0, 100, 101]))
matchers = st.sampled_from(['{e="1"}', '{code=~"5.."}', '{path="/a#b"}', "", '{job="x",e!="ok"}'])
metric = st.sampled_from(["requests_total", "jobs_total", "cache_requests_total"])
comment = st.sampled_from(["", " # a comment", "\n# a whole-line comment\n"])
W = "{{window}}"
# Grouped SLOs need queries that keep the group labels; a bare sum() drops them (and is rejected).
sums = mostly(st.just("sum by (region, tenant, tier_1, http_route, team, owner)"), st.just("sum"))


@st.composite
def events(draw) -> dict:
    m, sel, note, agg = draw(metric), draw(matchers), draw(comment), draw(sums)
    total = draw(mostly(st.just(f"{agg}(rate({m}[{W}]))"),
                        st.sampled_from([f"{m}[{W}]", f"scalar(sum(rate({m}[{W}])))"])))
    return {"events": {"error_query": f"{agg}(rate({m}{sel}[{W}])){note}", "total_query": total}}


@st.composite
def raw(draw) -> dict:
    m, sel, agg = draw(metric), draw(matchers), draw(sums)
    return {"raw": {"error_ratio_query": draw(mostly(st.sampled_from([
        f"{agg}(rate({m}{sel}[{W}])) / {agg}(rate({m}[{W}]))", f"1 - avg_over_time(up{sel}[{W}])"]),
        st.just(f"scalar(vector(0)) # {W}")))}}


slis = st.one_of(st.just({"availability": {}}), st.builds(lambda t: {"latency": {"threshold": t}},
                                                          st.sampled_from(["500ms", "100ms", "1s", "200ms"])),
                 events(), raw())
tiers = st.lists(st.fixed_dictionaries({
    "severity": st.sampled_from(["page", "ticket"]), "long": st.sampled_from(["1h", "6h", "1d", "3d"]),
    "short": st.sampled_from(["5m", "30m"]), "burn_rate": st.sampled_from([1, 1.5, 2, 6, 14.4])}),
    min_size=1, max_size=3)
alerting = st.fixed_dictionaries({}, optional={
    "page": st.booleans(), "ticket": st.booleans(), "min_events": st.sampled_from([0, 1, 5, 50]), "tiers": tiers,
    "labels": st.dictionaries(label_names, texts, max_size=2),
    "annotations": st.dictionaries(mostly(st.sampled_from(["summary", "description", "detail"]),
                                          st.just("runbook-link")), annotation_values, max_size=2),
    "runbook_url": st.sampled_from(["https://runbooks.example.com/x", "https://runbooks.example.com/{{ $labels.slo }}"])})
slos = st.fixed_dictionaries({"name": names, "objective": objectives, "sli": slis}, optional={
    "window": windows, "group_by": st.lists(label_names, max_size=2, unique=True), "alerting": alerting})
services = st.fixed_dictionaries({"name": names, "http": mostly(st.just(True), st.just(False)),
                                  "slos": mostly(st.lists(slos, min_size=1, max_size=3), st.just([]))}, optional={
    "team": texts, "latency_buckets": st.just([0.1, 0.2, 0.5, 1])})
secret_refs = mostly(st.one_of(st.builds(lambda e: {"env": e}, st.sampled_from(["PD_KEY", "SLACK_URL"])),
                               st.builds(lambda f: {"file": f}, st.sampled_from(
                                   ["/run/secrets/k", "secrets/a key", "../up/k", "ünï/✓"]))),
                     st.sampled_from([{"env": "1X"}, {"file": ""}, {"file": "a:b"}, {"file": "x\ny"}]))
webhook_urls = mostly(st.sampled_from(["http://127.0.0.1:5001/hook", "https://hooks.example.com/a?team=x&page=2"]),
                      st.sampled_from(["https://u:p@hooks.example.com/", "https://hooks.example.com/a?access_token=x"]))
receivers = st.one_of(
    st.builds(lambda s: {"pagerduty": {"routing_key": s}}, secret_refs),
    st.builds(lambda s, ch: {"slack": {"api_url": s, "channel": ch}}, secret_refs, texts),
    st.builds(lambda u: {"webhook": {"url": u}}, webhook_urls),
    st.builds(lambda s: {"webhook": {"url_secret": s}}, secret_refs),
    st.builds(lambda h, s: {"email": {"to": "a@example.com", "from": "o@example.com", "smarthost": h,
                                      "auth_password": s}},
              mostly(st.sampled_from(["smtp.example.com:587", "[::1]:25"]), st.just("smtp.example.com")), secret_refs))
# The three collector component sets test_offline_validation builds (see the module docstring).
stacks = st.builds(lambda base, profile, versions: {**base, "profile": profile, "versions": versions},
                   st.sampled_from([{"metrics": "push", "persistent_queue": True},
                                    {"metrics": "pull", "persistent_queue": False},
                                    {"metrics": "push", "persistent_queue": True,
                                     "receivers": {"bind": "0.0.0.0", "bearer_token": {"env": "OTLP_TOKEN"}}}]),
                   st.sampled_from(["production", "fast"]),
                   mostly(st.sampled_from([{}, {"prometheus": "v3.16.0"}, {"alertmanager": "0.35.0"},
                                           {"grafana": "11.6.1"}]),
                          st.sampled_from([{"prometheus": "latest"}, {"grafana": "../x"}, {"prometheus": "3.15.0"}])))


@st.composite
def specs(draw) -> dict:
    svcs = draw(st.lists(services, min_size=1, max_size=3))
    recv = [{"name": f"r{i}", **kind} for i, kind in enumerate(draw(st.lists(receivers, max_size=2)))]
    routes = []
    for _ in range(draw(st.integers(0, 2)) if recv else 0):
        route = {"receiver": draw(mostly(st.sampled_from([r["name"] for r in recv]), st.just("nobody")))}
        route["match"] = draw(st.fixed_dictionaries({}, optional={
            "severity": st.sampled_from(["page", "ticket"]), "team": texts,
            "service": st.sampled_from([s["name"] for s in svcs])}))
        route.update(draw(st.fixed_dictionaries({}, optional={"group_wait": group_waits,
                                                              "repeat_interval": repeat_intervals})))
        routes.append(route)
    return {"version": "obs/v1", "project": draw(names), "stack": draw(stacks), "services": svcs,
            "alerting": {"receivers": recv, "routes": routes}}


def injective(files: dict[str, str], slo_count: int) -> None:
    """No two SLOs share an OpenSLO file, and no rule group name appears twice."""
    assert sum(p.startswith(c.SLO_DIR + "/") for p in files) == slo_count
    groups = [g["name"] for p, t in files.items() if p.endswith(".rules.yml")
              for g in YAML(typ="safe", pure=True).load(t)["groups"]]
    assert len(groups) == len(set(groups)), sorted(groups)


def accepted_or_rejected_with_locations(text: str, tree: Path) -> str:
    try:
        model = load_text(text, "obs.yaml")
    except SpecError as e:
        last = text.count("\n") + 2
        assert e.problems and all(p.line and 1 <= p.line <= last and p.column for p in e.problems), e.render()
        return "rejected"
    files = render(model)
    injective(files, len(model.slos))
    tools.write_tree(model, tree)
    assert tools.problems(tree) == []
    return "accepted"


def test_the_property_fails_on_an_unlocated_problem_and_on_a_shared_rule_group():
    import pytest
    with pytest.raises(AssertionError):
        injective({"alerts/a.rules.yml": "groups: [{name: g}]", "alerts/b.rules.yml": "groups: [{name: g}]"}, 0)
    with pytest.raises(AssertionError):
        injective({"deploy/slo/a-b-c.yaml": ""}, 2)


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(spec=specs())
@pytest.mark.stack
def test_every_drawn_spec_is_rejected_with_locations_or_accepted_by_the_real_tools(spec, tmp_path_factory):
    text = json.dumps(spec, ensure_ascii=False, indent=1)
    accepted_or_rejected_with_locations(text, tmp_path_factory.mktemp("drawn"))
