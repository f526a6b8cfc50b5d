"""obs import sloth|openslo: Sloth's published examples and OpenSLO v1 SLOs become a valid, equivalent obs.yaml."""
from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from obs.cli import main
from obs.emit import yaml_dump
from obs.generate.common import Inputs
from obs.generate.slo import openslo as export
from obs.model import conventions as c
from obs.project import load_model
from obs.stack.build import ensure
from tests.support.paths import FIXTURES, REPO

SLOTH = FIXTURES / "sloth"
OPENSLO = FIXTURES / "openslo"
SLOTH_EXAMPLES = sorted(p.name for p in SLOTH.glob("*.yml"))


def load(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(text)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def imported(capsys, kind: str, path: Path) -> dict:
    code, out, err = run(capsys, "import", kind, str(path))
    assert code == 0, err
    return load(out)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def sloth() -> Path:
    return ensure(["sloth"], progress=lambda _: None)["sloth"]


@pytest.mark.parametrize("example", SLOTH_EXAMPLES)
@pytest.mark.stack
def test_the_real_sloth_accepts_each_example_so_the_fixtures_are_genuine_sloth_input(sloth, example):
    done = subprocess.run([str(sloth), "validate", "--no-log", "-i", str(SLOTH / example)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.stack
def test_the_real_sloth_rejects_a_broken_spec_so_its_acceptance_means_something(sloth, tmp_path):
    broken = write(tmp_path, "broken.yml", (SLOTH / "getting-started.yml").read_text().replace("objective: 99.9", "objective: 120"))
    done = subprocess.run([str(sloth), "validate", "--no-log", "-i", str(broken)], capture_output=True, text=True)
    assert done.returncode != 0


@pytest.mark.parametrize("example", SLOTH_EXAMPLES)
@pytest.mark.stack
def test_each_imported_sloth_example_validates_and_generates_rules_promtool_accepts(capsys, tmp_path, promtool, example):
    code, out, err = run(capsys, "import", "sloth", str(SLOTH / example))
    assert code == 0, err
    spec = write(tmp_path, "obs.yaml", out)
    assert run(capsys, "validate", str(spec))[0] == 0
    assert run(capsys, "generate", str(spec), "--out", str(tmp_path / "out"))[0] == 0
    rules = sorted(str(p) for p in (tmp_path / "out" / c.ALERTS_DIR).glob("*.rules.yml"))
    done = subprocess.run([str(promtool), "check", "rules", *rules], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / c.openslo_file(load(out)["services"][0]["name"],
                                              load(out)["services"][0]["slos"][0]["name"])).is_file()


@pytest.mark.parametrize("example, services", [
    ("getting-started.yml", {"myservice": ["requests-availability"]}),
    ("kubernetes-apiserver.yml", {"k8s-apiserver": ["requests-availability", "requests-latency"]}),
    ("home-wifi.yml", {"home-wifi": ["good-wifi-client-satisfaction", "risk-wifi-client-satisfaction"]}),
    ("multifile.yml", {"myservice": ["requests-availability"], "myservice2": ["requests-availability"]}),
    ("k8s-getting-started.yml", {"myservice": ["requests-availability"]}),
])
def test_service_and_slo_names_are_kept(capsys, example, services):
    spec = imported(capsys, "sloth", SLOTH / example)
    assert {s["name"]: [slo["name"] for slo in s["slos"]] for s in spec["services"]} == services


def test_events_queries_carry_over_with_the_window_placeholder_in_obs_spelling(capsys):
    slo = imported(capsys, "sloth", SLOTH / "getting-started.yml")["services"][0]["slos"][0]
    assert slo["objective"] == 99.9 and slo["window"] == "30d"
    assert slo["sli"]["events"] == {
        "error_query": 'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{window}}]))',
        "total_query": 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{window}}]))'}


def test_a_raw_sli_carries_over_as_a_raw_error_ratio(capsys):
    slo = imported(capsys, "sloth", SLOTH / "raw-home-wifi.yml")["services"][0]["slos"][0]
    assert "{{window}}" in slo["sli"]["raw"]["error_ratio_query"] and "{{.window}}" not in slo["sli"]["raw"]["error_ratio_query"]


