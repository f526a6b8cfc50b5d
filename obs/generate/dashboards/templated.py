"""The templated layout: overview, service and SLO dashboards whose number and size do not grow with the spec.

What the per-service layout writes into each dashboard (a service's name, its SLOs) is picked here by
template variables read from obs's own recording rules; the overview lists every service as the rows of a
table, each a link to the service's page with `var-service` set. The pipeline dashboard is the same in
both layouts.
"""
from __future__ import annotations

from obs.generate.common import header
from obs.generate.dashboards import service as svc
from obs.generate.dashboards import templated_service, templated_slo
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Query, Variable, header_links, rate
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.promql import matchers

TEAM = matchers(regex=((c.LABEL_TEAM, "$" + c.VARIABLE_TEAM),))
LISTED = f"{c.SERVICE_INFO}{TEAM}"
BY = f"{c.LABEL_SERVICE}, {c.LABEL_SLO}"
NO_SLO = "no service of this team has an SLO."
FIRING = f"ALERTS{matchers(('alertname', c.SLO_BURN_ALERT), ('alertstate', 'firing'))}"


def of_team(expr: str) -> str:
    """`expr` kept to the services of $team (every service under All)."""
    return f"({expr})\nand on ({c.LABEL_SERVICE}) {LISTED}"


def fleet_rate() -> str:
    """Requests (HTTP histogram) or else spans per second of every service, labelled `service`.

    The `or` runs per service_name: each service shows its first form present, in the order the
    service dashboard reads them."""
    forms = [f"histogram_count({rate(c.HTTP_DURATION)})", rate(c.HTTP_DURATION + "_count"),
             rate(c.HTTP_OLD_DURATION + "_count"), rate(c.SPANMETRICS_CALLS)]
    per_service = "\n  or ".join(f"sum by ({c.SERVICE_NAME_LABEL}) ({f})" for f in forms)
    renamed = f'label_replace(\n  {per_service}\n, "{c.LABEL_SERVICE}", "$1", "{c.SERVICE_NAME_LABEL}", "(.+)")'
    return of_team(f"sum by ({c.LABEL_SERVICE}) ({renamed})")


def services_table(model: Model) -> Panel:
    service_page = c.dashboard_url_path(c.service_template_dashboard_uid(model.project),
                                        ((c.VARIABLE_SERVICE, "${__data.fields.service}"),))
    scraped_only = {t for t in teams(model) if all(not s.otlp for s in model.services if s.team == t)}
    queries = [Query(f"max by ({c.LABEL_SERVICE}, {c.LABEL_TEAM}) ({LISTED})", instant=True),
               Query(fleet_rate(), instant=True)]
    Steps = tuple[tuple[str, float | None], ...]
    columns: list[tuple[str, str, Steps]] = [("in the spec", "none", ()), ("Requests or spans /s", "reqps", ())]
    if model.slos:
        budget = (("red", None), ("orange", 0.0), ("green", 0.25))
        queries.append(Query(of_team(f"min by ({c.LABEL_SERVICE}) ({c.SLO_BUDGET_REMAINING})"), instant=True))
        columns.append(("Worst budget remaining", "percentunit", budget))
    return Panel(
        PanelKind.TABLE, "Services",
        f"Every service of {model.source} (of $team), its traffic and the least error budget left among its SLOs. "
        "Click a row for the service's dashboard.",
        tuple(queries), columns=tuple(columns), hide_columns=("Time", "Value #A"),
        data_links=(("Service dashboard", service_page),),
        empty_for=tuple((c.VARIABLE_TEAM, t) for t in teams(model) if not slos_of(model, t) or t in scraped_only),
        why_empty_for="a team whose services have no SLO has no budget to show, and one whose services are all "
                      "scraped (no OTLP) no traffic.",
        width=24, height=10)


def status_table(model: Model) -> Panel:
    slo_page = c.dashboard_url_path(c.slo_template_dashboard_uid(model.project),
                                    ((c.VARIABLE_SERVICE, "${__data.fields.service}"),
                                     (c.VARIABLE_SLO, "${__data.fields.slo}")))
    remaining = f"min by ({BY}) ({c.SLO_BUDGET_REMAINING})"
    objective = f"max by ({BY}) ({c.SLO_OBJECTIVE})"
    queries = (
        Query(of_team(objective), instant=True),
        Query(of_team(f"1 - (1 - {remaining}) * on ({BY}) max by ({BY}) ({c.SLO_ERROR_BUDGET})"), instant=True),
        Query(of_team(remaining), instant=True),
        # Every SLO gets a row: 0 where nothing fires, rather than a blank cell.
        Query(of_team(f"count by ({BY}) ({FIRING}) or on ({BY}) (0 * {objective})"), instant=True),
    )
    return Panel(
        PanelKind.TABLE, "SLO status",
        "One row per SLO (of $team): objective, SLI and error budget remaining over the SLO's period, and firing "
        f"{c.SLO_BURN_ALERT} alerts. Click a row for the SLO's dashboard.",
        queries, columns=(("Objective", "percentunit", ()), ("SLI (period)", "percentunit", ()),
                          ("Budget remaining", "percentunit", (("red", None), ("orange", 0.0), ("green", 0.25))),
                          ("Burn alerts firing", "none", (("green", None), ("red", 1.0)))),
        hide_columns=("Time",), data_links=(("SLO dashboard", slo_page),),
        empty_for=tuple((c.VARIABLE_TEAM, t) for t in teams(model) if not slos_of(model, t)), why_empty_for=NO_SLO,
        width=24, height=9)


def teams(model: Model) -> list[str]:
    return sorted({s.team for s in model.services if s.team})


def slos_of(model: Model, team: str) -> bool:
    return any(s.slos for s in model.services if s.team == team)


def overview(model: Model) -> Dashboard:
    burn = f"count({of_team(FIRING)}) or vector(0)"
    panels = (
        Panel(PanelKind.STAT, "Burn-rate alerts firing", "Firing burn-rate alerts across every SLO of $team (0: none).",
              (Query(burn, instant=True),), mappings=(("0", "none", "green"),),
              steps=(("green", None), ("red", 1.0)), width=24, height=4),
        services_table(model),
        status_table(model) if model.slos else Panel(PanelKind.TEXT, "SLO status", content="No SLO in the spec.",
                                                     width=24, height=3),
    )
    team = Variable(c.VARIABLE_TEAM, "Team", c.SERVICE_INFO, c.LABEL_TEAM, include_all=True)
    links = (("Service", c.dashboard_url_path(c.service_template_dashboard_uid(model.project))),
             ("SLO", c.dashboard_url_path(c.slo_template_dashboard_uid(model.project))))
    return Dashboard(
        uid=c.overview_dashboard_uid(model.project), title=f"{model.project} / overview", kind="overview",
        description=f"{header(model)}. Every service of {model.project} and the state of its SLOs.",
        panels=panels, interval=svc.otlp_interval(model), tags=("obs", model.project, "overview"),
        links=links + header_links(model)[1:], time_from="now-6h", variables=(team,),
        bindings=tuple(((c.VARIABLE_TEAM, t),) for t in [*teams(model), c.VARIABLE_ALL]))


def dashboards(model: Model) -> tuple[Dashboard, ...]:
    """Overview, service, SLO (none without an SLO in the spec)."""
    slo = (templated_slo.dashboard(model),) if model.slos else ()
    return (overview(model), templated_service.dashboard(model)) + slo
