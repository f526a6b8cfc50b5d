"""Small text helpers the SLO generators share: exact numbers, selectors, aggregations."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from obs.model import conventions as c
from obs.model import promql
from obs.model.domain import SLO


@lru_cache(maxsize=1 << 12)
def num(d: Decimal | int) -> str:
    """A Decimal as PromQL/YAML reads it, exactly: 0.0144, 14.4, 2592000 (never 1.44E-2 or float noise).

    Cached: equal numbers (1, 1.0, Decimal(1)) hash alike and normalise alike, and the same few recur per SLO."""
    return format(Decimal(d).normalize(), "f")


def percent(ratio: Decimal, places: str = "0.01") -> str:
    """A ratio as a percentage rounded for people: 0.02 -> 2, 3/7 -> 42.86."""
    return num((ratio * 100).quantize(Decimal(places)))


def slo_selector(slo: SLO) -> str:
    """Selects exactly one SLO's recorded series."""
    return _selector(slo.service, slo.name)


@lru_cache(maxsize=1 << 10)
def _selector(service: str, name: str) -> str:
    # Every rule, check and panel of an SLO asks for it: dozens of times per SLO.
    return promql.matchers((c.LABEL_SERVICE, service), (c.LABEL_SLO, name))


def sum_by(slo: SLO, expr: str) -> str:
    """Aggregate to the SLO's group_by labels, so per-group SLOs keep them and others drop the rest."""
    return promql.sum_by(slo.group_by, expr)


def on_groups(slo: SLO) -> str:
    return f"on({', '.join(slo.group_by)})"


def rule_labels(slo: SLO) -> dict[str, str]:
    return {c.LABEL_SERVICE: slo.service, c.LABEL_SLO: slo.name}
