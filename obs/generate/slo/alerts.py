"""SLO alerts: one multiwindow burn-rate alert per tier, and one no-data alert per SLO.

Thresholds and the budget share each tier consumes are Decimal arithmetic on the
spec's numbers, so `14.4 x 0.001` is printed as 0.0144, never 0.014400000000000001.
obs's own annotations are static text (no $value), so the generated promtool tests can
state them exactly; when the spec's annotations use templates, the tests check the
alerts' labels only (obs/generate/slo/checks.py). Label values are the spec's text, kept
literal: Prometheus would otherwise expand `{{` in a team name as a Go template.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from obs.generate.slo.sli import counts_traffic
from obs.generate.slo.text import num, percent, slo_selector
from obs.model import conventions as c
from obs.model import templates
from obs.model.domain import SLO, Model
from obs.model.durations import Duration
from obs.model.windows import BASE_WINDOW, Tier

# A fresh stack has no 5m rate for a minute or two; only a gap this long is worth a ticket.
NO_DATA_FOR = Duration.parse("10m")


def threshold(slo: SLO, tier: Tier) -> Decimal:
    """The error ratio at which the tier fires: burn rate x error budget, exact."""
    return tier.burn_rate * slo.error_budget


def budget_consumed(slo: SLO, tier: Tier) -> Decimal:
    """Share of the period's budget spent when the tier fires (SRE workbook): burn x long / period."""
    return tier.burn_rate * Decimal(tier.long.ms) / Decimal(slo.period.ms)


def dashboard_url(model: Model, slo: SLO) -> str:
    return c.slo_dashboard_url(model.project, model.dashboard_layout, slo.service, slo.name)


def templated(slo: SLO) -> bool:
    """The SLO's alert text is expanded by Prometheus, so tests cannot state it ahead of time."""
    texts = [v for _, v in slo.annotations] + [slo.runbook_url or ""]
    return any(templates.is_template(t) for t in texts)


def _as_written(labels: dict[str, str]) -> dict[str, str]:
    return {k: templates.literal(v) for k, v in labels.items()}


def alert_labels(model: Model, slo: SLO, severity: str) -> dict[str, str]:
    """The labels the alert carries once Prometheus has expanded them: what tests expect."""
    labels = dict(slo.labels)
    team = model.service(slo.service).team
    if team:
        labels[c.LABEL_TEAM] = team
    labels.update({c.LABEL_SERVICE: slo.service, c.LABEL_SLO: slo.name, c.LABEL_SEVERITY: severity})
    return labels


def _annotations(model: Model, slo: SLO, summary: str, description: str) -> dict[str, str]:
    out = {"summary": summary, "description": description}
    if slo.runbook_url:
        out[c.ANNOTATION_RUNBOOK] = slo.runbook_url
    out[c.ANNOTATION_DASHBOARD] = dashboard_url(model, slo)
    out.update(dict(slo.annotations))   # the spec's own annotations win
    return out


def burn_labels(model: Model, slo: SLO, tier: Tier) -> dict[str, str]:
    return {**alert_labels(model, slo, tier.severity), c.LABEL_TIER: tier.name}


def burn_expr(slo: SLO, tier: Tier) -> str:
    sel = slo_selector(slo)
    limit = num(threshold(slo, tier))
    lines = [f"{c.slo_error_ratio(str(tier.long))}{sel} > {limit}"]
    if tier.short != tier.long:     # the fast-page tier is a single window (obs/model/windows.py)
        lines.append(f"and {c.slo_error_ratio(str(tier.short))}{sel} > {limit}")
    if counts_traffic(slo) and slo.min_events > 0:
        # Average traffic over the long window must reach min_events per base window.
        lines.append(f"and {c.slo_events(str(tier.long))}{sel} * {BASE_WINDOW.ms // 1000} >= {num(slo.min_events)}")
    return "\n".join(lines)


def burn_alert(model: Model, slo: SLO, tier: Tier) -> dict[str, Any]:
    consumed = percent(budget_consumed(slo, tier))
    objective = f"{num(slo.objective)}% over {slo.period}"
    windows = f"{tier.long}" if tier.short == tier.long else f"{tier.long} and {tier.short}"
    summary = (f"{slo.service} {slo.name}: error budget burning {num(tier.burn_rate)}x too fast "
               f"over {windows}")
    over = (f"over the last {tier.long}" if tier.short == tier.long
            else f"over both the last {tier.long} and the last {tier.short}")
    description = (f"The {slo.name} SLO of {slo.service} ({objective}) has an error ratio above "
                   f"{num(threshold(slo, tier))} ({num(tier.burn_rate)}x its error budget of "
                   f"{num(slo.error_budget)}) {over}. "
                   f"By the time this fires, {consumed}% of the {slo.period} error budget has been consumed.")
    rule: dict[str, Any] = {"alert": c.SLO_BURN_ALERT, "expr": burn_expr(slo, tier)}
    if tier.for_.ms:
        rule["for"] = str(tier.for_)
    rule["labels"] = _as_written(burn_labels(model, slo, tier))
    rule["annotations"] = _annotations(model, slo, summary, description)
    return rule


def no_data_alert(model: Model, slo: SLO) -> dict[str, Any]:
    what = {"latency": f"the request-duration count or its bucket le={slo.sli.threshold_le}",
            "availability": "the request-duration count", "events": "the total or error query",
            "raw": "the error-ratio query"}[slo.sli.kind]
    summary = f"{slo.service} {slo.name}: no SLI data"
    description = (f"The {slo.name} SLO of {slo.service} has had no {BASE_WINDOW} error rate for {NO_DATA_FOR}: "
                   f"{what} returns nothing, so its burn-rate alerts cannot fire.")
    return {
        "alert": c.SLO_NO_DATA_ALERT,
        "expr": f"absent({c.slo_errors(str(BASE_WINDOW))}{slo_selector(slo)})",
        "for": str(NO_DATA_FOR),
        "labels": _as_written(alert_labels(model, slo, "ticket")),
        "annotations": _annotations(model, slo, summary, description),
    }


def alert_rules(model: Model, slo: SLO) -> list[dict[str, Any]]:
    return [*(burn_alert(model, slo, t) for t in slo.tiers), no_data_alert(model, slo)]
