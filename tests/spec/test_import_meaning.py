"""Imports keep their meaning: a good/total SLO reads 1 in a total outage, evaluated by the real promtool
on the rules obs generates from the import."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from obs.cli import main
from obs.emit import yaml_dump
from obs.model import conventions as c
from tests.support.paths import FIXTURES

GOOD_TOTAL = FIXTURES / "openslo" / "good-total.yaml"
SERVICE = "shop"
METRIC = "shop_requests_total"


def imported(capsys, path: Path) -> dict:
    code = main(["import", "openslo", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return YAML(typ="safe", pure=True).load(out.out)


def generate(capsys, tmp_path: Path, spec: dict) -> Path:
    """The rules file obs generates from `spec`."""
    path = tmp_path / "obs.yaml"
    path.write_text(yaml_dump.dump(spec))
    code = main(["generate", str(path), "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return tmp_path / "out" / c.ALERTS_DIR / f"{SERVICE}.rules.yml"


def series(route: str, code: str, values: str) -> dict:
    return {"series": f'{METRIC}{{route="{route}",code="{code}"}}', "values": values}


# (scenario, input series at 1m, the 5m error ratio at 10m: a number, or None for absent).
# 60 requests a minute is 1/s; a failing route in an outage has no good series at all.
SCENARIOS = [
    ("a total outage with no good series at all", [series("/pay", "500", "0+60x20")], 1),
    ("a total outage where the good series is present but flat",
     [series("/pay", "200", "600x20"), series("/pay", "500", "0+60x20")], 1),
    ("a total outage after the good series went stale",
     [series("/pay", "200", "0+60x2 _x18"), series("/pay", "500", "0+60x20")], 1),
    ("one route down while another is healthy",
     [series("/pay", "500", "0+60x20"), series("/cart", "200", "0+60x20")], 0.5),
    ("10% of requests failing", [series("/pay", "200", "0+54x20"), series("/pay", "500", "0+6x20")], 0.1),
    ("no failures", [series("/pay", "200", "0+60x20")], 0),
    ("no traffic on existing series", [series("/pay", "200", "600x20"), series("/pay", "500", "60x20")], None),
    ("no series at all", [], None),
]


def suite(rules: Path, slo: str) -> str:
    tests = []
    for name, inputs, ratio in SCENARIOS:
        expr = f'round(obs:slo_error_ratio:rate5m{{service="{SERVICE}",slo="{slo}"}}, 0.0001)'
        expected = [] if ratio is None else [{"labels": f'{{service="{SERVICE}",slo="{slo}"}}', "value": ratio}]
        tests.append({"name": name, "interval": "1m", "input_series": inputs or [series("/x", "200", "_x20")],
                      "promql_expr_test": [{"expr": f"# {name}\n{expr}", "eval_time": "10m",
                                            "exp_samples": expected}]})
    return yaml_dump.dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests})


def run_suite(promtool: Path, rules: Path, slo: str) -> subprocess.CompletedProcess:
    (rules.parent / "meaning.test.yml").write_text(suite(rules, slo))
    return subprocess.run([str(promtool), "test", "rules", "meaning.test.yml"], cwd=rules.parent,
                          capture_output=True, text=True)


@pytest.mark.parametrize("slo", ["checkout-counted", "checkout-windowed"])
@pytest.mark.stack
def test_a_good_total_slo_records_error_ratio_1_in_a_total_outage_and_none_without_traffic(capsys, tmp_path,
                                                                                           promtool, slo):
    rules = generate(capsys, tmp_path, imported(capsys, GOOD_TOTAL))
    done = run_suite(promtool, rules, slo)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.stack
def test_the_naive_total_minus_good_reads_0_in_an_outage_so_the_suite_can_fail(capsys, tmp_path, promtool):
    spec = imported(capsys, GOOD_TOTAL)
    slo = spec["services"][0]["slos"][1]
    events = slo["sli"]["events"]
    good = 'sum(rate(shop_requests_total{code!~"5.."}[{{window}}]))'
    events["error_query"] = f"({events['total_query']})\n-\n({good})"
    done = run_suite(promtool, generate(capsys, tmp_path, spec), slo["name"])
    assert done.returncode != 0
    failed = done.stdout + done.stderr
    assert "# a total outage with no good series at all" in failed and "# 10% of requests failing" not in failed


def test_the_generated_rule_says_how_good_total_became_an_error_ratio(capsys, tmp_path):
    rules = generate(capsys, tmp_path, imported(capsys, GOOD_TOTAL)).read_text()
    assert "# OpenSLO good/total imported as errors = total - good; a missing good series counts as 0," in rules
    assert "an outage with only failing series reads error ratio 1" in rules


def test_good_and_total_summed_by_different_labels_are_refused_at_good(capsys, tmp_path):
    text = GOOD_TOTAL.read_text().replace('query: sum by (route) (shop_requests_total)',
                                          'query: sum(shop_requests_total)')
    path = tmp_path / "slo.yaml"
    path.write_text(text)
    code = main(["import", "openslo", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:15:" in err and "good is summed by (route) but total by ()" in err
