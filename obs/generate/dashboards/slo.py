"""The per-SLO dashboard: SLI against the objective, budget left, burn rate per tier, and alert state.

Reads only the recording rules named in obs/model/conventions.py, which the SLO engine
writes with the labels `service` and `slo`; no raw metric is queried here, so the
dashboard and the alerts cannot disagree about what the SLI is.
"""
from __future__ import annotations

from obs.generate.common import header
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Query, header_links, num
from obs.model import conventions as c
from obs.model.domain import SLO, Model
from obs.model.promql import matchers, sum_
from obs.model.windows import BASE_WINDOW

BURN_UNIT = "suffix:×"
BUDGET_STEPS = (("red", None), ("orange", 0.0), ("green", 0.25))
NO_ALERT = ("no burn-rate alert is pending or firing for this SLO: no page or ticket has fired yet, "
            "which is the healthy state.")


def selector(slo: SLO, *extra: tuple[str, str]) -> str:
    return matchers((c.LABEL_SERVICE, slo.service), (c.LABEL_SLO, slo.name), *extra)


def alerts(slo: SLO, alertname: str, firing_only: bool = True) -> str:
    state = ((("alertstate", "firing"),) if firing_only else ())
    return f"ALERTS{selector(slo, ('alertname', alertname), *state)}"


def firing_count(slo: SLO, alertname: str) -> str:
    # `or vector(0)`: none firing is a 0 the reader can trust, not an empty panel.
    return f"count({alerts(slo, alertname)}) or vector(0)"


def period_sli(slo: SLO) -> str:
    """SLI over the whole period, recovered from the budget left: 1 - (1 - remaining) x budget."""
    return f"1 - (1 - min({c.SLO_BUDGET_REMAINING}{selector(slo)})) * {num(slo.error_budget)}"


def base_sli(slo: SLO) -> str:
    w = str(BASE_WINDOW)
    events = sum_(f"{c.slo_events(w)}{selector(slo)}")
    return f"1 - {sum_(f'{c.slo_errors(w)}{selector(slo)}')} / ({events} > 0)"


def burn_rate(slo: SLO, window: str) -> str:
    return f"{c.slo_error_ratio(window)}{selector(slo)} / {num(slo.error_budget)}"


def group_legend(slo: SLO, name: str) -> str:
    return " ".join([name] + [f"{{{{{label}}}}}" for label in slo.group_by])


def summary_text(slo: SLO) -> str:
    lines = [slo.description or f"SLO `{slo.name}` of `{slo.service}`.", "",
             f"- Objective: **{num(slo.objective)}%** over **{slo.period}** (error budget {num(slo.error_budget)})",
             f"- SLI: {slo.sli.kind}" + (f", threshold {slo.sli.threshold}" if slo.sli.threshold else "")]
    if slo.runbook_url:
        lines.append(f"- Runbook: [{slo.runbook_url}]({slo.runbook_url})")
    if slo.tiers:
        lines += ["", "| severity | long / short window | alerts above |", "|---|---|---|"]
        lines += [f"| {t.severity} | {t.long} / {t.short} | {num(t.burn_rate)}× |" for t in slo.tiers]
    else:
        lines += ["", "Every alerting tier of this SLO is disabled: it is watched, never alerted on."]
    return "\n".join(lines)


def status_panels(slo: SLO) -> tuple[Panel, ...]:
    s = selector(slo)
    return (
        Panel(PanelKind.TEXT, "About this SLO", content=summary_text(slo), width=8, height=8),
        Panel(PanelKind.STAT, f"SLI over the {slo.period}",
              "Derived from the budget remaining: 1 − (1 − remaining) × error budget. Red below the objective.",
              (Query(period_sli(slo), instant=True),), unit="percentunit", decimals=3,
              steps=(("red", None), ("green", float(slo.target))), width=4, height=4),
        Panel(PanelKind.STAT, f"Error budget remaining ({slo.period})",
              "Share of the period's error budget still unspent.",
              (Query(f"min({c.SLO_BUDGET_REMAINING}{s})", instant=True),), unit="percentunit", decimals=1,
              steps=BUDGET_STEPS, width=4, height=4),
        Panel(PanelKind.STAT, "Objective", "The objective as the rules hold it; proves they are loaded.",
              (Query(f"max({c.SLO_OBJECTIVE}{s})", instant=True),), unit="percentunit", decimals=3, width=4,
              height=4),
        Panel(PanelKind.STAT, "Burn rate now",
              f"{c.SLO_BURN_RATE_CURRENT}: how many times faster than allowed the budget "
              "burns right now; 1× spends exactly the budget over the period.",
              (Query(f"max({c.SLO_BURN_RATE_CURRENT}{s})", instant=True),), unit=BURN_UNIT, decimals=2,
              steps=(("green", None), ("orange", 1.0)), width=4, height=4),
        Panel(PanelKind.STAT, "Burn-rate alerts firing", f"Firing {c.SLO_BURN_ALERT} alerts of this SLO (0: none).",
              (Query(firing_count(slo, c.SLO_BURN_ALERT), instant=True),), mappings=(("0", "none", "green"),),
              steps=(("green", None), ("red", 1.0)), width=5, height=4),
        Panel(PanelKind.STAT, "SLI data absent",
              f"Firing {c.SLO_NO_DATA_ALERT} alerts: the SLI's source series are missing.",
              (Query(firing_count(slo, c.SLO_NO_DATA_ALERT), instant=True),),
              mappings=(("0", "data present", "green"),), steps=(("green", None), ("red", 1.0)), width=5, height=4),
        Panel(PanelKind.STAT, f"Events in the last {BASE_WINDOW}",
              f"Burn-rate alerts stay silent below {num(slo.min_events)} events per {BASE_WINDOW} (orange).",
              (Query(f"{sum_(c.slo_events(str(BASE_WINDOW)) + s)} * {BASE_WINDOW.ms // 1000}", instant=True),),
              unit="short", decimals=0, steps=(("orange", None), ("green", float(slo.min_events))), width=6,
              height=4),
    )


