"""SLO recording and alerting rules: one file per service, two groups per SLO.

    <slo>-short   every evaluation_interval: the 5m rates (the only rules reading raw data), the
                  windows up to 1h tiled from them, then one burn-rate alert per tier and a no-data
                  alert. In one group, an alert reads the 5m and 1h values written moments before
                  it, not those of the previous evaluation as a separate group would.
    <slo>-long    every slo_long_interval: the longer windows and the budget period, then the
                  metadata: objective, budget, period, budget remaining, current burn rate

Every window W records errors_W and events_W (per-second rates) and
error_ratio_W = errors_W / (events_W > 0): absent, never NaN or Inf, without traffic.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any, cast

from obs.emit.yaml_dump import Shared
from obs.generate import units
from obs.generate.common import Inputs, Later, every_service, per_model, yaml
from obs.generate.slo.alerts import alert_rules
from obs.generate.slo.sli import base_rules
from obs.generate.slo.text import num, rule_labels, slo_selector
from obs.generate.slo.windows import Piece, is_short, period_window, tiling
from obs.generate.units import Part
from obs.model import conventions as c
from obs.model.domain import SLO, Model, Service
from obs.model.durations import Duration
from obs.model.windows import BASE_WINDOW

KINDS = ("short", "long")
# Duration -> its text; tiled() prints a handful of windows and offsets over and over.
_text = lru_cache(maxsize=256)(str)


def tiled(name: Callable[[str], str], slo: SLO, pieces: list[Piece], window: Duration) -> str:
    """The rate over `window` as the length-weighted sum of its pieces; a piece with no data yet counts
    as nothing in errors and events alike, so the ratio is that of the data there is (as rate() does)."""
    sel = slo_selector(slo)
    unit = pieces[0].window.ms if len({p.window for p in pieces}) == 1 else BASE_WINDOW.ms
    terms = []
    for i, p in enumerate(pieces):
        lookup = f"{name(_text(p.window))}{sel}" + (f" offset {_text(p.offset)}" if p.offset.ms else "")
        weight = p.window.ms // unit
        term = f'label_replace({lookup}, "{c.LABEL_PIECE}", "{i}", "", "")'
        terms.append(term + (f" * {weight}" if weight > 1 else ""))
    body = "\n  or ".join(terms)
    return f"sum without ({c.LABEL_PIECE}) (\n  {body}\n) / {window.ms // unit}"


def ratio(slo: SLO, window: Duration) -> str:
    sel = slo_selector(slo)
    return f"{c.slo_errors(str(window))}{sel}\n/ ({c.slo_events(str(window))}{sel} > 0)"


def _record(name: str, expr: str, slo: SLO) -> dict[str, Any]:
    return {"record": name, "expr": expr, "labels": rule_labels(slo)}


def window_rules(slo: SLO, window: Duration, pieces: list[Piece]) -> list[dict[str, Any]]:
    w = str(window)
    return [_record(c.slo_errors(w), tiled(c.slo_errors, slo, pieces, window), slo),
            _record(c.slo_events(w), tiled(c.slo_events, slo, pieces, window), slo),
            _record(c.slo_error_ratio(w), ratio(slo, window), slo)]


def meta_rules(slo: SLO) -> list[dict[str, Any]]:
    sel, budget = slo_selector(slo), num(slo.error_budget)
    period = str(period_window(slo))
    return [
        _record(c.SLO_OBJECTIVE, f"vector({num(slo.target)})", slo),
        _record(c.SLO_ERROR_BUDGET, f"vector({budget})", slo),
        _record(c.SLO_PERIOD_SECONDS, f"vector({slo.period.ms // 1000})", slo),
        _record(c.SLO_BUDGET_REMAINING, f"1 - {c.slo_error_ratio(period)}{sel} / {budget}", slo),
        _record(c.SLO_BURN_RATE_CURRENT, f"{c.slo_error_ratio(str(BASE_WINDOW))}{sel} / {budget}", slo),
    ]


def slo_groups(model: Model, slo: SLO) -> list[dict[str, Any]]:
    timing = model.stack.timing
    short = [_record(name, expr, slo) for name, expr in base_rules(slo)]
    short.append(_record(c.slo_error_ratio(str(BASE_WINDOW)), ratio(slo, BASE_WINDOW), slo))
    long: list[dict[str, Any]] = []
    for window, pieces in tiling(slo).items():
        (short if is_short(window) else long).extend(window_rules(slo, window, pieces))
    # The alerts apart from the records: a PrometheusRule's carry one more label, and share the records' text.
    rules = {"short": Shared.joined([Shared(short), Shared(alert_rules(model, slo))]),
             "long": Shared(long + meta_rules(slo))}
    interval = {"short": timing.evaluation_interval, "long": timing.slo_long_interval}
    # A grouped SLO's rules may each produce at most max_groups series (alerts): beyond, Prometheus fails the rule
    # instead of recording an unbounded label, and the SLO's no-data ticket says so.
    limit = {"limit": slo.max_groups} if slo.max_groups else {}
    # Shared: the rule files, both rulers' files and the PrometheusRule dump these very rules.
    return [{"name": c.rule_group(slo.service, slo.name, kind), "interval": str(interval[kind]), **limit,
             "rules": rules[kind]} for kind in KINDS]


def group_names(service: Service) -> list[str]:
    """The names of service_groups(), in order, without building them."""
    return [c.rule_group(slo.service, slo.name, kind) for slo in service.slos for kind in KINDS]


def kept_groups(model: Model, slo: SLO) -> Shared:
    """The SLO's groups, built once per model and shared (see per_model): its rule file, both rulers and its
    PrometheusRule read them. Callers copy, never change them."""
    return per_model(model, ("slo.rules", slo.service, slo.name), lambda: Shared(slo_groups(model, slo)))


def service_groups(model: Model, service: str) -> list[dict[str, Any]]:
    """The service's groups, each SLO's as kept_groups() keeps them."""
    return [cast("dict[str, Any]", g) for slo in model.service(service).slos for g in kept_groups(model, slo)]


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    return {}


def frame(model: Model, service: Service) -> dict[str, Later]:
    """The rule file with a mark where each SLO's groups go (obs.generate.units)."""
    return {c.rules_file(service.name): partial(yaml, model, {"groups": units.marked(Part.RULES, "")})
            } if service.slos else {}


def unit(model: Model, service: Service) -> dict[str, Later]:
    """The groups of the service's one SLO, as the rule file holds them."""
    slo, = service.slos
    return {units.part_path(service.name, slo.name, Part.RULES): partial(_part, model, slo)}


def _part(model: Model, slo: SLO) -> str:
    return kept_groups(model, slo).block("")


def files(model: Model, service: Service) -> dict[str, Later]:
    return units.whole(model, service, frame, unit)


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return every_service(model, files)
