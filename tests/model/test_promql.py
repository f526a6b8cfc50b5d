"""obs.model.promql: whatever label values it is given, the selector it builds parses, in the Python parser
and in the real promtool, and reads back as exactly those values."""
from __future__ import annotations

import subprocess

import promql_parser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obs.emit import yaml_dump
from obs.model import promql

# Any text Python can hold in a str that is also valid UTF-8 (no lone surrogates): quotes, backslashes,
# newlines, control characters, `}` and `,`, non-ASCII.
VALUES = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True).filter(lambda n: not n.startswith("__"))


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(NAMES, VALUES, min_size=1, max_size=4))
def test_every_label_value_survives_the_selector_in_the_python_parser(labels):
    expr = promql_parser.parse(promql.selector("metric", labels, regex={"zz": "a|b\\.c"}))
    got = {m.name: m.value for m in expr.matchers.matchers}
    assert got == {**labels, "zz": "a|b\\.c"}


def test_matchers_keep_the_order_given_and_put_regex_ones_last():
    assert promql.matchers(("b", "1"), ("a", 'x"y'), regex={"c": "5.."}) == '{b="1",a="x\\"y",c=~"5.."}'
    assert promql.selector("up", {}) == "up{}"
    assert promql.sum_by(["job", "le"], promql.rate("m", "5m")) == "sum by (job, le) (rate(m[5m]))"


@pytest.mark.stack
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                               HealthCheck.function_scoped_fixture])
@given(st.lists(VALUES, min_size=50, max_size=50))
def test_the_real_promtool_parses_every_selector_and_reads_back_each_value(tool, tmp_path_factory, values):
    # One rule file per example, one recording rule per value, written by obs's own YAML dumper as the
    # generated rule files are: promtool checks them in one process, and a unit test reads each value back
    # as promtool's own engine matched it.
    rules = [{"record": f"r{i}", "expr": promql.selector("m", {"l": v})} for i, v in enumerate(values)]
    series = [{"series": promql.selector("m", {"l": v}), "values": "1"} for v in set(values)]
    checks = [{"expr": f"count(r{i})", "eval_time": "0m", "exp_samples": [{"labels": "{}", "value": 1}]}
              for i in range(len(values))]
    d = tmp_path_factory.mktemp("promql")
    (d / "rules.yml").write_text(yaml_dump.dump({"groups": [{"name": "g", "rules": rules}]}))
    (d / "test.yml").write_text(yaml_dump.dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m",
                                                "tests": [{"interval": "1m", "input_series": series,
                                                           "promql_expr_test": checks}]}))
    promtool = tool("promtool")
    check = subprocess.run([promtool, "check", "rules", "rules.yml"], cwd=d, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=d, capture_output=True, text=True)
    assert test.returncode == 0, test.stdout + test.stderr
