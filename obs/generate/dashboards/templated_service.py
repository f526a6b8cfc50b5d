"""The templated service dashboard: one page for every service, `$service` picking which.

A service sends either the semconv HTTP histogram or only spans (spanmetrics); one page must read both.
Each query reads the HTTP form first and falls back to spanmetrics with `or on ()`, which adds the right
side only when the left has no series at all: an HTTP service shows its histogram (its spanmetrics, which
exist too, never double it), any other service its spanmetrics.
"""
from __future__ import annotations

from obs.generate.common import header
from obs.generate.dashboards import service as svc
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Query, Variable, header_links
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.promql import matchers, selector, sum_, sum_by

SERVICE = "$" + c.VARIABLE_SERVICE
FILL = "${" + c.VARIABLE_SERVICE + "}"        # in links and text, where `$service` could run into other text
FALLBACK = "\nor on () "
SCRAPED = (f"a scraped service's series carry the scrape job's labels, and {c.SERVICE_NAME_LABEL} only if its "
           "exporter sets it; spanmetrics need OTLP traces.")
NO_SLO = "the service has no SLO in the spec."
QUIET = "no data from $service"
QUANTILES = svc.QUANTILES


def variables() -> tuple[Variable, ...]:
    """$team narrows $service to a team's services; both read obs:service_info, which lists every service."""
    team = f"{{{c.LABEL_TEAM}=~\"${c.VARIABLE_TEAM}\"}}"
    return (Variable(c.VARIABLE_TEAM, "Team", c.SERVICE_INFO, c.LABEL_TEAM, include_all=True),
            Variable(c.VARIABLE_SERVICE, "Service", c.SERVICE_INFO + team, c.LABEL_SERVICE))


def either(http: str, spans: str) -> str:
    return f"{http}{FALLBACK}{spans}"


def red_panels(model: Model) -> tuple[Panel, ...]:
    scraped = tuple((c.VARIABLE_SERVICE, s.name) for s in model.services if not s.otlp)
    http, spans = svc.HTTP, svc.SPANS
    statuses = "".join(f"{{{{{label}}}}}" for label in http.status_labels + spans.status_labels)
    operations = f"{{{{{http.operation_label}}}}}{{{{{spans.operation_label}}}}}"
    return (
        Panel(PanelKind.ROW, "Rate, errors, duration"),
        Panel(PanelKind.TIMESERIES, "Request rate",
              f"Requests per second of $service from {http.name}; for a service without it, spans per second "
              f"from {spans.name}.",
              (Query(either(svc.source_rate(http, SERVICE), svc.source_rate(spans, SERVICE)), "all"),),
              unit="reqps", empty_for=scraped, why_empty_for=SCRAPED, no_value=QUIET,
              width=8),
        Panel(PanelKind.TIMESERIES, "Error ratio",
              f"Share of requests with {http.error_matcher[0]}=~\"{http.error_matcher[1]}\" (spans: "
              f"{spans.error_matcher[0]}=\"{spans.error_matcher[1]}\"). 0 while nothing failed; a gap means no "
              "traffic at all.",
              (Query(either(svc.source_error_ratio(http, SERVICE), svc.source_error_ratio(spans, SERVICE)),
                     "error ratio"),),
              unit="percentunit", minimum=0, empty_for=scraped, why_empty_for=SCRAPED, no_value=QUIET,
              width=8),
        Panel(PanelKind.TIMESERIES, "Latency p50 / p95 / p99",
              "Quantiles estimated from the request histogram (native or classic buckets), else from spanmetrics. "
              "The SLO dashboard draws each latency SLO's threshold.",
              tuple(Query(either(f"({svc.source_quantile(http, SERVICE, q)})",
                                 svc.source_quantile(spans, SERVICE, q)), name) for name, q in QUANTILES),
              unit="s", minimum=0, empty_for=scraped, why_empty_for=SCRAPED, no_value=QUIET,
              width=8),
        Panel(PanelKind.TIMESERIES, "Rate by status", "Requests (or spans) per second by status code.",
              (Query(either(sum_by(http.status_labels, http.counts(SERVICE)),
                            sum_by(spans.status_labels, spans.counts(SERVICE))), statuses),),
              unit="reqps", empty_for=scraped, why_empty_for=SCRAPED, no_value=QUIET,
              width=12),
        Panel(PanelKind.TIMESERIES, "Rate by operation",
              f"Requests per second by {http.operation_label}, or spans per second by {spans.operation_label} "
              "(one unlabelled series when the instrumentation does not set it).",
              (Query(either(sum_by([http.operation_label], http.counts(SERVICE)),
                            sum_by([spans.operation_label], spans.counts(SERVICE))), operations),),
              unit="reqps", empty_for=scraped, why_empty_for=SCRAPED, no_value=QUIET,
              width=12),
        Panel(PanelKind.TIMESERIES, "In-flight requests",
              f"Requests being served right now ({c.HTTP_ACTIVE_REQUESTS}), an HTTP service's own saturation "
              "signal.",
              (Query(sum_(selector(c.HTTP_ACTIVE_REQUESTS, {c.SERVICE_NAME_LABEL: SERVICE})), "in flight"),),
              unit="short", minimum=0,
              why_empty=("only HTTP instrumentations that emit the semconv metric http.server.active_requests "
                         "fill this panel (opt-in in several SDKs); the verifier's probe traffic does not send it."),
              no_value="not reported by $service", width=24, height=6),
    )