def test_labels_of_every_level_and_alerting_annotations_carry_over(capsys):
    availability, latency = imported(capsys, "sloth", SLOTH / "kubernetes-apiserver.yml")["services"][0]["slos"]
    assert availability["alerting"]["labels"] == {"cluster": "valhalla", "component": "kubernetes", "category": "availability"}
    assert latency["alerting"]["labels"]["category"] == "latency"
    assert latency["alerting"]["annotations"] == {"runbook": "https://runbooks.example.com/k8s-apiserver/latency"}


def test_labels_both_tiers_share_carry_over_and_differing_ones_are_named_in_a_note(capsys):
    code, out, err = run(capsys, "import", "sloth", str(SLOTH / "getting-started.yml"))
    labels = load(out)["services"][0]["slos"][0]["alerting"]["labels"]
    assert labels == {"owner": "myteam", "repo": "myorg/myservice", "tier": "2", "category": "availability"}
    assert "line 25: myservice/requests-availability: page alert label routing_key='myteam' is not imported" in out
    assert "line 29: myservice/requests-availability: ticket alert label slack_channel=" in out
    assert "line 24: myservice/requests-availability: the page alert's severity='pageteam' becomes obs's severity=page" in out
    assert "note(s) on the import" in err


def test_disabled_sloth_alerts_turn_the_obs_tiers_off(capsys):
    alerting = imported(capsys, "sloth", SLOTH / "no-alerts.yml")["services"][0]["slos"][0]["alerting"]
    assert alerting["page"] is False and alerting["ticket"] is False


def test_names_obs_cannot_take_are_sanitised_with_a_note(capsys, tmp_path):
    text = (SLOTH / "getting-started.yml").read_text().replace('service: "myservice"', 'service: "My_Service"') \
        .replace('name: "requests-availability"', 'name: "Requests Availability"')
    code, out, _ = run(capsys, "import", "sloth", str(write(tmp_path, "s.yml", text)))
    assert code == 0
    spec = load(out)
    assert spec["services"][0]["name"] == "my-service"
    assert spec["services"][0]["slos"][0]["name"] == "requests-availability"
    assert "service 'My_Service' is named 'my-service'" in out and "'Requests Availability'" in out


def test_a_low_objective_keeps_only_the_tiers_that_can_fire_and_says_so(capsys, tmp_path):
    text = (SLOTH / "getting-started.yml").read_text().replace("objective: 99.9", "objective: 90")
    code, out, _ = run(capsys, "import", "sloth", str(write(tmp_path, "s.yml", text)))
    assert code == 0
    tiers = load(out)["services"][0]["slos"][0]["alerting"]["tiers"]
    assert [(t["severity"], t["long"]) for t in tiers] == [("page", "6h"), ("ticket", "1d"), ("ticket", "3d")]
    assert "page 1h/14.4x could never fire" in out


@pytest.mark.parametrize("edit, line, message", [
    (lambda t: t.replace("objective: 99.9", "objective: 100"), 10, "must be a number above 0 and below 100"),
    (lambda t: t.replace("    sli:\n      events:", "    sli:\n      plugin:\n        id: x\n      other:"), 13,
     "Sloth SLI plugins cannot be imported"),
    (lambda t: t.replace('version: "prometheus/v1"', 'version: "prometheus/v2"'), 2, "not a Sloth spec"),
    (lambda t: t.replace("  - name: \"requests-availability\"", "  - name: [\"requests-availability\""), 10,
     "invalid YAML"),
    (lambda t: t.replace("total_query: sum(rate(", "total_query: sum(rate(((("), 15, "is not valid PromQL"),
])
def test_bad_sloth_input_exits_2_with_the_problem_located_in_the_sloth_file(capsys, tmp_path, edit, line, message):
    path = write(tmp_path, "slos.yml", edit((SLOTH / "getting-started.yml").read_text()))
    code, out, err = run(capsys, "import", "sloth", str(path))
    assert code == 2 and out == ""
    assert f"{path}:{line}:" in err and message in err and "Traceback" not in err


