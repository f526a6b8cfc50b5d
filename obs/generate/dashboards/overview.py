"""The overview: every service of the spec, its traffic, and the state of each of its SLOs at a glance."""
from __future__ import annotations

from obs.generate.common import header
from obs.generate.dashboards import service as svc
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Query, header_links, num
from obs.model import conventions as c
from obs.model.domain import Model, Service
from obs.model.promql import matchers

BY = f"{c.LABEL_SERVICE}, {c.LABEL_SLO}"


def services_text(model: Model) -> str:
    """A table of every service with links: every service appears even before any data arrives."""
    rows = ["| service | team | telemetry | SLOs |", "|---|---|---|---|"]
    for s in model.services:
        link = c.dashboard_url_path(c.service_dashboard_uid(model.project, s.name))
        telemetry = ("HTTP histogram" if s.http else "spanmetrics") + ("" if s.otlp else " (scraped)")
        slos = ", ".join(
            f"[{slo.name}]({c.dashboard_url_path(c.slo_dashboard_uid(model.project, s.name, slo.name))}) "
            f"{num(slo.objective)}%" for slo in s.slos) or "none"
        rows.append(f"| [{s.name}]({link}) | {s.team or ''} | {telemetry} | {slos} |")
    return "\n".join(rows)


def status_table(model: Model) -> Panel:
    remaining = f"min by ({BY}) ({c.SLO_BUDGET_REMAINING})"
    objective = f"max by ({BY}) ({c.SLO_OBJECTIVE})"
    firing = f"count by ({BY}) (ALERTS{matchers(('alertname', c.SLO_BURN_ALERT), ('alertstate', 'firing'))})"
    queries = (
        Query(objective, instant=True),
        Query(f"1 - (1 - {remaining}) * on ({BY}) max by ({BY}) ({c.SLO_ERROR_BUDGET})", instant=True),
        Query(remaining, instant=True),
        # Every SLO gets a row: 0 where nothing fires, rather than a blank cell.
        Query(f"{firing} or on ({BY}) (0 * {objective})", instant=True),
    )
    return Panel(
        PanelKind.TABLE, "SLO status",
        "One row per SLO: objective, SLI and error budget remaining over the SLO's period, and firing "
        f"{c.SLO_BURN_ALERT} alerts.",
        queries, columns=(("Objective", "percentunit", ()), ("SLI (period)", "percentunit", ()),
                          ("Budget remaining", "percentunit", (("red", None), ("orange", 0.0), ("green", 0.25))),
                          ("Burn alerts firing", "none", (("green", None), ("red", 1.0)))),
        hide_columns=("Time",), width=24, height=9)


def traffic_stat(model: Model, service: Service) -> Panel:
    unit = "reqps" if service.http else "ops"
    return Panel(PanelKind.STAT, service.name, f"Request rate of {service.name} from {svc.source(service).name}.",
                 (Query(svc.request_rate(service), "rate"),), unit=unit, decimals=2,
                 why_empty=svc.scrape_only_reason(service), no_value="no traffic", width=4, height=4,
                 links=((f"Service {service.name}",
                         c.dashboard_url_path(c.service_dashboard_uid(model.project, service.name))),))


def dashboard(model: Model) -> Dashboard:
    burn = f"count(ALERTS{matchers(('alertname', c.SLO_BURN_ALERT), ('alertstate', 'firing'))}) or vector(0)"
    panels = (
        Panel(PanelKind.TEXT, "Services", f"Every service of {model.source}.", content=services_text(model), width=16,
              height=9),
        Panel(PanelKind.STAT, "Burn-rate alerts firing", "Firing burn-rate alerts across every SLO (0: none).",
              (Query(burn, instant=True),), mappings=(("0", "none", "green"),),
              steps=(("green", None), ("red", 1.0)), width=8, height=9),
        status_table(model) if model.slos else Panel(PanelKind.TEXT, "SLO status", content="No SLO in the spec.",
                                                     width=24, height=3),
        Panel(PanelKind.ROW, "Traffic per service"),
    ) + tuple(traffic_stat(model, s) for s in model.services)
    return Dashboard(
        uid=c.overview_dashboard_uid(model.project), title=f"{model.project} / overview", kind="overview",
        description=f"{header(model)}. Every service of {model.project} and the state of its SLOs.",
        panels=panels, interval=svc.otlp_interval(model), tags=("obs", model.project, "overview"),
        links=header_links(model)[1:], time_from="now-6h")