def slo_panel(model: Model) -> Panel:
    sel = matchers((c.LABEL_SERVICE, SERVICE))
    without = tuple((c.VARIABLE_SERVICE, s.name) for s in model.services if not s.slos)
    link = c.dashboard_url_path(c.slo_template_dashboard_uid(model.project),
                                ((c.VARIABLE_SERVICE, FILL), (c.VARIABLE_SLO, "${__data.fields.slo}")))
    return Panel(
        PanelKind.TABLE, "SLOs of $service",
        "Each SLO of the service: objective, error budget left over its period, and how fast it burns now. "
        "Click a row for the SLO's dashboard.",
        (Query(f"max by ({c.LABEL_SLO}) ({c.SLO_OBJECTIVE}{sel})", instant=True),
         Query(f"min by ({c.LABEL_SLO}) ({c.SLO_BUDGET_REMAINING}{sel})", instant=True),
         Query(f"max by ({c.LABEL_SLO}) ({c.SLO_BURN_RATE_CURRENT}{sel})", instant=True)),
        columns=(("Objective", "percentunit", ()),
                 ("Budget remaining", "percentunit", (("red", None), ("orange", 0.0), ("green", 0.25))),
                 ("Burn rate now", "suffix:×", (("green", None), ("orange", 1.0)))),
        hide_columns=("Time",), empty_for=without, why_empty_for=NO_SLO, no_value="no SLO",
        data_links=(("SLO dashboard", link),), width=24, height=6)


def links_panel(model: Model) -> Panel:
    lines = ["**Traces of `$service`**", "",
             f"- [Search them in the Jaeger UI]({svc.jaeger_search_url(model, FILL)})",
             f"- [Explore them in Grafana]({svc.explore_url(FILL)}) (Jaeger datasource `{c.DATASOURCE_JAEGER_UID}`)",
             "", "The service graph below is every service's calls, as Jaeger finds them in traces."]
    return Panel(PanelKind.TEXT, "Traces and notes", "Links to this service's traces.", content="\n".join(lines),
                 width=24, height=5)


def graph_panels() -> tuple[Panel, ...]:
    return (Panel(PanelKind.ROW, "Calls"),
            Panel(PanelKind.NODEGRAPH, "Service graph (from traces)",
                  "Calls between services as Jaeger finds them in traces (parent and child spans of different "
                  "services). `obs verify` fails when a call the spec declares carries no trace, which usually "
                  "means the caller does not propagate W3C tracecontext.", width=24, height=9))


def dashboard(model: Model) -> Dashboard:
    links = header_links(model) + (
        ("SLOs of this service", c.dashboard_url_path(c.slo_template_dashboard_uid(model.project),
                                                     ((c.VARIABLE_SERVICE, FILL),))),
        ("Traces in Jaeger", svc.jaeger_search_url(model, FILL)))
    bindings = tuple(((c.VARIABLE_TEAM, s.team or c.VARIABLE_ALL), (c.VARIABLE_SERVICE, s.name))
                     for s in model.services)
    slos = ((Panel(PanelKind.ROW, "SLOs"), slo_panel(model)) if model.slos else ())
    return Dashboard(
        uid=c.service_template_dashboard_uid(model.project), title=f"{model.project} / service",
        kind="service",
        description=f"{header(model)}. Rate, errors and duration of the service $service picks, from the HTTP "
                    "histogram or spanmetrics, its SLOs and its traces.",
        panels=(links_panel(model),) + red_panels(model) + graph_panels() + slos,
        interval=svc.otlp_interval(model), tags=("obs", model.project, "service"), links=links,
        variables=variables(), bindings=bindings)