def test_an_openslo_file_given_to_the_sloth_importer_is_pointed_at_the_right_one(capsys):
    code, _, err = run(capsys, "import", "sloth", str(OPENSLO / "raw-ratio.yaml"))
    assert code == 2 and "use `obs import openslo`" in err


@pytest.mark.parametrize("text, message", [
    ("a: &a [1]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                             f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
                             for i in range(12)), "more than"),
    ("version: !!python/object/apply:os.system ['true']\n", "YAML tags"),
])
def test_hostile_yaml_is_refused_fast_with_exit_2(capsys, tmp_path, text, message):
    code, _, err = run(capsys, "import", "sloth", str(write(tmp_path, "evil.yml", text)))
    assert code == 2 and message in err


# Sloth's own recording rules and the imported queries, evaluated by promtool on the same series:
# the import must mean exactly what the Sloth spec meant.
EQUIVALENCE = [
    ("getting-started.yml", 0, [
        ('http_request_duration_seconds_count{job="myservice",code="200"}', "0+100x120"),
        ('http_request_duration_seconds_count{job="myservice",code="503"}', "0+3x120"),
        ('http_request_duration_seconds_count{job="myservice",code="429"}', "0+2x120"),
        ('http_request_duration_seconds_count{job="other",code="500"}', "0+50x120")]),
    ("kubernetes-apiserver.yml", 1, [
        ('apiserver_request_duration_seconds_count{verb="GET"}', "0+100x120"),
        ('apiserver_request_duration_seconds_bucket{verb="GET",le="0.4"}', "0+93x120"),
        ('apiserver_request_duration_seconds_count{verb="WATCH"}', "0+50x120"),
        ('apiserver_request_duration_seconds_bucket{verb="WATCH",le="0.4"}', "0+1x120")]),
]


