"""PromQL built from parts: label matchers with escaped values, selectors, rates over windows, sums.

Every generator and the verifier build their selectors here, so a label value is quoted one way everywhere
(a JSON string literal, which PromQL reads as the same string). The user's own PromQL is handled apart, in
queries.py.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache

Pairs = Mapping[str, str] | Iterable[tuple[str, str]]


@lru_cache(maxsize=1 << 14)
def quote(value: str) -> str:
    """A PromQL string literal. Cached: the same label values recur thousands of times at scale."""
    return json.dumps(value, ensure_ascii=False)


def _pairs(labels: Pairs) -> Iterable[tuple[str, str]]:
    return labels.items() if isinstance(labels, Mapping) else labels


def matchers(*equal: tuple[str, str], regex: Pairs = ()) -> str:
    """`{a="x",b=~"y|z"}`: equality matchers first, then regex ones, in the order given."""
    parts = [f"{k}={quote(v)}" for k, v in equal] + [f"{k}=~{quote(v)}" for k, v in _pairs(regex)]
    return "{" + ",".join(parts) + "}"


def selector(metric: str, labels: Pairs = (), regex: Pairs = ()) -> str:
    """`metric{...}` (`metric{}` without matchers, as promtool's series notation accepts)."""
    return metric + matchers(*_pairs(labels), regex=regex)


def rate(expr: str, window: str) -> str:
    return f"rate({expr}[{window}])"


def increase(expr: str, window: str) -> str:
    return f"increase({expr}[{window}])"


def sum_by(labels: Iterable[str], expr: str) -> str:
    return f"sum by ({', '.join(labels)}) ({expr})"
