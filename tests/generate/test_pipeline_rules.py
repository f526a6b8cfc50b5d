"""Stack and pipeline-health rules: checked and unit-tested by the real promtool, on both timing profiles."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from obs.generate.common import Inputs
from obs.generate.pipeline import rules as pipeline_rules
from obs.generate.pipeline.alerts import catalogue
from obs.generate.pipeline.incidents import incident_alerts
from obs.generate.pipeline.verify_alerts import verify_alerts, verify_stale_after
from obs.model import conventions as c
from obs.model.build import build
from obs.model.domain import Model
from obs.spec.loader import parse_text

PROFILES = ("production", "fast")


WEBHOOK_RECEIVER = """
alerting:
  receivers:
    - name: chat
      webhook: {url: "http://127.0.0.1:9/hook"}
"""


def model_for(profile: str, extra: str = "") -> Model:
    spec, _ = parse_text(f"""
version: obs/v1
project: pipeline
stack: {{profile: {profile}}}
services:
  - name: api
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli: {{availability: {{}}}}
{extra}""", "obs.yaml")
    return build(spec)


def load(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(text)


def write(tmp_path: Path, profile: str, extra: str = "") -> Path:
    for rel, text in pipeline_rules.generate(model_for(profile, extra), Inputs()).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def run_tests(promtool: Path, out: Path) -> subprocess.CompletedProcess[str]:
    tests_dir = out / c.ALERT_TESTS_DIR
    return subprocess.run([str(promtool), "test", "rules", Path(c.PIPELINE_RULE_TESTS_FILE).name], cwd=tests_dir,
                          capture_output=True, text=True)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.stack
def test_promtool_check_rules_accepts_the_generated_pipeline_rules(promtool, tmp_path, profile):
    out = write(tmp_path, profile)
    done = subprocess.run([str(promtool), "check", "rules", str(out / c.PIPELINE_RULES_FILE)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    services = len(model_for(profile).services)   # one obs:service_info record each, beside the alerts
    assert f"SUCCESS: {len(all_alerts(profile)) + services} rules found" in done.stdout


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.stack
def test_the_generated_promtool_tests_pass_when_run_from_inside_alerts_tests(promtool, tmp_path, profile):
    done = run_tests(promtool, write(tmp_path, profile))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


# Each mutation breaks one rule the way a careless edit would; the generated tests must catch every one.
MUTATIONS = [
    ("target down alerts on the verify job", f'job!=\\"{c.VERIFY_JOB}\\"', 'job!=\\"nothing\\"'),
    ("target down never fires", "} == 0", "} == 2"),
    ("the queue threshold is too lax", "> 0.8", "> 0.95"),
    ("counters are only matched with _total", "(_total)?", "_total"),
    ("a processor's healthy traffic counts as a drop", "- sum by (job, instance, processor)",
     "+ 0 * sum by (job, instance, processor)"),
    ("the watchdog goes silent", '"vector(1)"', '"vector(0) > 1"'),
    ("the probe alert fires on a zero gauge", '!=\\"\\"}) > 0', '!=\\"\\"}) >= 0'),
    ("a probe alert that waits", "for: 0s", "for: 1m"),
    ("verify staleness never fires", "obs_verify_last_run_timestamp_seconds > ",
     "obs_verify_last_run_timestamp_seconds > 99999 + "),
    ("the verify sink's webhook failures page", '{integration!=\\"webhook\\"}', ""),
    ("the probe failure alert fires on success", "obs_verify_probe_success == 0", "obs_verify_probe_success == 1"),
]


@pytest.mark.parametrize("what, old, new", MUTATIONS, ids=[m[0] for m in MUTATIONS])
@pytest.mark.stack
def test_a_deliberately_broken_rule_makes_the_generated_tests_fail(promtool, tmp_path, what, old, new):
    out = write(tmp_path, "production")
    rules = out / c.PIPELINE_RULES_FILE
    text = rules.read_text()
    assert old in text, f"mutation target {old!r} is not in the generated rules"
    rules.write_text(text.replace(old, new))
    done = run_tests(promtool, out)
    assert done.returncode != 0, f"{what}: the generated tests still pass\n{done.stdout}"
    assert "FAILED" in done.stdout + done.stderr


@pytest.mark.stack
def test_with_webhook_receivers_of_its_own_the_spec_gets_webhook_failures_watched_too(promtool, tmp_path):
    out = write(tmp_path, "fast", WEBHOOK_RECEIVER)
    text = (out / c.PIPELINE_RULES_FILE).read_text()
    assert "increase(alertmanager_notifications_failed_total[1m])" in text
    done = run_tests(promtool, out)
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_them_the_verify_sinks_webhook_failures_are_ignored():
    text = pipeline_rules.generate(model_for("fast"), Inputs())[c.PIPELINE_RULES_FILE]
    assert 'alertmanager_notifications_failed_total{integration!=\\"webhook\\"}' in text


def all_alerts(profile: str):
    model = model_for(profile)
    t = model.stack.timing
    return incident_alerts(model) + catalogue(t) + verify_alerts(t)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_alert_has_a_severity_a_component_and_annotations_saying_what_to_fix(profile):
    rules = load(pipeline_rules.generate(model_for(profile), Inputs())[c.PIPELINE_RULES_FILE])
    seen = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert len(seen) == len(all_alerts(profile))
    for rule in seen:
        assert rule["labels"][c.LABEL_SEVERITY] in ("page", "ticket", "none"), rule["alert"]
        assert rule["labels"][c.LABEL_COMPONENT], rule["alert"]
        assert set(rule["annotations"]) == {"summary", "description", "runbook"}, rule["alert"]
        assert all(v.strip() for v in rule["annotations"].values()), rule["alert"]


def test_every_service_gets_one_info_record_labelled_with_its_team_and_nothing_else():
    model = model_for("fast", "  - name: worker\n    team: jobs\n")
    rules = load(pipeline_rules.generate(model, Inputs())[c.PIPELINE_RULES_FILE])
    (group,) = [g for g in rules["groups"] if g["name"] == c.PIPELINE_GROUP_SERVICES]
    assert group["rules"] == [
        {"record": c.SERVICE_INFO, "expr": "vector(1)", "labels": {c.LABEL_SERVICE: "api"}},
        {"record": c.SERVICE_INFO, "expr": "vector(1)", "labels": {c.LABEL_SERVICE: "worker", c.LABEL_TEAM: "jobs"}},
    ]
    assert group == pipeline_rules.groups(model)[-1]   # the same group in the PrometheusRule and the rulers


@pytest.mark.parametrize("profile", PROFILES)
def test_every_for_duration_comes_from_the_timing_profile(profile):
    t = model_for(profile).stack.timing
    rules = load(pipeline_rules.generate(model_for(profile), Inputs())[c.PIPELINE_RULES_FILE])
    durations = {r["alert"]: r.get("for") for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert durations.pop(c.WATCHDOG_ALERT) is None
    assert durations.pop(c.PROBE_ALERT) == "0s"
    # Pages whose wait is their own window or a single failed delivery: no `for:` on top.
    for alert in (c.SERVICE_SILENT_ALERT, c.SERVICE_TRAFFIC_STOPPED_ALERT, c.NOTIFICATIONS_FAILING_ALERT):
        assert durations.pop(alert) is None, alert
    assert durations.pop(c.COMPONENT_DOWN_ALERT) == str(t.down_for)
    assert set(durations.values()) == {str(t.alert_for)}


def test_windows_and_staleness_scale_with_the_profile():
    prod, fast = (model_for(p).stack.timing for p in PROFILES)
    # Production: four 15 s scrapes (and four SDK exports) fill 1m; fast has the 1m floor.
    assert str(prod.rate_window) == "1m" and str(fast.rate_window) == "1m"
    # Four alert-probe rounds: scrape, evaluation, resend delay (15 s) and group_wait, each 4 times.
    assert str(verify_stale_after(prod)) == "5m" and str(verify_stale_after(fast)) == "1m"
    text = pipeline_rules.generate(model_for("production"), Inputs())[c.PIPELINE_RULES_FILE]
    assert "[1m]" in text and "> 300" in text


def test_the_probe_alert_matches_the_series_obs_verify_pushes_and_carries_the_probe_labels():
    rules = load(pipeline_rules.generate(model_for("fast"), Inputs())[c.PIPELINE_RULES_FILE])
    probe = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == c.PROBE_ALERT)
    assert probe["expr"] == f'max by ({c.PROBE_ID_LABEL}) ({c.PROBE_METRIC}{{{c.PROBE_ID_LABEL}!=""}}) > 0'
    assert probe["for"] == "0s"
    assert probe["labels"][c.PROBE_LABEL] == "true"
    assert probe["labels"][c.LABEL_SEVERITY] == "none"


def test_nothing_alerts_on_the_verify_scrape_target_being_down_or_absent():
    text = pipeline_rules.generate(model_for("production"), Inputs())[c.PIPELINE_RULES_FILE]
    assert "absent(" not in text
    assert f'up{{job!=\\"{c.VERIFY_JOB}\\"}}' in text


@pytest.mark.parametrize("profile", PROFILES)
def test_every_alert_is_proven_to_fire_and_every_one_with_healthy_series_to_stay_quiet(profile):
    suite = load(pipeline_rules.generate(model_for(profile), Inputs())[c.PIPELINE_RULE_TESTS_FILE])
    assert suite["rule_files"] == ["../obs-pipeline.rules.yml"]
    firing = {t["alert_rule_test"][-1]["alertname"] for t in suite["tests"]
              if t["alert_rule_test"][-1]["exp_alerts"]}
    quiet = {t["alert_rule_test"][0]["alertname"] for t in suite["tests"] if re.search("stays quiet", t["name"])}
    names = {a.name for a in all_alerts(profile)}
    assert firing == names
    assert quiet == names - {c.WATCHDOG_ALERT}


def test_generation_is_deterministic_byte_for_byte():
    model = model_for("production")
    assert pipeline_rules.generate(model, Inputs()) == pipeline_rules.generate(model, Inputs())
