"""`obs test`: generates the rules and suites, runs the real promtool, reports, and exits as CI expects."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from obs.cli import main
from obs.generate.slo import alerts as slo_alerts
from obs.model import conventions as c

SPEC = """\
version: obs/v1
project: small
services:
  - name: web
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli: {availability: {}}
"""


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "obs.yaml"
    path.write_text(SPEC)
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["test", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_teaches_by_example(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "Examples:" in out and "obs test --format json" in out


@pytest.mark.stack   # the real promtool; no stack is started
def test_a_passing_spec_reports_every_rules_file_and_suite_as_json_and_exits_0(spec, capsys):
    code, out, _ = run(capsys, str(spec), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    runs = {(r["kind"], r["file"]) for r in doc["results"]}
    assert ("check", c.rules_file("web")) in runs and ("test", c.rule_test_file("web")) in runs
    assert ("check", c.PIPELINE_RULES_FILE) in runs
    assert all(r["ok"] for r in doc["results"])


@pytest.mark.stack   # the real promtool; no stack is started
def test_out_keeps_the_rules_and_suites_where_promtool_ran_them(spec, tmp_path, capsys):
    out_dir = tmp_path / "build"
    code, out, _ = run(capsys, str(spec), "--out", str(out_dir))
    assert code == 0 and "all passed" in out
    assert (out_dir / c.rules_file("web")).is_file() and (out_dir / c.rule_test_file("web")).is_file()


@pytest.mark.stack   # the real promtool; no stack is started
def test_a_failing_suite_is_shown_and_exits_1(spec, capsys, monkeypatch):
    """Rules whose thresholds are ten times too strict fire where the suite says they must not."""
    real = slo_alerts.burn_expr

    def too_strict(slo, tier):
        return real(slo, tier).replace(f"> {slo_alerts.num(slo_alerts.threshold(slo, tier))}\n",
                                       f"> {slo_alerts.num(slo_alerts.threshold(slo, tier) / 10)}\n")

    monkeypatch.setattr(slo_alerts, "burn_expr", too_strict)
    code, out, _ = run(capsys, str(spec))
    assert code == 1
    assert f"FAIL  test   {c.rule_test_file('web')}" in out and "just under budget" in out
    assert "1 failed" in out


def test_a_bad_spec_exits_2(tmp_path, capsys):
    bad = tmp_path / "obs.yaml"
    bad.write_text(SPEC.replace("99.9", "100"))
    code, _, err = run(capsys, str(bad))
    assert code == 2 and "objective" in err


TEMPLATED = "version: obs/v1\nproject: small\nservices:\n" + "".join(f"""\
  - name: shop-{name}
    team: shop
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli: {{availability: {{}}}}
""" for name in ("api", "web", "etl", "ops"))


@pytest.mark.stack   # the real promtool; no stack is started
def test_services_of_one_template_run_promtool_once_for_the_shape_and_every_one_with_every_service(tmp_path,
                                                                                                     capsys):
    spec = tmp_path / "obs.yaml"
    spec.write_text(TEMPLATED)
    code, out, _ = run(capsys, str(spec), "--format", "json")
    results = {r["file"]: r for r in json.loads(out)["results"]}
    assert code == 0 and all(r["ok"] for r in results.values())
    files = {(kind, f(f"shop-{n}")) for n in ("api", "web", "etl", "ops")
             for kind, f in (("check", c.rules_file), ("test", c.rule_test_file))}
    assert files <= {(r["kind"], r["file"]) for r in results.values()}   # every file is reported
    taken = {f: r["same_as"] for f, r in results.items() if r["same_as"]}
    # the stamped members take the result of the first of them; the members rendered to prove the stamp run
    assert taken and all(results[other]["same_as"] is None and results[other]["seconds"] > 0 for other in taken.values())
    assert {r["kind"] for f, r in results.items() if f in taken} == {"check", "test"}

    code, out, _ = run(capsys, str(spec), "--every-service", "--format", "json")
    assert code == 0 and not any(r["same_as"] for r in json.loads(out)["results"])
