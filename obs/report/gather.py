"""What the live stack says, for the report: versions, each SLO from its recording rules, the pipeline's counters.

Everything is read from Prometheus's and Alertmanager's HTTP APIs, read-only. SLO numbers come from the
recorded series the generated rules write (obs/generate/slo/rules.py), so the page shows what the alerts see.
An SLO with `group_by` records one series per group: the page shows the worst group (max error ratio, least
budget) and says so.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from obs.generate.slo.alerts import threshold
from obs.generate.slo.text import num, slo_selector
from obs.generate.slo.windows import period_window
from obs.model import conventions as c
from obs.model.domain import SLO, Model
from obs.model.durations import Duration
from obs.model.kinds import Severity as TierSeverity
from obs.model.windows import BASE_WINDOW
from obs.report.data import (
    ComponentKind,
    PipelineRow,
    Series,
    Severity,
    SloStatus,
    StackState,
    Threshold,
    Version,
    Window,
)
from obs.verify import clients

POINTS = 240                      # per line over the range: smooth on a page, light to embed
RATIO_WINDOWS = (BASE_WINDOW, Duration.parse("1h"))   # the error-ratio chart's lines: now, and the last hour


@dataclass(frozen=True)
class Clients:
    prometheus: clients.Prometheus
    alertmanager: clients.Alertmanager
    where: str = "local"


def _prometheus_version(prom: clients.Prometheus) -> str | None:
    status, doc = prom.get_json("/api/v1/status/buildinfo")
    data = doc.get("data") if isinstance(doc, dict) else None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def _alertmanager_version(am: clients.Alertmanager) -> str | None:
    try:
        info = am.status().get("versionInfo")
    except (clients.Unreachable, clients.ApiError):
        return None
    version = info.get("version") if isinstance(info, dict) else None
    return version if isinstance(version, str) else None


def _collector_versions(prom: clients.Prometheus) -> dict[str, str]:
    """The collector and Jaeger v2 (itself a collector) report `service.version` on their target_info."""
    found = {}
    for r in prom.query(f'target_info{{job=~"{c.JOB_OTELCOL}|{c.JOB_JAEGER}"}}'):
        version = r["metric"].get("service.version")
        if isinstance(version, str):
            found[r["metric"].get("job", "")] = version.lstrip("v")
    return found


def stack_state(model: Model, cl: Clients) -> StackState:
    pinned = model.stack.versions
    try:
        prom_version = _prometheus_version(cl.prometheus)
    except clients.Unreachable as e:
        versions = tuple(Version(name, pinned.get(name), None) for name in ("otelcol", "jaeger", "prometheus"))
        am = _alertmanager_version(cl.alertmanager)
        versions += (Version("alertmanager", pinned.get("alertmanager"), am),)
        why = f"Prometheus does not answer at {cl.prometheus.base} ({e.reason})"
        if am is None:
            why = f"the stack is not running: nothing answers at {cl.prometheus.base} or {cl.alertmanager.base}"
        return StackState(False, why, versions, cl.where)
    try:
        collectors = _collector_versions(cl.prometheus)
    except (clients.Unreachable, clients.ApiError):
        collectors = {}
    running = {"otelcol": collectors.get(c.JOB_OTELCOL), "jaeger": collectors.get(c.JOB_JAEGER),
               "prometheus": prom_version, "alertmanager": _alertmanager_version(cl.alertmanager)}
    return StackState(True, "", tuple(Version(k, pinned.get(k), v) for k, v in running.items()), cl.where)


# -- SLOs ------------------------------------------------------------------------------------------------------

def _windows(slo: SLO) -> list[Duration]:
    return sorted({BASE_WINDOW, *RATIO_WINDOWS, period_window(slo), *(t.long for t in slo.tiers),
                   *(t.short for t in slo.tiers)}, key=lambda d: d.ms)


def _by_window(result: list[dict[str, Any]]) -> dict[str, Any]:
    prefix = c.slo_error_ratio("")
    return {r["metric"].get("__name__", "").removeprefix(prefix): r for r in result}


def _float(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if v == v and abs(v) != float("inf") else None


def _ratio_query(slo: SLO, windows: list[Duration]) -> str:
    names = "|".join(re.escape(c.slo_error_ratio(str(w))) for w in windows)
    return f'max by (__name__) ({{__name__=~"{names}", {slo_selector(slo)[1:-1]}}})'


def _points(values: list[list[Any]], scale: float) -> tuple[tuple[float, float], ...]:
    out = []
    for t, v in values:
        value = _float(v)
        if value is not None:
            out.append((float(t), value * scale))
    return tuple(out)


def _range(prom: clients.Prometheus, query: str, start: float, end: float, least_step: float) \
        -> tuple[list[dict[str, Any]], float]:
    """The query over [start, end] at about POINTS steps; when the data begins well inside the range (a young
    stack), asked again from where it begins, so the line is not a sliver at the right edge. Returns the
    result and where the chart's time axis should begin."""
    step = max(least_step, (end - start) / POINTS)
    result = prom.query_range(query, start, end, step)
    first = min((float(r["values"][0][0]) for r in result if r.get("values")), default=None)
    if first is not None and first - start > 0.1 * (end - start):
        start = max(start, first - step)
        step = max(least_step, (end - start) / POINTS)
        result = prom.query_range(query, start, end, step)
    return result, start


