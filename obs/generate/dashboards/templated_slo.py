"""The templated SLO dashboard: one page for every SLO, `$service` and `$slo` picking which.

Everything an SLO's own page knows from the spec (its objective, budget, period, tiers) is read here from the
recording rules the SLO engine writes with the labels `service` and `slo`, so one page serves every SLO and
still cannot disagree with the alerts. What the rules do not record (a tier's burn-rate line, the runbook) is
in the spec and on the alerts; the burn rate is drawn over every window the SLO records instead.
"""
from __future__ import annotations

from obs.generate.common import header
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Query, Variable, header_links
from obs.generate.dashboards.slo import BUDGET_STEPS, BURN_UNIT, NO_ALERT
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.promql import matchers, sum_
from obs.model.windows import BASE_WINDOW

SEL = matchers((c.LABEL_SERVICE, "$" + c.VARIABLE_SERVICE), (c.LABEL_SLO, "$" + c.VARIABLE_SLO))
BY = f"{c.LABEL_SERVICE}, {c.LABEL_SLO}"
WINDOW_LABEL = "window"


def variables() -> tuple[Variable, ...]:
    """$service lists the services with an SLO; $slo the SLOs of the chosen one."""
    of_service = f"{{{c.LABEL_SERVICE}=\"${c.VARIABLE_SERVICE}\"}}"
    return (Variable(c.VARIABLE_SERVICE, "Service", c.SLO_OBJECTIVE, c.LABEL_SERVICE),
            Variable(c.VARIABLE_SLO, "SLO", c.SLO_OBJECTIVE + of_service, c.LABEL_SLO))


def firing(alertname: str, state: tuple[tuple[str, str], ...] = (("alertstate", "firing"),)) -> str:
    return "ALERTS" + matchers(("alertname", alertname), (c.LABEL_SERVICE, "$" + c.VARIABLE_SERVICE),
                               (c.LABEL_SLO, "$" + c.VARIABLE_SLO), *state)


def status_panels() -> tuple[Panel, ...]:
    budget = f"max({c.SLO_ERROR_BUDGET}{SEL})"
    return (
        Panel(PanelKind.STAT, "SLI over the period",
              "Derived from the budget remaining: 1 − (1 − remaining) × error budget.",
              (Query(f"1 - (1 - min({c.SLO_BUDGET_REMAINING}{SEL})) * {budget}", instant=True),),
              unit="percentunit", decimals=3, width=4, height=4),
        Panel(PanelKind.STAT, "Error budget remaining", "Share of the period's error budget still unspent.",
              (Query(f"min({c.SLO_BUDGET_REMAINING}{SEL})", instant=True),), unit="percentunit", decimals=1,
              steps=BUDGET_STEPS, width=4, height=4),
        Panel(PanelKind.STAT, "Objective", "The objective as the rules hold it; proves they are loaded.",
              (Query(f"max({c.SLO_OBJECTIVE}{SEL})", instant=True),), unit="percentunit", decimals=3, width=4,
              height=4),
        Panel(PanelKind.STAT, "Period", "The period the objective and the error budget are counted over.",
              (Query(f"max({c.SLO_PERIOD_SECONDS}{SEL})", instant=True),), unit="dtdurations", width=4, height=4),
        Panel(PanelKind.STAT, "Burn rate now",
              f"{c.SLO_BURN_RATE_CURRENT}: how many times faster than allowed the budget burns right now; 1× "
              "spends exactly the budget over the period.",
              (Query(f"max({c.SLO_BURN_RATE_CURRENT}{SEL})", instant=True),), unit=BURN_UNIT, decimals=2,
              steps=(("green", None), ("orange", 1.0)), width=4, height=4),
        Panel(PanelKind.STAT, f"Events in the last {BASE_WINDOW}", "The traffic the SLI is computed from.",
              (Query(f"{sum_(c.slo_events(str(BASE_WINDOW)) + SEL)} * {BASE_WINDOW.ms // 1000}", instant=True),),
              unit="short", decimals=0, width=4, height=4),
        Panel(PanelKind.STAT, "Burn-rate alerts firing", f"Firing {c.SLO_BURN_ALERT} alerts of this SLO (0: none).",
              (Query(f"count({firing(c.SLO_BURN_ALERT)}) or vector(0)", instant=True),),
              mappings=(("0", "none", "green"),), steps=(("green", None), ("red", 1.0)), width=12, height=4),
        Panel(PanelKind.STAT, "SLI data absent",
              f"Firing {c.SLO_NO_DATA_ALERT} alerts: the SLI's source series are missing.",
              (Query(f"count({firing(c.SLO_NO_DATA_ALERT)}) or vector(0)", instant=True),),
              mappings=(("0", "data present", "green"),), steps=(("green", None), ("red", 1.0)), width=12, height=4),
    )


