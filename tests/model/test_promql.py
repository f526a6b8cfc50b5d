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
from obs.model.durations import Duration

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


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(NAMES, st.sampled_from([promql.eq, promql.ne]), VALUES), min_size=1, max_size=4,
                unique_by=lambda t: t[0]))
def test_every_value_survives_an_equality_or_inequality_matcher_with_its_operator(given_matchers):
    ms = [make(name, value) for name, make, value in given_matchers]
    expr = promql_parser.parse(promql.selector("metric", ms))
    got = [(m.name, str(m.op).split(".")[-1], m.value) for m in expr.matchers.matchers]
    assert got == [(m.label, {"=": "Equal", "!=": "NotEqual"}[m.op], m.value) for m in ms]


MATCHERS = [
    (promql.matchers(promql.ne("job", "verify")), '{job!="verify"}'),
    (promql.matchers(promql.match("code", "5..")), '{code=~"5.."}'),
    (promql.matchers(promql.no_match("processor", "filter.*")), '{processor!~"filter.*"}'),
    (promql.matchers(("a", "1"), promql.ne("b", ""), regex={"c": "x|y"}), '{a="1",b!="",c=~"x|y"}'),
    (promql.matchers(("a", "1"), ("b", "2"), sep=", "), '{a="1", b="2"}'),
    (promql.matchers(promql.match("le", "1|1\\.0")), '{le=~"1|1\\\\.0"}'),
    (str(promql.eq("job", 'x"y')), 'job="x\\"y"'),
    (promql.selector("up", [("job", "a"), promql.ne("instance", "b")]), 'up{job="a",instance!="b"}'),
    (promql.selector("up", regex={"job": "a|b"}), 'up{job=~"a|b"}'),
    (promql.name_matching("m_sent(_total)?"), '{__name__=~"m_sent(_total)?"}'),
    (promql.name_matching("obs:.+", ("service", "api"), promql.no_match("p", "f.*")),
     '{__name__=~"obs:.+",service="api",p!~"f.*"}'),
]


@pytest.mark.parametrize(("built", "expected"), MATCHERS, ids=[e for _, e in MATCHERS])
def test_each_kind_of_matcher_is_written_with_its_operator_and_a_quoted_value(built, expected):
    assert built == expected


FUNCTIONS = [
    (promql.rate("m{}", "5m"), "rate(m{}[5m])"),
    (promql.rate("m", Duration.parse("90s")), "rate(m[1m30s])"),
    (promql.rate("m", "$__rate_interval"), "rate(m[$__rate_interval])"),
    (promql.rate("m", "{{window}}"), "rate(m[{{window}}])"),
    (promql.increase("m", Duration.parse("5m")), "increase(m[5m])"),
    (promql.sum_("x"), "sum(x)"),
    (promql.sum_by(["job", "le"], "x"), "sum by (job, le) (x)"),
    (promql.sum_by([], "x"), "sum (x)"),
    (promql.aggregate("max", "x"), "max(x)"),
    (promql.aggregate("count", "x", by=("a",)), "count by (a) (x)"),
    (promql.aggregate("min", "x", by=()), "min (x)"),
    (promql.histogram_count("rate(m[5m])"), "histogram_count(rate(m[5m]))"),
    (promql.histogram_fraction("0", "0.3", "x"), "histogram_fraction(0, 0.3, x)"),
    (promql.histogram_quantile("0.95", "sum by (le) (x)"), "histogram_quantile(0.95, sum by (le) (x))"),
]


@pytest.mark.parametrize(("built", "expected"), FUNCTIONS, ids=[e for _, e in FUNCTIONS])
def test_functions_and_aggregations_are_written_as_the_generated_rules_spell_them(built, expected):
    assert built == expected


@settings(max_examples=200)
@given(st.sampled_from(["sum", "min", "max", "avg", "count"]),
       st.lists(NAMES, max_size=4, unique=True), st.sampled_from([None, "by"]))
def test_every_aggregation_parses_and_keeps_exactly_the_labels_asked_for(op, labels, by):
    built = promql.aggregate(op, promql.rate(promql.selector("m", {"a": "b"}), "5m"),
                             by=labels if by else None)
    expr = promql_parser.parse(built)
    assert isinstance(expr, promql_parser.AggregateExpr)
    assert str(expr.op).split(".")[-1].lower() == op
    kept = list(expr.modifier.labels) if expr.modifier else []
    assert kept == (labels if by else [])


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



@pytest.mark.parametrize("query", ["sum(rate(x[5m]))", "  a\r\nor b  \n", "a\u2028/ b", 'x{a="b"}\n/ y', "a\n\n\nb",
                                   "\tsum by (le) (x)\t"])
def test_a_query_without_a_comment_strips_to_what_the_comment_stripper_makes_of_it(query):
    # strip_comments skips the character scan where there is no `#`: the result must be the scan's.
    from obs.model import queries
    assert queries.strip_comments(query) == queries._without_comments("\n".join(query.strip().splitlines()))