def slo_status(model: Model, prom: clients.Prometheus, slo: SLO, range_s: float, now: float) -> SloStatus:
    budget = float(slo.error_budget)
    windows = _windows(slo)
    period = str(period_window(slo))
    now_values = {w: _float(r["value"][1]) for w, r in _by_window(prom.query(_ratio_query(slo, windows))).items()}
    remaining = prom.query(f"min({c.SLO_BUDGET_REMAINING}{slo_selector(slo)})")
    budget_left = _float(remaining[0]["value"][1]) if remaining else None
    ratio_now = now_values.get(period)
    tiers = {str(t.long): t for t in slo.tiers}
    rows = []
    for w in windows:
        ratio = now_values.get(str(w))
        tier = tiers.get(str(w))
        rows.append(Window(str(w), None if ratio is None else ratio / budget,
                           None if tier is None else float(tier.burn_rate),
                           None if tier is None else _severity(tier.severity),
                           None if tier is None or tier.short == tier.long else str(tier.short)))
    long_windows = sorted({t.long for t in slo.tiers}, key=lambda d: d.ms)
    drawn = sorted({*RATIO_WINDOWS, *long_windows}, key=lambda d: d.ms)
    result, start = _range(prom, _ratio_query(slo, drawn), now - range_s, now,
                           model.stack.timing.evaluation_interval.s)
    lines = _by_window(result)
    error_ratio = tuple(Series(f"{w} window", _points(lines[str(w)]["values"], 1.0), drawn.index(w))
                        for w in RATIO_WINDOWS if str(w) in lines)
    burn = tuple(Series(f"{w} window", _points(lines[str(w)]["values"], 1 / budget), drawn.index(w))
                 for w in long_windows if str(w) in lines)
    ordered = sorted(slo.tiers, key=lambda t: t.burn_rate)
    return SloStatus(
        service=slo.service, slo=slo.name, objective=float(slo.objective), period=str(slo.period),
        attained=None if ratio_now is None else 1 - ratio_now, budget_left=budget_left, windows=tuple(rows),
        error_ratio=error_ratio, burn_rate=burn,
        ratio_thresholds=tuple(Threshold(_tier_label(t), float(threshold(slo, t)), _severity(t.severity))
                               for t in ordered),
        burn_thresholds=tuple(Threshold(_tier_label(t), float(t.burn_rate), _severity(t.severity))
                              for t in ordered),
        grouped=bool(slo.group_by), start=start, end=now)