def trend_panels() -> tuple[Panel, ...]:
    w = str(BASE_WINDOW)
    events = sum_(c.slo_events(w) + SEL)
    return (
        Panel(PanelKind.ROW, "SLI against the objective"),
        Panel(PanelKind.TIMESERIES, f"SLI over {w} against the objective",
              f"Good share of events over the last {w}, from the recorded {c.slo_errors(w)} and {c.slo_events(w)}, "
              "and the objective. A gap means no traffic.",
              (Query(f"1 - {sum_(c.slo_errors(w) + SEL)} / ({events} > 0)", f"SLI ({w})"),
               Query(f"max({c.SLO_OBJECTIVE}{SEL})", "objective")), unit="percentunit", width=12),
        Panel(PanelKind.TIMESERIES, "Error budget remaining over the period", "Below 0 the period's budget is spent.",
              (Query(f"{c.SLO_BUDGET_REMAINING}{SEL}", "remaining"),), unit="percentunit", steps=BUDGET_STEPS,
              threshold_style="line", width=12),
        Panel(PanelKind.TIMESERIES, f"Events and errors per second ({w})", "The traffic the SLI is computed from.",
              (Query(events, "events/s"), Query(sum_(c.slo_errors(w) + SEL), "errors/s")),
              unit="ops", minimum=0, width=24, height=6),
    )


def burn_panels() -> tuple[Panel, ...]:
    prefix = c.slo_error_ratio("")
    ratios = matchers((c.LABEL_SERVICE, "$" + c.VARIABLE_SERVICE), (c.LABEL_SLO, "$" + c.VARIABLE_SLO),
                      regex=(("__name__", prefix + ".+"),))
    windows = f'label_replace({ratios}, "{WINDOW_LABEL}", "$1", "__name__", "{prefix}(.+)")'
    expr = f"{windows}\n/ on ({BY}) group_left () max by ({BY}) ({c.SLO_ERROR_BUDGET}{SEL})"
    return (
        Panel(PanelKind.ROW, "Burn rate"),
        Panel(PanelKind.TIMESERIES, "Burn rate over every recorded window",
              "The error ratio over each window the SLO records, divided by its error budget. A tier alerts when "
              "both its long and its short window are above its burn rate (the tiers are in the spec, and on the "
              f"{c.SLO_BURN_ALERT} alerts below).",
              (Query(expr, f"{{{{{WINDOW_LABEL}}}}}"),), unit=BURN_UNIT, minimum=0,
              steps=(("green", None), ("orange", 1.0)), threshold_style="dashed", width=24),
    )


def alert_panels() -> tuple[Panel, ...]:
    return (
        Panel(PanelKind.ROW, "Alert state"),
        Panel(PanelKind.TABLE, "Burn-rate alerts pending or firing",
              f"Every {c.SLO_BURN_ALERT} alert of this SLO Prometheus holds now, with its severity and tier.",
              (Query(firing(c.SLO_BURN_ALERT, ()), instant=True),), why_empty=NO_ALERT,
              no_value="No burn-rate alert pending or firing", hide_columns=("Time", "Value", "__name__"),
              width=24, height=6),
    )


def dashboard(model: Model) -> Dashboard:
    fill = "${" + c.VARIABLE_SERVICE + "}"
    links = header_links(model) + (
        ("Service", c.dashboard_url_path(c.service_template_dashboard_uid(model.project),
                                         ((c.VARIABLE_SERVICE, fill),))),)
    return Dashboard(
        uid=c.slo_template_dashboard_uid(model.project), title=f"{model.project} / SLO", kind="slo",
        description=f"{header(model)}. The SLO $slo of $service: SLI against the objective, budget left, burn rate "
                    "and alert state.",
        panels=status_panels() + trend_panels() + burn_panels() + alert_panels(),
        interval=max(model.stack.timing.evaluation_interval, model.stack.timing.slo_long_interval),
        tags=("obs", model.project, "slo"), links=links, time_from="now-24h", variables=variables(),
        bindings=tuple(((c.VARIABLE_SERVICE, slo.service), (c.VARIABLE_SLO, slo.name)) for slo in model.slos))
