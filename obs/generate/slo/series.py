"""Synthetic input series for an SLO's promtool tests: traffic in, counters its SLI reads out.

Availability and latency SLIs read series obs defines, so they are synthesised exactly.
For events and raw SLIs, whose queries the user writes, the selectors in those queries
are parsed and one failing and one passing series are built to match them; a query
too complex for that raises Unsynthesisable with the reason, and its tests are reduced.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import promql_parser
from promql_parser import AggregateExpr, BinaryExpr, Call, Expr, ParenExpr, VectorSelector

from obs.generate.slo.sli import with_window
from obs.generate.slo.text import num
from obs.model import conventions as c
from obs.model.domain import SLO, Histogram
from obs.model.kinds import SliKind
from obs.model.promql import matchers

GROUP_VALUE = "obs-test"
FASTEST_BUCKET = -12          # schema 0: (2^-13, 2^-12] s
# Candidate label values tried against a regex matcher, after the regex's own alternatives.
_CANDIDATES = ("500", "503", "5xx", "failure", "error", "failed", "miss", "true", "false", "bad", "good", "ok",
               "success", "hit", "200", "obs-test")
_OTHER = ("obs-test-other", "200", "success", "ok", "hit", "good", "0")
_PLAIN_NODES = {"AggregateExpr", "Call", "MatrixSelector", "VectorSelector", "ParenExpr"}
_COUNTER_FUNCS = {"rate", "increase", "irate"}


class Unsynthesisable(Exception):
    """The SLI's query is beyond what obs can feed with synthetic series; the message says why."""


@dataclass(frozen=True)
class Segment:
    minutes: int
    per_minute: Decimal           # events per minute
    error_ratio: Decimal          # share of them failing


Share = Callable[[Segment], Decimal]          # the events of a segment a series counts, per minute
Selector = list[tuple[str, str, str]]         # (label name, match operator, value) of one vector selector


def counter(segments: list[Segment], share: Share) -> str:
    """promtool's expanding notation for a counter that grows by share(segment) each minute from 0."""
    return _counter(tuple(segments), share)


# The series' values depend only on the segments and the shares (module-level functions), which the same SLO
# shapes repeat service after service: each text is built once.
@lru_cache(maxsize=1024)
def _counter(segments: tuple[Segment, ...], share: Share) -> str:
    parts, value = ["0"], Decimal(0)
    for s in segments:
        step = share(s)
        parts.append(f"{num(value + step)}+{num(step)}x{s.minutes - 1}")
        value += step * s.minutes
    return " ".join(parts)


def native_counter(segments: list[Segment], buckets: list[tuple[int, Share]]) -> str:
    """The same counter as a native histogram (schema 0: bucket i holds (2^(i-1), 2^i] seconds).

    `buckets` pairs a bucket index with the share of each segment's events observed in it."""
    return _native_counter(tuple(segments), tuple(buckets))


@lru_cache(maxsize=1024)
def _native_counter(segments: tuple[Segment, ...], buckets: tuple[tuple[int, Share], ...]) -> str:
    ordered = sorted(buckets, key=lambda b: b[0])
    low, high = ordered[0][0], ordered[-1][0]

    def hist(shares: dict[int, Decimal]) -> str:
        counts = [shares.get(i, Decimal(0)) for i in range(low, high + 1)]
        total = sum(counts, Decimal(0))
        body = " ".join(num(n) for n in counts)
        return f"{{{{schema:0 count:{num(total)} sum:{num(total)} offset:{low} buckets:[{body}]}}}}"

    parts, value = [hist({})], dict.fromkeys((i for i, _ in ordered), Decimal(0))
    for seg in segments:
        step = {i: share(seg) for i, share in ordered}
        parts.append(f"{hist({i: value[i] + step[i] for i in value})}+{hist(step)}x{seg.minutes - 1}")
        for i in value:
            value[i] += step[i] * seg.minutes
    return " ".join(parts)


def threshold_buckets(threshold_s: float) -> tuple[int, int]:
    """Schema-0 buckets wholly under and wholly over a threshold, so histogram_fraction splits them exactly."""
    exponent = math.log2(threshold_s)
    return math.floor(exponent), math.ceil(exponent) + 1


def _good(s: Segment) -> Decimal:
    return s.per_minute * (1 - s.error_ratio)


def _bad(s: Segment) -> Decimal:
    return s.per_minute * s.error_ratio


