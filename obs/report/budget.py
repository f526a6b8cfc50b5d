"""Where each SLO's error budget stands, per group, read from the series the generated rules record.

    attained      1 - the error ratio over the SLO's period          (obs:slo_error_ratio:rate<period>)
    budget left   share of the period's error budget not yet spent  (obs:slo_error_budget_remaining:ratio)
    burn rate     the error ratio over the last 5m / the budget     (obs:slo_burn_rate:current)
    runs out in   budget left × period / burn rate: when the budget is spent if errors go on at this rate

An SLO with `group_by` has a row per group. An SLO without data (no traffic yet, or rules not loaded) has one
row saying so, rather than none: a missing row would read as healthy.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from obs.generate.slo.text import slo_selector
from obs.generate.slo.windows import period_window
from obs.model import conventions as c
from obs.model.domain import SLO, Model
from obs.verify import clients


@dataclass(frozen=True)
class BudgetRow:
    service: str
    slo: str
    group: dict[str, str]              # the group_by labels' values; empty without group_by
    objective: float                   # percent
    period: str
    attained: float | None             # ratio, e.g. 0.9993
    budget_left: float | None          # share of the period's budget left; negative once overspent
    burn_rate: float | None            # multiples of the rate that spends the budget in exactly one period
    exhausted_in_s: float | None       # at the current burn rate; None when not burning (or no data)

    @property
    def exhausted(self) -> bool:
        return self.budget_left is not None and self.budget_left <= 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exhausted": self.exhausted}


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None   # NaN, ±Inf: no number


def _by_group(slo: SLO, result: list[dict[str, Any]]) -> dict[tuple[tuple[str, str], ...], float | None]:
    return {tuple((g, str(r["metric"].get(g, ""))) for g in slo.group_by): _float(r["value"][1]) for r in result}


def exhausted_in(budget_left: float | None, burn_rate: float | None, period_s: float) -> float | None:
    if budget_left is None or burn_rate is None or burn_rate <= 0:
        return None
    return max(0.0, budget_left) * period_s / burn_rate


def rows_for(prom: clients.Prometheus, slo: SLO) -> list[BudgetRow]:
    sel = slo_selector(slo)
    ratio = _by_group(slo, prom.query(f"{c.slo_error_ratio(str(period_window(slo)))}{sel}"))
    left = _by_group(slo, prom.query(f"{c.SLO_BUDGET_REMAINING}{sel}"))
    burn = _by_group(slo, prom.query(f"{c.SLO_BURN_RATE_CURRENT}{sel}"))
    groups = sorted(set(ratio) | set(left) | set(burn)) or [tuple((g, "") for g in slo.group_by)]
    rows = []
    for group in groups:
        r, b, rate = ratio.get(group), left.get(group), burn.get(group)
        rows.append(BudgetRow(slo.service, slo.name, dict(group), float(slo.objective), str(slo.period),
                              None if r is None else 1 - r, b, rate, exhausted_in(b, rate, slo.period.s)))
    return rows


def budget_rows(model: Model, prom: clients.Prometheus) -> list[BudgetRow]:
    """Every SLO of the spec, in spec order; raises clients.Unreachable when Prometheus does not answer."""
    return [row for slo in model.slos for row in rows_for(prom, slo)]