def trend_panels(slo: SLO) -> tuple[Panel, ...]:
    s, w = selector(slo), str(BASE_WINDOW)
    return (
        Panel(PanelKind.ROW, "SLI against the objective"),
        Panel(PanelKind.TIMESERIES, f"SLI over {w} against the objective",
              f"Good share of events over the last {w}, from the recorded {c.slo_errors(w)} and {c.slo_events(w)}; "
              "the dashed line is the objective. A gap means no traffic.",
              (Query(base_sli(slo), f"SLI ({w})"), Query(f"max({c.SLO_OBJECTIVE}{s})", "objective")),
              unit="percentunit", steps=(("red", None), ("green", float(slo.target))), threshold_style="dashed",
              width=12),
        Panel(PanelKind.TIMESERIES, f"Error budget remaining over the {slo.period}",
              "Below 0 the period's budget is spent.",
              (Query(f"{c.SLO_BUDGET_REMAINING}{s}", group_legend(slo, "remaining")),), unit="percentunit",
              steps=BUDGET_STEPS, threshold_style="line", width=12),
        Panel(PanelKind.TIMESERIES, f"Events and errors per second ({w})", "The traffic the SLI is computed from.",
              (Query(sum_(c.slo_events(w) + s), "events/s"), Query(sum_(c.slo_errors(w) + s), "errors/s")),
              unit="ops", minimum=0, width=24, height=6),
    )


def tier_panels(slo: SLO) -> tuple[Panel, ...]:
    if not slo.tiers:
        return ()
    panels = [Panel(PanelKind.ROW, "Burn rate per tier")]
    for t in slo.tiers:
        long, short = str(t.long), str(t.short)
        panels.append(Panel(
            PanelKind.TIMESERIES, f"{t.severity} tier {long} / {short}: alerts above {num(t.burn_rate)}×",
            f"Burn rate over the long ({long}) and short ({short}) windows. The {t.severity} alert fires when both "
            f"are above the line ({num(t.burn_rate)}×) and at least {num(slo.min_events)} events arrived per "
            f"{BASE_WINDOW}.",
            (Query(burn_rate(slo, long), group_legend(slo, f"{long} window")),
             Query(burn_rate(slo, short), group_legend(slo, f"{short} window"))),
            unit=BURN_UNIT, minimum=0, steps=(("green", None), ("red", float(t.burn_rate))), threshold_style="line",
            width=12))
    return tuple(panels)


def alert_panels(slo: SLO) -> tuple[Panel, ...]:
    return (
        Panel(PanelKind.ROW, "Alert state"),
        Panel(PanelKind.TABLE, "Burn-rate alerts pending or firing",
              f"Every {c.SLO_BURN_ALERT} alert of this SLO Prometheus holds now, with its severity and tier.",
              (Query(alerts(slo, c.SLO_BURN_ALERT, firing_only=False), instant=True),), why_empty=NO_ALERT,
              no_value="No burn-rate alert pending or firing", hide_columns=("Time", "Value", "__name__"),
              width=24, height=6),
    )


def dashboard(model: Model, slo: SLO) -> Dashboard:
    uid = c.slo_dashboard_uid(model.project, slo.service, slo.name)
    service_link = (f"Service {slo.service}", c.dashboard_url_path(c.service_dashboard_uid(model.project, slo.service)))
    links = header_links(model) + (service_link,) + (((("Runbook", slo.runbook_url),)) if slo.runbook_url else ())
    return Dashboard(
        uid=uid, title=f"{model.project} / SLO / {slo.service} / {slo.name}", kind="slo",
        description=f"{header(model)}. SLO {slo.name} of {slo.service}: {num(slo.objective)}% over {slo.period}.",
        panels=status_panels(slo) + trend_panels(slo) + tier_panels(slo) + alert_panels(slo),
        interval=max(model.stack.timing.evaluation_interval, model.stack.timing.slo_long_interval),
        tags=("obs", model.project, "slo", slo.service), links=links, time_from="now-24h")