def _total(s: Segment) -> Decimal:
    return s.per_minute


def _series(name: str, labels: dict[str, str]) -> str:
    return name + (matchers(*sorted(labels.items())) if labels else "")


def series_for(slo: SLO, segments: list[Segment], group: str = GROUP_VALUE,
               le_form: str | None = None) -> list[dict[str, Any]]:
    """Input series feeding `segments` to the SLO's SLI, for one value of its group_by labels."""
    groups = {g: group for g in slo.group_by}
    kind = slo.sli.kind
    if kind in (SliKind.AVAILABILITY, SliKind.LATENCY) and slo.sli.histogram is Histogram.NATIVE:
        own = {c.SERVICE_NAME_LABEL: slo.service, **groups}
        if kind == SliKind.AVAILABILITY:
            # Under 0.25 ms: faster than any latency threshold (whole milliseconds), so the same service's
            # latency SLO reads these requests as fast and stays quiet in availability scenarios.
            return [{"series": _series(c.HTTP_DURATION, {**own, c.HTTP_STATUS_LABEL: status}),
                     "values": native_counter(segments, [(FASTEST_BUCKET, share)])}
                    for status, share in (("200", _good), ("500", _bad))]
        assert slo.sli.threshold is not None
        fast, slow = threshold_buckets(slo.sli.threshold.s)
        return [{"series": _series(c.HTTP_DURATION, own),
                 "values": native_counter(segments, [(fast, _good), (slow, _bad)])}]
    if kind in (SliKind.AVAILABILITY, SliKind.LATENCY):
        own = {c.SERVICE_NAME_LABEL: slo.service, **groups}
        name = c.HTTP_DURATION
        if kind == SliKind.AVAILABILITY:
            pairs = [(_series(f"{name}_count", {**own, c.HTTP_STATUS_LABEL: "200"}), _good),
                     (_series(f"{name}_count", {**own, c.HTTP_STATUS_LABEL: "500"}), _bad)]
        else:
            le = le_form or slo.sli.threshold_le
            assert le is not None   # the model gives every classic latency SLI its bucket
            # +Inf holds every request: a matcher that caught it too would count slow requests as fast.
            pairs = [(_series(f"{name}_count", own), _total), (_series(f"{name}_bucket", {**own, "le": le}), _good),
                     (_series(f"{name}_bucket", {**own, "le": "+Inf"}), _total)]
        return [{"series": s, "values": counter(segments, share)} for s, share in pairs]
    bad_q, total_q = _queries(slo)
    return [{"series": s, "values": counter(segments, share)} for s, share in _user_pairs(bad_q, total_q, groups)]


def _queries(slo: SLO) -> tuple[str, str]:
    if slo.sli.kind == SliKind.EVENTS:
        return with_window(slo.sli.error_query or ""), with_window(slo.sli.total_query or "")
    expr = promql_parser.parse(with_window(slo.sli.error_ratio_query or ""))
    while isinstance(expr, ParenExpr):
        expr = expr.expr
    if not isinstance(expr, BinaryExpr) or str(expr.op) != "/":
        raise Unsynthesisable("the raw error-ratio query is not a division of an error count by a total count")
    return str(expr.lhs), str(expr.rhs)


def _selector(query: str, role: str) -> Selector:
    nodes: list[Expr] = []
    promql_parser.walk(promql_parser.parse(query), pre_visit=lambda n: nodes.append(n))
    kinds = {type(n).__name__ for n in nodes}
    selectors = [n for n in nodes if isinstance(n, VectorSelector)]
    calls = [n.func.name for n in nodes if isinstance(n, Call)]
    if not kinds <= _PLAIN_NODES or len(selectors) != 1 or not set(calls) <= _COUNTER_FUNCS or len(calls) != 1:
        raise Unsynthesisable(f"the {role} query is not a single rate()/increase() of one selector, optionally "
                              f"aggregated: {query}")
    aggs = [n.op for n in nodes if isinstance(n, AggregateExpr)]
    if any(str(a) != "sum" for a in aggs):
        raise Unsynthesisable(f"the {role} query aggregates with something other than sum: {query}")
    vs = selectors[0]
    if vs.matchers.or_matchers:
        raise Unsynthesisable(f"the {role} query uses `or` matchers: {query}")
    ms = [(m.name, str(m.op).split(".")[-1], m.value) for m in vs.matchers.matchers]
    if vs.name:
        ms.append(("__name__", "Equal", vs.name))
    return ms


