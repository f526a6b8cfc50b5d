"""OpenSLO alert policies become obs burn-rate tiers; what obs cannot express is refused, located, never dropped."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from obs.cli import main
from obs.emit import yaml_dump
from obs.model import conventions as c
from tests.support.paths import FIXTURES

ALERTS = FIXTURES / "openslo" / "alerts.yaml"
CHECKOUT = FIXTURES / "openslo" / "checkout.yaml"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def imported(capsys, path: Path) -> tuple[dict, str]:
    code, out, err = run(capsys, "import", "openslo", str(path))
    assert code == 0, err
    return YAML(typ="safe", pure=True).load(out), out


def edited(tmp_path: Path, edit) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(edit(ALERTS.read_text()))
    return path


def test_burn_rate_conditions_by_reference_and_inline_become_tiers_with_the_workbook_short_window(capsys):
    spec, _ = imported(capsys, ALERTS)
    assert spec["services"][0]["slos"][0]["alerting"] == {"tiers": [
        {"severity": "page", "long": "1h", "short": "5m", "burn_rate": 14.4, "for": "2m"},
        {"severity": "ticket", "long": "3d", "short": "6h", "burn_rate": 1}]}


def test_notification_targets_are_named_with_the_receiver_obs_needs(capsys):
    _, out = imported(capsys, ALERTS)
    assert "policy fast-burn-page notifies oncall-pager (pagerduty): declare a receiver" in out
    assert "policy slow-burn-ticket notifies search-team-slack (slack)" in out and "route ticket alerts" in out


@pytest.mark.parametrize("long, short", [("10m", "5m"), ("30m", "5m"), ("1h", "5m"), ("2h", "10m"), ("6h", "30m"),
                                         ("1d", "2h"), ("3d", "6h"), ("4w", "2d8h")])
def test_the_short_window_is_a_twelfth_of_the_lookback_rounded_to_5m(capsys, tmp_path, long, short):
    spec, _ = imported(capsys, edited(tmp_path, lambda t: t.replace("lookbackWindow: 1h", f"lookbackWindow: {long}")))
    tier = spec["services"][0]["slos"][0]["alerting"]["tiers"][0]
    assert (tier["long"], tier["short"]) == (long.replace("4w", "28d"), short)


def test_a_file_holding_alert_documents_no_slo_uses_says_so(capsys, tmp_path):
    path = edited(tmp_path, lambda t: t.replace("    - alertPolicyRef: fast-burn-page\n", ""))
    _, out = imported(capsys, path)
    assert "AlertPolicy fast-burn-page: no SLO in this file uses it" in out
    assert "AlertCondition fast-burn: no SLO in this file uses it" in out


def test_policies_that_are_all_unusable_are_reported_together_with_their_locations(capsys, tmp_path):
    path = edited(tmp_path, lambda t: t.replace("kind: burnrate\n    op: gte", "kind: threshold\n    op: lt")
                  .replace("severity: ticket", "severity: sev2"))
    code, out, err = run(capsys, "import", "openslo", str(path))
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"{path}:20:5: spec.condition.kind:" in err and f"{path}:21:5: spec.condition.op:" in err
    assert f"{path}:81:15: spec.alertPolicies[1].spec.conditions[0].spec.severity:" in err


# (what the edit does, the edit, the line:col it is reported at, what the message says)
REFUSED = [
    ("a condition that is not a burn rate", lambda t: t.replace("kind: burnrate\n    op", "kind: threshold\n    op"),
     "20:5", "obs alerts on error-budget burn rate only"),
    ("op lt", lambda t: t.replace("op: gte", "op: lt"), "21:5", "op 'lt' would alert while the budget is safe"),
    ("op lte", lambda t: t.replace("op: gt\n", "op: lte\n"), "84:17", "op 'lte'"),
    ("a severity obs does not have", lambda t: t.replace("severity: page", "severity: critical"), "18:3",
     "must be page or ticket"),
    ("no threshold", lambda t: t.replace("    threshold: 14.4\n", ""), "19:3", "must be a burn rate above 0"),
    ("a zero threshold", lambda t: t.replace("threshold: 1\n", "threshold: 0\n"), "85:17", "must be a burn rate above 0"),
    ("a lookback that is not a 5m multiple", lambda t: t.replace("lookbackWindow: 1h", "lookbackWindow: 7m"), "23:5",
     "multiple of 5m"),
    ("a lookback in months", lambda t: t.replace("lookbackWindow: 3d", "lookbackWindow: 1M"), "86:17", "multiple of 5m"),
    ("a lookback longer than the SLO window", lambda t: t.replace("lookbackWindow: 3d", "lookbackWindow: 5w"), "86:17",
     "longer than the SLO's timeWindow (30d)"),
    ("a bad alertAfter", lambda t: t.replace("alertAfter: 2m", "alertAfter: soon"), "24:5", "alertAfter"),
    ("a burn rate the objective can never reach", lambda t: t.replace("threshold: 14.4", "threshold: 1000"), "22:5",
     "can never be reached at objective 99.9%"),
    ("a policy that never alerts on a breach", lambda t: t.replace("alertWhenBreaching: true\n  alertWhenResolved",
                                                                   "alertWhenBreaching: false\n  alertWhenResolved"),
     "31:3", "does not alert on a breach"),
    ("a dangling alertPolicyRef", lambda t: t.replace("alertPolicyRef: fast-burn-page", "alertPolicyRef: nope"), "68:7",
     "no `kind: AlertPolicy` document named 'nope'"),
    ("a dangling conditionRef", lambda t: t.replace("conditionRef: fast-burn", "conditionRef: nope"), "35:7",
     "no `kind: AlertCondition` document named 'nope'"),
    ("a policy without conditions", lambda t: t.replace("    - conditionRef: fast-burn\n", ""), "34:3",
     "must list the policy's condition"),
    ("a policy entry of another kind", lambda t: t.replace("    - kind: AlertPolicy\n      metadata:\n        name: slow",
                                                           "    - kind: AlertCondition\n      metadata:\n        name: slow"),
     "69:7", "must be an inline `kind: AlertPolicy`"),
    ("a notification target obs has no receiver for", lambda t: t.replace("target: PagerDuty", "target: opsgenie"),
     "10:3", "'opsgenie' has none"),
    ("two page conditions over the same window",
     lambda t: t.replace("severity: ticket", "severity: page").replace("lookbackWindow: 3d", "lookbackWindow: 1h"),
     "86:17", "a second page condition over 1h"),
]


@pytest.mark.parametrize("what, edit, where, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_obs_cannot_express_is_refused_at_its_location(capsys, tmp_path, what, edit, where, message):
    path = edited(tmp_path, edit)
    code, out, err = run(capsys, "import", "openslo", str(path))
    assert code == 2 and out == "", what
    assert f"{path}:{where}:" in err and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("flag, note", [("alertWhenResolved", "obs's receivers always send resolved notifications"),
                                        ("alertWhenNoData", "obs always raises SLOMetricAbsent")])
def test_a_policy_flag_obs_does_not_honour_is_named_in_a_note(capsys, tmp_path, flag, note):
    path = edited(tmp_path, lambda t: t.replace(f"\n  {flag}: true\n", f"\n  {flag}: false\n", 1))
    _, out = imported(capsys, path)
    assert f"policy fast-burn-page: {flag} is false, but {note}" in out


def test_an_slo_without_alert_policies_says_the_workbook_tiers_apply(capsys):
    spec, out = imported(capsys, CHECKOUT)
    assert "checkout-availability: no alertPolicies; obs's SRE-workbook burn-rate tiers apply" in out
    assert spec["services"][0]["slos"][1]["alerting"] == {"tiers": [
        {"severity": "ticket", "long": "3d", "short": "6h", "burn_rate": 1}]}


def _alerts_at(minute: int) -> dict:
    expr = f'count by (severity, {c.LABEL_TIER}, alertstate) (ALERTS{{alertname="{c.SLO_BURN_ALERT}"}})'
    return {"expr": f"# imported tiers at {minute}m\n{expr}", "eval_time": f"{minute}m"}


@pytest.mark.parametrize("after, states", [
    ("2m", [(1, "pending"), (2, "pending"), (3, "firing"), (10, "firing")]),
    ("0m", [(1, "firing"), (10, "firing")]),
])
@pytest.mark.stack
def test_the_imported_tiers_fire_in_the_real_promtool_with_alert_after_as_for(capsys, tmp_path, promtool, after,
                                                                              states):
    spec, _ = imported(capsys, edited(tmp_path, lambda t: t.replace("alertAfter: 2m", f"alertAfter: {after}")))
    path = tmp_path / "obs.yaml"
    path.write_text(yaml_dump.dump(spec))
    assert run(capsys, "generate", str(path), "--out", str(tmp_path / "out"))[0] == 0
    rules = tmp_path / "out" / c.ALERTS_DIR / "search.rules.yml"
    # Every request fails from the start. The page tier's condition holds from the first rate (1m); it waits
    # out alertAfter as `for`: with 2m it is pending at 2m and fires at 3m, with 0m it fires at once. The 3d ticket tier stays quiet: its
    # minimum-traffic guard wants 3 days of traffic (obs's own suite, below, proves that tier).
    def state(minute: int, page: str) -> dict:
        return {**_alerts_at(minute), "exp_samples": [
            {"labels": f'{{severity="page",{c.LABEL_TIER}="1h",alertstate="{page}"}}', "value": 1}]}
    checks = [state(minute, page) for minute, page in states]
    suite = {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [{"series": 'search_requests_total{code="500"}', "values": "0+60x30"}],
        "promql_expr_test": checks}]}
    (rules.parent / "imported.test.yml").write_text(yaml_dump.dump(suite))
    done = subprocess.run([str(promtool), "test", "rules", "imported.test.yml"], cwd=rules.parent,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.stack
def test_the_imported_tiers_pass_obs_own_promtool_suite(capsys, tmp_path, promtool):
    spec, _ = imported(capsys, ALERTS)
    path = tmp_path / "obs.yaml"
    path.write_text(yaml_dump.dump(spec))
    code, out, err = run(capsys, "test", str(path), "--out", str(tmp_path / "out"))
    assert code == 0, out + err


def test_slo_annotations_obs_does_not_use_are_noted_at_their_line(capsys, tmp_path):
    path = edited(tmp_path, lambda t: t.replace("  name: search-availability\n", "  name: search-availability\n"
                                                "  annotations:\n    openslo.com/owner: search\n"))
    _, out = imported(capsys, path)
    assert "line 43: search-availability: metadata.annotations (implementation metadata" in out