def _severity(s: TierSeverity) -> Severity:
    return Severity.PAGE if s == TierSeverity.PAGE else Severity.TICKET


def _tier_label(tier: Any) -> str:
    windows = str(tier.long) if tier.short == tier.long else f"{tier.long} + {tier.short}"
    return f"{tier.severity} {num(Decimal(tier.burn_rate))}× ({windows})"


# -- the pipeline's own counters -------------------------------------------------------------------------------

_OTELCOL = re.compile(r"^otelcol_(receiver|exporter)_(accepted|refused|failed|sent|send_failed|enqueue_failed)_"
                      r"(spans|metric_points|log_records)(_total)?$")


def pipeline(prom: clients.Prometheus) -> tuple[PipelineRow, ...]:
    """Counts since each component last started (counters, not rates: a refusal shows however long ago it was).

    Collector counters appear only once they are non-zero, so an absent one reads as 0."""
    counts: dict[tuple[str, ComponentKind, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    names = "|".join(("otelcol_receiver_(accepted|refused|failed)_.+",
                      "otelcol_exporter_(sent|send_failed|enqueue_failed)_.+"))
    for r in prom.query(f'{{__name__=~"{names}"}}'):
        m = _OTELCOL.match(r["metric"].get("__name__", ""))
        value = _float(r["value"][1])
        if m is None or value is None:
            continue
        side, outcome, items = m.group(1), m.group(2), m.group(3)
        kind = ComponentKind.RECEIVER if side == "receiver" else ComponentKind.EXPORTER
        key = (r["metric"].get("job", "?"), kind, r["metric"].get(side, "?"), items)
        column = {"accepted": "accepted", "sent": "accepted", "refused": "refused"}.get(outcome, "dropped")
        counts[key][column] += value
    for r in prom.query(f'sum by (job, alertmanager, __name__) ({{__name__=~"{_notifier_names()}"}})'):
        value = _float(r["value"][1])
        if value is None:
            continue
        column = {c.PROMETHEUS_NOTIFICATIONS_ERRORS: "refused", c.PROMETHEUS_NOTIFICATIONS_DROPPED: "dropped"}.get(
            r["metric"].get("__name__", ""), "accepted")
        counts[(r["metric"].get("job", c.JOB_PROMETHEUS), ComponentKind.NOTIFIER,
                r["metric"].get("alertmanager", "?"), "alerts")][column] += value
    sent = {r["metric"].get("integration", "?"): _float(r["value"][1]) or 0.0
            for r in prom.query(f"sum by (integration) ({c.ALERTMANAGER_NOTIFICATIONS})")}
    failed = {r["metric"].get("integration", "?"): _float(r["value"][1]) or 0.0
              for r in prom.query(f"sum by (integration) ({c.ALERTMANAGER_NOTIFICATIONS_FAILED})")}
    for integration in sorted(set(sent) | set(failed)):
        attempts, failures = sent.get(integration, 0.0), failed.get(integration, 0.0)
        if attempts or failures:     # Alertmanager lists every integration it knows; show the ones used
            counts[(c.JOB_ALERTMANAGER, ComponentKind.INTEGRATION, integration, "notifications")].update(
                accepted=max(attempts - failures, 0.0), refused=failures)
    order = list(ComponentKind)
    return tuple(PipelineRow(job, kind, name, signal, v.get("accepted", 0.0), v.get("refused", 0.0),
                             v.get("dropped", 0.0))
                 for (job, kind, name, signal), v in sorted(counts.items(),
                                                             key=lambda kv: (order.index(kv[0][1]), kv[0])))


def _notifier_names() -> str:
    return "|".join((c.PROMETHEUS_NOTIFICATIONS_SENT, c.PROMETHEUS_NOTIFICATIONS_ERRORS,
                     c.PROMETHEUS_NOTIFICATIONS_DROPPED))