@pytest.mark.parametrize("example, index, series", EQUIVALENCE, ids=[e[0] for e in EQUIVALENCE])
@pytest.mark.stack
def test_imported_slis_compute_the_same_error_ratio_as_sloths_own_rules(capsys, tmp_path, sloth, promtool, example,
                                                                       index, series):
    rules = tmp_path / "sloth.rules.yml"
    done = subprocess.run([str(sloth), "generate", "--no-log", "-i", str(SLOTH / example), "-o", str(rules)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    slo = imported(capsys, "sloth", SLOTH / example)["services"][0]["slos"][index]
    checks = []
    for window in ("5m", "1h"):
        ours = (f"({slo['sli']['events']['error_query']}) / ({slo['sli']['events']['total_query']})"
                .replace("{{window}}", window))
        theirs = f'sum(slo:sli_error:ratio_rate{window}{{sloth_slo="{slo["name"]}"}})'
        checks.append({"expr": f"abs({theirs} - ({ours})) < bool 1e-12", "eval_time": "100m",
                       "exp_samples": [{"labels": "{}", "value": 1}]})
        checks.append({"expr": f"{theirs} > bool 0", "eval_time": "100m", "exp_samples": [{"labels": "{}", "value": 1}]})
    suite = {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series], "promql_expr_test": checks}]}
    (tmp_path / "equivalence.test.yml").write_text(yaml_dump.dump(suite))
    done = subprocess.run([str(promtool), "test", "rules", "equivalence.test.yml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_openslo_ratio_metrics_with_sli_and_service_documents_import(capsys):
    service = imported(capsys, "openslo", OPENSLO / "checkout.yaml")["services"][0]
    assert service["name"] == "checkout" and service["description"] == "Takes the customer's money."
    availability, latency = service["slos"]
    assert availability["name"] == "checkout-availability" and availability["objective"] == 99.9
    assert availability["window"] == "28d"
    assert availability["sli"]["events"]["total_query"] == \
        'sum by (route) (rate(http_requests_total{job="checkout"}[{{window}}]))'
    assert availability["alerting"]["labels"] == {"tier": "1", "owning_team": "payments"}
    assert latency["name"] == "payment-latency" and latency["objective"] == 99 and latency["window"] == "30d"
    assert latency["sli"]["events"]["error_query"].count("{{window}}") == 2
    assert latency["alerting"] == {"tiers": [{"severity": "ticket", "long": "3d", "short": "6h", "burn_rate": 1}]}


def test_a_success_ratio_becomes_an_error_ratio(capsys):
    slo = imported(capsys, "openslo", OPENSLO / "raw-ratio.yaml")["services"][0]["slos"][0]
    assert slo["sli"]["raw"]["error_ratio_query"] == "1 - (avg_over_time(search:success:ratio[{{window}}]))"
    assert slo["objective"] == 95


def test_a_threshold_metric_slo_is_refused_at_its_indicator(capsys):
    code, out, err = run(capsys, "import", "openslo", str(OPENSLO / "threshold.yaml"))
    assert code == 2 and out == ""
    assert f"{OPENSLO / 'threshold.yaml'}:11:5:" in err and "ratio-metric SLIs only" in err


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("apiVersion: openslo/v1\nkind: SLO", "apiVersion: openslo/v1alpha\nkind: SLO"), "only OpenSLO v1"),
    (lambda t: t.replace("target: 0.95", "target: 1.5"), "must be a target in (0, 1)"),
    (lambda t: t.replace("type: Prometheus", "type: Datadog"), "only Prometheus metric sources"),
    (lambda t: t.replace("[{{.window}}]", "[5m]"), "has no {{.window}} placeholder"),
    (lambda t: t.replace("  service: search\n", ""), "obs groups SLOs by service"),
])
def test_bad_openslo_input_exits_2_and_says_why(capsys, tmp_path, edit, message):
    code, _, err = run(capsys, "import", "openslo", str(write(tmp_path, "slo.yaml", edit((OPENSLO / "raw-ratio.yaml").read_text()))))
    assert code == 2 and message in err and f"{tmp_path / 'slo.yaml'}:" in err


def test_obs_own_openslo_export_imports_back_to_the_same_slos(capsys, tmp_path):
    model = load_model(REPO / "obs.yaml")
    for path, text in export.generate(model, Inputs()).items():
        file = write(tmp_path, Path(path).name, text)
        back = imported(capsys, "openslo", file)
        [svc] = back["services"]
        [slo] = svc["slos"]
        original = next(s for s in model.slos if c.openslo_file(s.service, s.name) == path)
        assert (svc["name"], slo["name"]) == (original.service, original.name)
        assert svc.get("team") == model.service(original.service).team
        assert (slo["objective"], slo["window"]) == (float(original.objective), str(original.period))
        tiers = [(t["severity"], t["long"], t["short"], Decimal(str(t["burn_rate"])), t.get("for", "0s"))
                 for t in slo["alerting"]["tiers"]]
        assert tiers == [(t.severity, str(t.long), str(t.short), t.burn_rate, str(t.for_)) for t in original.tiers]
        assert run(capsys, "validate", str(write(tmp_path, "back.yaml", yaml_dump.dump(back))))[0] == 0


def test_json_output_carries_the_spec_the_notes_and_the_yaml(capsys):
    code, out, _ = run(capsys, "import", "sloth", str(SLOTH / "getting-started.yml"), "--format", "json", "--project", "shop")
    doc = json.loads(out)
    assert code == 0 and doc["spec"]["project"] == "shop" and doc["notes"] and doc["yaml"].startswith("# obs.yaml imported")


def test_import_output_is_deterministic(capsys):
    first = run(capsys, "import", "sloth", str(SLOTH / "kubernetes-apiserver.yml"))
    assert first == run(capsys, "import", "sloth", str(SLOTH / "kubernetes-apiserver.yml"))


def test_help_teaches_by_example(capsys):
    for argv in (["import", "--help"], ["import", "sloth", "--help"], ["import", "openslo", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and "Examples:" in out
