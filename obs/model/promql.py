"""PromQL built from parts: label matchers with escaped values, selectors, rates over windows, aggregations.

Every generator and the verifier build their selectors here, so a label value is quoted one way everywhere
(a JSON string literal, which PromQL reads as the same string). The user's own PromQL is handled apart, in
queries.py.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Literal, NamedTuple

from obs.model.durations import Duration

Op = Literal["=", "!=", "=~", "!~"]
Aggregation = Literal["sum", "min", "max", "avg", "count"]
Window = str | Duration          # a duration, or a placeholder such as Grafana's `$__rate_interval`


@lru_cache(maxsize=1 << 14)
def quote(value: str) -> str:
    """A PromQL string literal. Cached: the same label values recur thousands of times at scale."""
    return json.dumps(value, ensure_ascii=False)


class Matcher(NamedTuple):
    """One label matcher of any kind; a plain (label, value) pair given where matchers are asked for means `=`."""

    label: str
    op: Op
    value: str

    def __str__(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


def eq(label: str, value: str) -> Matcher:
    return Matcher(label, "=", value)


def ne(label: str, value: str) -> Matcher:
    return Matcher(label, "!=", value)


def match(label: str, regex: str) -> Matcher:
    return Matcher(label, "=~", regex)


def no_match(label: str, regex: str) -> Matcher:
    return Matcher(label, "!~", regex)


Pairs = Mapping[str, str] | Iterable[tuple[str, str]]
Labels = Mapping[str, str] | Iterable[tuple[str, str] | Matcher]


def _pairs(pairs: Pairs) -> Iterable[tuple[str, str]]:
    return pairs.items() if isinstance(pairs, Mapping) else pairs


def _labels(labels: Labels) -> Iterable[tuple[str, str] | Matcher]:
    return labels.items() if isinstance(labels, Mapping) else labels


def _text(m: tuple[str, str] | Matcher) -> str:
    # A plain pair is written directly: selectors are built thousands of times at scale.
    return str(m) if isinstance(m, Matcher) else f"{m[0]}={quote(m[1])}"


def matchers(*given: tuple[str, str] | Matcher, regex: Pairs = (), sep: str = ",") -> str:
    """`{a="x",b!="y",c=~"y|z"}`: the matchers given (pairs are equality ones) in their order, then the regex
    ones. `sep` is what stands between them (promtool's expected-sample labels are written with ", ")."""
    parts = [_text(m) for m in given] + [f"{k}=~{quote(v)}" for k, v in _pairs(regex)]
    return "{" + sep.join(parts) + "}"


def selector(metric: str, labels: Labels = (), regex: Pairs = ()) -> str:
    """`metric{...}` (`metric{}` without matchers, as promtool's series notation accepts)."""
    return metric + matchers(*_labels(labels), regex=regex)


def name_matching(pattern: str, *more: tuple[str, str] | Matcher) -> str:
    """`{__name__=~"pattern",...}`: every metric whose name the regex matches, e.g. a counter with or without
    its `_total` suffix."""
    return matchers(match("__name__", pattern), *more)


def rate(expr: str, window: Window) -> str:
    return f"rate({expr}[{window}])"


def increase(expr: str, window: Window) -> str:
    return f"increase({expr}[{window}])"


def aggregate(op: Aggregation, expr: str, by: Iterable[str] | None = None) -> str:
    """`op(expr)` without `by`; `op by (a, b) (expr)` with labels to keep. An empty `by` keeps none, the same
    as `op(expr)`, and is written `op (expr)`, as the SLO rules always have been."""
    if by is None:
        return f"{op}({expr})"
    labels = ", ".join(by)
    return f"{op} by ({labels}) ({expr})" if labels else f"{op} ({expr})"


def sum_(expr: str) -> str:
    return aggregate("sum", expr)


def sum_by(labels: Iterable[str], expr: str) -> str:
    return aggregate("sum", expr, by=labels)


def histogram_count(expr: str) -> str:
    return f"histogram_count({expr})"


def histogram_fraction(lower: str, upper: str, expr: str) -> str:
    return f"histogram_fraction({lower}, {upper}, {expr})"


def histogram_quantile(q: str, expr: str) -> str:
    return f"histogram_quantile({q}, {expr})"
