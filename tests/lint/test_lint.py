"""obs lint: each pitfall is reported where it lives, and a clean spec stays clean."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obs.cli import main
from obs.emit.yaml_read import load
from obs.generate import render
from obs.lint import NOTE, WARNING, run
from obs.lint.artifact_checks import SECRET_PATTERNS
from obs.lint.routing import routes_for
from obs.model import conventions as c
from obs.model.build import build
from obs.project import load_model
from obs.spec.loader import parse_text
from tests.support.paths import REPO
from tests.support.pipeline_specs import SECURE_RECEIVERS, model, rendered, spec_text

REPO_SPEC = REPO / "obs.yaml"


def rules(findings) -> set[tuple[str, str | None]]:
    return {(f.rule, f.spec_path or f.file) for f in findings}


def test_the_repositorys_own_spec_and_artifacts_have_no_findings_but_the_native_threshold_note():
    m = load_model(REPO_SPEC)
    # memory-search's 200 ms is readable only from native histograms: a trade-off the spec chose, so a note.
    assert [(f.rule, f.severity) for f in run(m, render(m), environ={})] == [
        ("latency-threshold-without-bucket", "note")]


@pytest.mark.parametrize("service, finding", [
    ("  - name: web\n    http: true\n    slos:\n      - {name: fast, objective: 99, sli: {latency: {threshold: 300ms}}}\n",
     "latency-threshold-without-bucket"),
    ("  - name: web\n    telemetry:\n      otlp: false\n      scrape: [{targets: ['localhost:9100'], interval: 2m}]\n",
     "sparse-samples"),
])
def test_spec_pitfalls_of_real_instrumentation_are_found_from_the_spec_alone(service, finding):
    m = build(parse_text(f"version: obs/v1\nproject: p\nservices:\n{service}", "obs.yaml")[0])
    assert finding in {f.rule for f in run(m, render(m), environ={})}


def test_a_threshold_on_a_default_bucket_and_a_brisk_scrape_raise_neither_pitfall():
    text = ("version: obs/v1\nproject: p\nservices:\n  - name: web\n    http: true\n    slos:\n"
            "      - {name: fast, objective: 99, sli: {latency: {threshold: 250ms}}}\n  - name: db\n    telemetry:\n"
            "      otlp: false\n      scrape: [{targets: ['localhost:9100'], interval: 30s}]\n")
    m = build(parse_text(text, "obs.yaml")[0])
    assert not {"latency-threshold-without-bucket", "sparse-samples"} & {f.rule for f in run(m, render(m), environ={})}


def test_a_spec_using_every_receiver_kind_and_both_modes_of_binding_is_clean():
    assert run(model(), rendered(), environ={}) == []


SPEC_CASES = [
    ("bind: 0.0.0.0", "", {("listener-beyond-loopback", "stack.bind")}),
    ("bind: 127.0.0.1", "  receivers: {bind: 0.0.0.0}", {("listener-beyond-loopback", "stack.receivers.bind")}),
    ("bind: 127.0.0.1", SECURE_RECEIVERS, set()),
    ("bind: 127.0.0.1", "  verify_budget: 5s", {("verify-budget", "stack.verify_budget")}),
    ("bind: 127.0.0.1", "  verify_budget: 10m", set()),
    ("profile: fast", "  verify_budget: 1s", {("verify-budget", "stack.verify_budget")}),
    ("profile: fast", "  verify_budget: 30s", set()),
    ("metrics: pull", "", {("delta-temporality", "stack.metrics")}),
]


@pytest.mark.parametrize("replace,extra,expected", SPEC_CASES)
def test_spec_pitfalls_are_reported_at_their_spec_path(replace, extra, expected):
    key = replace.split(":")[0]
    text = spec_text(stack_extra=extra)
    text = "\n".join(f"  {replace}" if line.startswith(f"  {key}:") else line for line in text.splitlines())
    from obs.model.build import build
    from obs.spec.loader import parse_text
    m = build(parse_text(text, "obs.yaml")[0])
    assert rules(run(m, render(m), environ={})) == expected


def test_a_spec_that_cannot_page_for_every_incident_is_warned():
    text = ("version: obs/v1\nproject: p\nservices:\n  - name: web\n    http: true\nalerting:\n  receivers:\n"
            "    - {name: oncall, pagerduty: {routing_key: {env: PD_KEY}}}\n"
            "  routes:\n    - {match: {severity: page}, receiver: oncall}\n")
    m = build(parse_text(text, "obs.yaml")[0])
    found = {(f.rule, f.severity) for f in run(m, render(m), environ={})}
    # No heartbeat: a dead Prometheus pages nobody. PagerDuty only: nobody hears that PagerDuty rejects pages.
    assert {("no-dead-mans-switch", WARNING), ("no-fallback-receiver", WARNING)} <= found
    assert "slow-detection" not in {rule for rule, _ in found}


def test_pull_mode_delta_is_a_note_that_never_fails_strict():
    (finding,) = run(model(metrics="pull"), rendered(metrics="pull"), environ={})
    assert finding.severity == NOTE


def test_a_service_named_like_a_stack_job_collides():
    from obs.model.build import build
    from obs.spec.loader import parse_text
    m = build(parse_text(spec_text().replace("name: cache", "name: prometheus").replace("service: cache", "service: prometheus"), "obs.yaml")[0])
    assert ("job-collision", "services[2].name") in rules(run(m, render(m), environ={}))


def _edit(path: str, old: str, new: str):
    def apply(files: dict[str, str]) -> None:
        assert old in files[path], (path, old)
        files[path] = files[path].replace(old, new, 1)
    return apply


ARTIFACT_CASES = [
    ("probe-grouping", c.ALERTMANAGER_LOCAL_CONFIG,
     _edit(c.ALERTMANAGER_LOCAL_CONFIG, "    - probe_id\n", "    - alertname\n")),
    ("probe-grouping", c.COMPOSE_ALERTMANAGER_CONFIG,
     _edit(c.COMPOSE_ALERTMANAGER_CONFIG, "group_wait: 0s", "group_wait: 30s")),
    ("probe-routing", c.ALERTMANAGER_LOCAL_CONFIG,
     _edit(c.ALERTMANAGER_LOCAL_CONFIG, "receiver: obs-verify", "receiver: hook")),
    ("inline-secret", c.ALERTMANAGER_CONFIG,
     _edit(c.ALERTMANAGER_CONFIG, 'routing_key_file: ".obs/secrets/PAGERDUTY_ROUTING_KEY"', "routing_key: abc123abc")),
    ("inline-secret", c.ALERTMANAGER_CONFIG,
     _edit(c.ALERTMANAGER_CONFIG, "http://127.0.0.1:5001/hook", "https://hooks.slack.com/services/T0/B0/xyz")),
    ("inline-secret", c.COMPOSE_FILE, _edit(c.COMPOSE_FILE, "GF_SECURITY_ADMIN_PASSWORD__FILE", "GF_SECURITY_ADMIN_PASSWORD")),
    ("grafana-anonymous", c.COMPOSE_FILE,
     _edit(c.COMPOSE_FILE, 'GF_AUTH_ANONYMOUS_ENABLED: "false"', 'GF_AUTH_ANONYMOUS_ENABLED: "true"')),
    ("listener-beyond-loopback", c.COMPOSE_FILE, _edit(c.COMPOSE_FILE, '"127.0.0.1:9090:9090"', '"9090:9090"')),
    ("listener-beyond-loopback", c.OTELCOL_CONFIG, _edit(c.OTELCOL_CONFIG, '"127.0.0.1:13133"', '"0.0.0.0:13133"')),
    ("delta-temporality", c.COMPOSE_FILE, _edit(c.COMPOSE_FILE, "--enable-feature=otlp-deltatocumulative", "--x")),
    ("delta-temporality", c.OTELCOL_CONFIG, _edit(c.OTELCOL_CONFIG, "  otlp_http/prometheus:\n",
                                                  "  prometheusremotewrite:\n    endpoint: x\n  otlp_http/prometheus:\n")),
]


@pytest.mark.parametrize("rule,path,edit", ARTIFACT_CASES, ids=[f"{r}-{p}" for r, p, _ in ARTIFACT_CASES])
def test_a_hand_edited_or_stale_artifact_is_caught(rule, path, edit):
    files = rendered()
    edit(files)
    found = run(model(), files, environ={})
    assert (rule, path) in rules(found)
    assert all(f.severity == WARNING for f in found)


def test_a_secret_value_from_the_environment_found_in_any_artifact_is_reported():
    files = rendered()
    files[c.PROMETHEUS_CONFIG] += "# s3cr3t-pagerduty-key\n"
    found = run(model(), files, environ={"PAGERDUTY_ROUTING_KEY": "s3cr3t-pagerduty-key"})
    assert [(f.rule, f.file, f.line) for f in found] == [
        ("inline-secret", c.PROMETHEUS_CONFIG, files[c.PROMETHEUS_CONFIG].count("\n"))]


SPELLED = {   # a secret key as YAML may spell it in a per-service file, which lint reads only where it may hold one
    "in capitals": "ROUTING_KEY: abc123abc",
    "quoted": '"api_key": abc123abc',
    "in a flow mapping": "x: {password: abc123abc}",
    "with a hex escape": '"routing\\x5fkey": abc123abc',
    "with a unicode escape": '"\\u0070assword": abc123abc',
    "across an escaped line break": '? "pass\\\n  word"\n: abc123abc',
    "as a Grafana variable": "GF_SECURITY_ADMIN_PASSWORD: abc123abc",
}


@pytest.mark.parametrize("line", SPELLED.values(), ids=list(SPELLED))
def test_a_secret_key_written_into_any_generated_file_is_found_however_yaml_spells_it(line):
    files = rendered()
    path = next(p for p in files if p.startswith(c.ALERT_TESTS_DIR + "/"))
    files[path] += line + "\n"
    found = [(f.rule, f.file) for f in run(model(), files, environ={})]
    assert found == [("inline-secret", path)]


@pytest.mark.parametrize("name, pattern, needs", SECRET_PATTERNS, ids=[n for n, _, _ in SECRET_PATTERNS])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_every_text_a_secret_pattern_matches_holds_what_lint_looks_for_before_running_it(name, pattern, needs, data):
    # The patterns run only over a text that holds each of `needs`: sound only if every match holds them.
    text = data.draw(st.from_regex(pattern))
    match = pattern.search(text)
    assert match is not None and all(part in match.group() for part in needs)


ROOT = {"receiver": "default", "group_by": ["alertname"], "routes": [
    {"receiver": "a", "matchers": ['team=~"plat.*"'], "continue": True, "group_wait": "1s"},
    {"receiver": "b", "matchers": ['severity="page"', 'service!="x"']},
    {"receiver": "c", "match": {"severity": "page"}},
]}


@pytest.mark.parametrize("labels,receivers", [
    ({"team": "platform", "severity": "page"}, ["a", "b"]),   # continue: true lets b match too
    ({"team": "xplatform", "severity": "page"}, ["b"]),       # regexes are anchored
    ({"severity": "page", "service": "x"}, ["c"]),
    ({"severity": "ticket"}, ["default"]),
])
def test_routing_follows_alertmanagers_first_match_and_continue_rules(labels, receivers):
    assert [m.settings["receiver"] for m in routes_for(ROOT, labels)] == receivers


def _write_spec(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "obs.yaml"
    spec.write_text(text)
    return spec


def test_the_cli_locates_spec_findings_and_fails_only_when_strict(tmp_path, capsys):
    spec = _write_spec(tmp_path, spec_text(bind="0.0.0.0"))
    assert main(["lint", str(spec)]) == 0
    out = capsys.readouterr().out
    line = next(n for n, text in enumerate(spec.read_text().splitlines(), 1) if text.strip() == "bind: 0.0.0.0")
    assert out.startswith(f"{spec}:{line}:3: stack.bind: ")
    assert out.rstrip().endswith("[listener-beyond-loopback]")
    assert main(["lint", str(spec), "--strict"]) == 1


def test_the_cli_passes_strict_on_notes_alone_and_reports_json(tmp_path, capsys):
    spec = _write_spec(tmp_path, spec_text(metrics="pull"))
    assert main(["lint", str(spec), "--strict", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["warnings"], doc["notes"]) == (0, 1)
    assert doc["findings"][0]["rule"] == "delta-temporality" and doc["findings"][0]["line"] > 1


def test_the_cli_lints_committed_artifacts_and_rejects_a_bad_spec(tmp_path, capsys):
    spec = _write_spec(tmp_path, spec_text())
    assert main(["generate", str(spec)]) == 0
    compose = tmp_path / c.COMPOSE_FILE
    compose.write_text(compose.read_text().replace('"127.0.0.1:3000:3000"', '"3000:3000"'))
    capsys.readouterr()
    assert main(["lint", str(spec), "--artifacts", str(tmp_path), "--strict"]) == 1
    assert "services.grafana.ports[0]" in capsys.readouterr().out
    spec.write_text(spec_text().replace("objective: 99.9", "objective: 100"))
    assert main(["lint", str(spec)]) == 2


@pytest.mark.parametrize("max_groups, severity", [(100, NOTE), (2000, WARNING)])
def test_a_grouped_slo_is_told_how_many_series_it_may_write_and_warned_past_ten_thousand(max_groups, severity):
    from obs.project import load_text
    text = (REPO / "tests" / "fixtures" / "slo" / "obs.yaml").read_text()
    if max_groups != 100:
        text = text.replace("group_by: [http_route]", f"group_by: [http_route]\n        max_groups: {max_groups}", 1)
    m = load_text(text, "obs.yaml")
    [found] = [f for f in run(m, render(m)) if f.rule == "grouped-slo-series"]
    records = sum(1 for g in load(render(m)[c.rules_file("checkout")])["groups"]
                  if g["name"].startswith("obs-slo-checkout-availability-28d") for r in g["rules"] if "record" in r)
    assert found.severity == severity and f"up to {records * max_groups:,} series" in found.message
    assert found.spec_path == "services[0].slos[0].max_groups"
