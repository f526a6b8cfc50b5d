"""The PromQL checks the generated promtool tests make, as promql_expr_test / alert_rule_test entries."""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from obs.generate.slo.alerts import burn_alert, burn_labels
from obs.model import conventions as c
from obs.model.domain import SLO, Model
from obs.model.durations import Duration
from obs.model.promql import matchers, name_matching
from obs.model.windows import Tier


@lru_cache(maxsize=1 << 12)
def at(minute: int) -> str:
    return str(Duration(minute * 60_000))


def alerts(slo: SLO, alertname: str | None = c.SLO_BURN_ALERT, firing: bool = False,
           labels: Mapping[str, str] | None = None) -> str:
    """The SLO's ALERTS series. `labels` is a mapping, not keywords: a group_by label may be named `firing`."""
    pairs = [("alertname", alertname)] if alertname else []
    pairs += [(c.LABEL_SERVICE, slo.service), (c.LABEL_SLO, slo.name), *sorted((labels or {}).items())]
    if firing:
        pairs.append(("alertstate", "firing"))
    return "ALERTS" + matchers(*pairs)


def never(selector: str, minute: int) -> dict[str, Any]:
    """Nothing matching `selector` was pending or firing at any evaluation up to `minute`."""
    return {"expr": f"count_over_time({selector}[{at(minute)}])", "eval_time": at(minute), "exp_samples": []}


def nothing(expr: str, minute: int) -> dict[str, Any]:
    return {"expr": expr, "eval_time": at(minute), "exp_samples": []}


def one(expr: str, minute: int) -> dict[str, Any]:
    """`count(expr)` is exactly 1: the condition holds for the SLO's single test series."""
    return {"expr": f"count({expr})", "eval_time": at(minute), "exp_samples": [{"labels": "{}", "value": 1}]}


def tier_firing(slo: SLO, tier: Tier, minute: int) -> dict[str, Any]:
    by = f"{c.LABEL_TIER}, {c.LABEL_SEVERITY}"
    # A page and a ticket tier may share a long window (so a burnrate_tier); severity tells them apart.
    sel = alerts(slo, firing=True, labels={c.LABEL_TIER: tier.name, c.LABEL_SEVERITY: tier.severity})
    labels = matchers((c.LABEL_TIER, tier.name), (c.LABEL_SEVERITY, tier.severity), sep=", ")
    return {"expr": f"count by ({by}) ({sel})", "eval_time": at(minute),
            "exp_samples": [{"labels": labels, "value": 1}]}


def not_finite(slo: SLO, minute: int) -> dict[str, Any]:
    """Every recorded series of the SLO that is NaN or ±Inf. Names are copied to a label first:
    set operators match on labels without the name, and the SLO's series share their labels."""
    sel = name_matching("obs:slo_.+", (c.LABEL_SERVICE, slo.service), (c.LABEL_SLO, slo.name))
    named = f'label_replace({sel}, "rule", "$1", "__name__", "(.+)")'
    return nothing(f"{named}\nunless\n{named} > -Inf < Inf", minute)


def ratios_absent(slo: SLO, minute: int) -> dict[str, Any]:
    return nothing(name_matching("obs:slo_error_ratio:.+", (c.LABEL_SERVICE, slo.service), (c.LABEL_SLO, slo.name)),
                   minute)


def expected_burn_alert(model: Model, slo: SLO, tier: Tier, groups: dict[str, str]) -> dict[str, Any]:
    rule = burn_alert(model, slo, tier)
    return {"exp_labels": {**groups, **burn_labels(model, slo, tier)}, "exp_annotations": rule["annotations"]}


def firing_exactly(alertname: str, expected: list[dict[str, Any]], minute: int, **match: str) -> dict[str, Any]:
    """The alert_rule_test `expected` as a check of the ALERTS series: labels only, for alerts whose
    annotations are templates that only Prometheus can expand."""
    state = {"alertname": alertname, "alertstate": "firing"}
    samples = [{"labels": "ALERTS" + matchers(*sorted({**e["exp_labels"], **state}.items())), "value": 1}
               for e in expected]
    return {"expr": "ALERTS" + matchers(*[*state.items(), *sorted(match.items())]), "eval_time": at(minute),
            "exp_samples": samples}


def alert_test(alertname: str, exact: bool, expected: list[dict[str, Any]], minute: int,
               **match: str) -> tuple[str, dict[str, Any]]:
    """("alert_rule_test" or "promql_expr_test", the entry) proving exactly `expected` fires at `minute`.

    An alert_rule_test states every alert of that name in the file, annotations included: `exact` says
    that is possible (no templated annotations, no other SLO reading the same series)."""
    if not exact:
        return "promql_expr_test", firing_exactly(alertname, expected, minute, **match)
    return "alert_rule_test", {"eval_time": at(minute), "alertname": alertname, "exp_alerts": expected}