def _matches(labels: dict[str, str], ms: Selector) -> bool:
    def one(name: str, op: str, value: str) -> bool:
        have = labels.get(name, "")
        if op in ("Equal", "NotEqual"):
            return (have == value) == (op == "Equal")
        return (re.fullmatch(value, have) is not None) == (op == "Re")
    return all(one(*m) for m in ms)


def _concrete(ms: Selector, base: dict[str, str]) -> dict[str, str] | None:
    """Labels satisfying every matcher, or None."""
    labels = dict(base)
    for name, op, value in ms:
        if op == "Equal":
            if labels.get(name, value) != value:
                return None
            labels[name] = value
        elif op == "Re" and not _matches(labels, [(name, op, value)]):
            alternatives = [a for a in value.split("|") if re.fullmatch(r"[\w.:/-]+", a)]
            pick = next((v for v in (*alternatives, *_CANDIDATES) if re.fullmatch(value, v)), None)
            if pick is None or name in base:
                return None
            labels[name] = pick
    for name, op, value in ms:
        if op in ("NotEqual", "NotRe") and not _matches(labels, [(name, op, value)]):
            pick = next((v for v in _OTHER if _matches({**labels, name: v}, [(name, op, value)])), None)
            if pick is None:
                return None
            labels[name] = pick
    return labels if _matches(labels, ms) else None


def _user_pairs(bad_q: str, total_q: str, groups: dict[str, str]) -> list[tuple[str, Share]]:
    return list(_user_pairs_of(bad_q, total_q, tuple(groups.items())))


# Every scenario of an SLO feeds the same queries: parsed and matched once (an error is raised again each time).
@lru_cache(maxsize=64)
def _user_pairs_of(bad_q: str, total_q: str, group_items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, Share], ...]:
    groups = dict(group_items)
    bad_ms, total_ms = _selector(bad_q, "error"), _selector(total_q, "total")
    shared = dict(groups)
    if any(m[0] == "__name__" for m in bad_ms) and dict((m[0], m[2]) for m in bad_ms if m[0] == "__name__") == \
            dict((m[0], m[2]) for m in total_ms if m[0] == "__name__"):
        # One metric: the failing series must also be counted by the total query.
        bad = _concrete(bad_ms + total_ms, shared)
        good = _violating(bad_ms, total_ms, shared)
        if bad is None or good is None:
            raise Unsynthesisable("no label values satisfy both queries' selectors")
        pairs = [(bad, _bad), (good, _good)]
    else:
        bad, total = _concrete(bad_ms, shared), _concrete(total_ms, shared)
        if bad is None or total is None or _matches(total, bad_ms) or _matches(bad, total_ms):
            raise Unsynthesisable("the error and total selectors cannot be told apart by synthetic labels")
        pairs = [(bad, _bad), (total, _total)]
    return tuple((_series(labels.pop("__name__"), labels), share) for labels, share in pairs)


def _violating(bad_ms: Selector, total_ms: Selector, base: dict[str, str]) -> dict[str, str] | None:
    """A series the total query counts and the error query does not."""
    for name, _op, _value in bad_ms:
        if name == "__name__" or any(m[0] == name for m in total_ms):
            continue
        for other in _OTHER:
            labels = _concrete(total_ms, {**base, name: other})
            if labels is not None and not _matches(labels, bad_ms):
                return labels
    return None


def classic_instance(slo: SLO, segments: list[Segment], with_threshold: bool,
                     group: str = GROUP_VALUE) -> list[dict[str, Any]]:
    """A second instance sending classic buckets (a Node.js SDK, another layout mid-rollout), with or without a
    bucket at the latency threshold."""
    own = {c.SERVICE_NAME_LABEL: slo.service, "instance": "classic-instance", **{g: group for g in slo.group_by}}
    pairs = [(_series(f"{c.HTTP_DURATION}_count", own), _total),
             (_series(f"{c.HTTP_DURATION}_bucket", {**own, "le": "+Inf"}), _total)]
    if with_threshold:
        assert slo.sli.threshold_le is not None
        pairs.append((_series(f"{c.HTTP_DURATION}_bucket", {**own, "le": slo.sli.threshold_le}), _good))
    return [{"series": s, "values": counter(segments, share)} for s, share in pairs]
