"""The per-service dashboard: rate, errors and duration (R.E.D.), saturation where it exists, and its traces.

HTTP services are read from the semconv histogram http.server.request.duration; every other
service from the spanmetrics connector's output, which the collector derives from its traces.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote as urlquote

from obs.generate.common import header
from obs.generate.dashboards.model import (
    Dashboard,
    Panel,
    PanelKind,
    Query,
    header_links,
    host_for_links,
    num,
    rate,
)
from obs.model import conventions as c
from obs.model.domain import Model, Service
from obs.model.durations import Duration
from obs.model.kinds import SliKind
from obs.model.promql import histogram_count, histogram_quantile, matchers, selector, sum_, sum_by

QUANTILES = (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"))


@dataclass(frozen=True)
class Source:
    """Where a service's R.E.D. metrics come from."""

    name: str                        # shown to the reader
    count: str                       # counter of requests (or spans)
    bucket: str                      # histogram buckets, in seconds
    status_label: str
    error_matcher: tuple[str, str]   # (label, regex) selecting failed requests
    operation_label: str
    unit_name: str                   # requests | spans
    native: str | None = None        # the same histogram stored natively (OTLP exponential), if it may be

    def counts(self, service: str, failed: bool = False) -> str:
        """Per-second counts of every form, series by series (an instance sends one form; see slo_sli)."""
        svc = (c.SERVICE_NAME_LABEL, service)
        selector = matchers(svc, regex=(self.error_matcher,) if failed else ())
        if self.native is None:
            return rate(self.count, selector)
        # The old semantic conventions (milliseconds; the status in http.status_code).
        old_selector = matchers(svc, regex=((c.HTTP_OLD_STATUS_LABEL, "5.."),) if failed else ())
        old = rate(c.HTTP_OLD_DURATION + "_count", old_selector)
        return f"({histogram_count(rate(self.native, selector))} or {rate(self.count, selector)} or {old})"

    @property
    def status_labels(self) -> tuple[str, ...]:
        """`by` labels of the status panel: old-convention series carry the status under its old name."""
        return (self.status_label, c.HTTP_OLD_STATUS_LABEL) if self.native else (self.status_label,)


HTTP = Source(f"the OTel semconv histogram {c.HTTP_DURATION}", c.HTTP_DURATION + "_count",
              c.HTTP_DURATION + "_bucket", c.HTTP_STATUS_LABEL, (c.HTTP_STATUS_LABEL, "5.."),
              c.HTTP_ROUTE_LABEL, "requests", native=c.HTTP_DURATION)
SPANS = Source(f"spanmetrics ({c.SPANMETRICS_CALLS}), derived by the collector from the service's spans",
               c.SPANMETRICS_CALLS, c.SPANMETRICS_DURATION + "_bucket", c.SPANMETRICS_STATUS_LABEL,
               (c.SPANMETRICS_STATUS_LABEL, c.SPANMETRICS_ERROR_STATUS), c.SPANMETRICS_SPAN_NAME_LABEL, "spans")


def source(service: Service) -> Source:
    return HTTP if service.http else SPANS


def otlp_interval(model: Model) -> Duration:
    """How often OTLP-borne series change: the SDK's export interval (spanmetrics flush at the same pace)."""
    t = model.stack.timing
    return max(t.sdk_metric_interval, t.scrape_interval)


def scrape_only_reason(service: Service) -> str:
    if service.otlp:
        return ""
    return (f"{service.name} is scraped, not sent over OTLP: its series carry the scrape job's labels, and "
            f"{c.SERVICE_NAME_LABEL} only if its exporter sets it; spanmetrics need OTLP traces.")


def request_rate(service: Service) -> str:
    return source_rate(source(service), service.name)


def source_rate(s: Source, name: str) -> str:
    return sum_(s.counts(name))


def error_ratio(service: Service) -> str:
    return source_error_ratio(source(service), service.name)


def source_error_ratio(s: Source, name: str) -> str:
    failed = sum_(s.counts(name, failed=True))
    # `or vector(0)`: no failure yet is a ratio of 0, not a gap; `> 0`: no traffic is a gap, not NaN.
    return f"({failed} or vector(0)) / ({source_rate(s, name)} > 0)"


def quantile(service: Service, q: str) -> str:
    return source_quantile(source(service), service.name, q)


def source_quantile(s: Source, name: str, q: str) -> str:
    svc = matchers((c.SERVICE_NAME_LABEL, name))
    classic = histogram_quantile(q, sum_by(["le"], rate(s.bucket, svc)))
    if s.native is None:
        return classic
    old = f"{histogram_quantile(q, sum_by(['le'], rate(c.HTTP_OLD_DURATION + '_bucket', svc)))} / 1000"
    # A fleet sending several forms shows the first form's quantile: buckets of different forms cannot merge.
    return f"{histogram_quantile(q, sum_(rate(s.native, svc)))}\nor {classic}\nor {old}"


def jaeger_search_url(model: Model, service: str) -> str:
    """`service` is a name, or a Grafana variable (`${service}`), kept as written for Grafana to fill."""
    port = model.stack.ports["jaeger_query"]
    return f"http://{host_for_links(model)}:{port}/search?service={urlquote(service, safe='${}')}"


def explore_url(service: str) -> str:
    """Grafana Explore on the Jaeger datasource, searching this service's traces (a name, or `${service}`)."""
    ds = {"type": "jaeger", "uid": c.DATASOURCE_JAEGER_UID}
    panes = {"traces": {"datasource": c.DATASOURCE_JAEGER_UID,
                        "queries": [{"refId": "A", "datasource": ds, "queryType": "search", "service": service}],
                        "range": {"from": "now-1h", "to": "now"}}}
    text = json.dumps(panes, separators=(",", ":"), sort_keys=True)
    # A variable's `$`, `{` and `}` stay as written, so Grafana finds and fills it; a name has none of them.
    return f"/explore?schemaVersion=1&orgId=1&panes={urlquote(text, safe='${}' if '${' in service else '')}"


def latency_steps(service: Service) -> tuple[tuple[str, float | None], ...]:
    """Each latency SLO's threshold, drawn on the latency panel."""
    bounds = sorted({slo.sli.threshold.s for slo in service.slos if slo.sli.threshold is not None})
    return (("green", None),) + tuple(("red", b) for b in bounds) if bounds else ()


def error_steps(service: Service) -> tuple[tuple[str, float | None], ...]:
    """The error budget of each availability SLO: above it, the service burns budget faster than allowed."""
    budgets = sorted({float(slo.error_budget) for slo in service.slos if slo.sli.kind == SliKind.AVAILABILITY})
    return (("green", None),) + tuple(("red", b) for b in budgets) if budgets else ()


def red_panels(service: Service) -> tuple[Panel, ...]:
    s, why = source(service), scrape_only_reason(service)
    quiet = "no OTLP data: the service is scraped" if why else ""
    per_second = "reqps" if service.http else "ops"
    return (
        Panel(PanelKind.ROW, "Rate, errors, duration"),
        Panel(PanelKind.TIMESERIES, f"Request rate ({s.unit_name}/s)",
              f"All {s.unit_name} of {service.name}, from {s.name}.",
              (Query(request_rate(service), "all"),), unit=per_second, why_empty=why, no_value=quiet, width=8),
        Panel(PanelKind.TIMESERIES, "Error ratio",
              f"Share of {s.unit_name} with {s.error_matcher[0]}=~\"{s.error_matcher[1]}\". 0 while nothing failed; "
              "a gap means no traffic at all.",
              (Query(error_ratio(service), "error ratio"),), unit="percentunit", minimum=0, why_empty=why,
              no_value=quiet, width=8,
              steps=error_steps(service), threshold_style="dashed" if error_steps(service) else "off"),
        Panel(PanelKind.TIMESERIES, "Latency p50 / p95 / p99",
              f"Quantiles estimated from the histogram of {s.name} (native or classic buckets). "
              "Dashed lines: the thresholds of this service's latency SLOs.",
              tuple(Query(quantile(service, q), name) for name, q in QUANTILES), unit="s", minimum=0,
              steps=latency_steps(service), threshold_style="dashed" if latency_steps(service) else "off",
              why_empty=why, no_value=quiet, width=8),
        Panel(PanelKind.TIMESERIES, f"Rate by {s.status_label}", f"{s.unit_name.capitalize()} per second by status.",
              (Query(sum_by(s.status_labels, s.counts(service.name)),
                     "".join(f"{{{{{label}}}}}" for label in s.status_labels)),),
              unit=per_second, why_empty=why, no_value=quiet, width=12),
        Panel(PanelKind.TIMESERIES, f"Rate by {s.operation_label}",
              f"{s.unit_name.capitalize()} per second by {s.operation_label} (one unlabelled series when the "
              "instrumentation does not set it).",
              (Query(sum_by([s.operation_label], s.counts(service.name)), f"{{{{{s.operation_label}}}}}"),),
              unit=per_second, why_empty=why, no_value=quiet, width=12),
    )


def saturation_panels(service: Service) -> tuple[Panel, ...]:
    if not service.http:
        return ()   # obs knows no saturation signal of a non-HTTP service; the links panel says so
    why = ("only instrumentations that emit the semconv metric http.server.active_requests fill this panel "
           "(opt-in in several SDKs); the verifier's probe traffic does not send it.")
    return (Panel(PanelKind.ROW, "Saturation"),
            Panel(PanelKind.TIMESERIES, "In-flight requests",
                  f"Requests being served right now ({c.HTTP_ACTIVE_REQUESTS}), the service's own saturation signal.",
                  (Query(sum_(selector(c.HTTP_ACTIVE_REQUESTS, {c.SERVICE_NAME_LABEL: service.name})),
                         "in flight"),),
                  unit="short", minimum=0, why_empty=why, no_value="not reported by this service", width=24,
                  height=6),)


def slo_panels(model: Model, service: Service) -> tuple[Panel, ...]:
    if not service.slos:
        return ()
    panels = [Panel(PanelKind.ROW, "SLOs")]
    for slo in service.slos:
        selector = matchers((c.LABEL_SERVICE, service.name), (c.LABEL_SLO, slo.name))
        panels.append(Panel(
            PanelKind.STAT, f"{slo.name}: error budget remaining",
            f"Share of the {slo.period} error budget of SLO {slo.name} ({num(slo.objective)}%) still unspent. "
            "Open the SLO's dashboard for burn rates and alerts.",
            (Query(f"min({c.SLO_BUDGET_REMAINING}{selector})", instant=True),), unit="percentunit", decimals=1,
            steps=(("red", None), ("orange", 0.0), ("green", 0.25)), width=6, height=5,
            links=((f"SLO {slo.name}", c.dashboard_url_path(c.slo_dashboard_uid(model.project, service.name,
                                                                                   slo.name))),)))
    return tuple(panels)


def graph_panels(model: Model, service: Service) -> tuple[Panel, ...]:
    """Who calls whom, from the traces themselves: shown wherever the spec declares calls to or from the service."""
    callers = sorted(s.name for s in model.services if service.name in s.calls)
    if not service.calls and not callers:
        return ()
    declared = [f"{service.name} → {callee}" for callee in service.calls] + [f"{c_} → {service.name}" for c_ in callers]
    return (Panel(PanelKind.ROW, "Calls"),
            Panel(PanelKind.NODEGRAPH, "Service graph (from traces)",
                  f"Calls between services as Jaeger finds them in traces (parent and child spans of different "
                  f"services). Declared in the spec: {', '.join(declared)}. `obs verify` fails when a declared call "
                  "carries no trace, which usually means the caller does not propagate W3C tracecontext.",
                  width=24, height=9),)


def links_panel(model: Model, service: Service) -> Panel:
    lines = [f"**Traces of `{service.name}`**", "",
             f"- [Search them in the Jaeger UI]({jaeger_search_url(model, service.name)})",
             f"- [Explore them in Grafana]({explore_url(service.name)}) "
             f"(Jaeger datasource `{c.DATASOURCE_JAEGER_UID}`)"]
    if not service.http:
        lines += ["", "No saturation panel: the service serves no HTTP, and obs knows no saturation metric for it."]
    if service.description:
        lines = [service.description, ""] + lines
    return Panel(PanelKind.TEXT, "Traces and notes", "Links to this service's traces.", content="\n".join(lines),
                 width=24, height=5)


def dashboard(model: Model, service: Service) -> Dashboard:
    team = f" Team: {service.team}." if service.team else ""
    links = header_links(model) + tuple(
        (f"SLO {slo.name}", c.dashboard_url_path(c.slo_dashboard_uid(model.project, service.name, slo.name)))
        for slo in service.slos) + (("Traces in Jaeger", jaeger_search_url(model, service.name)),)
    return Dashboard(
        uid=c.service_dashboard_uid(model.project, service.name), title=f"{model.project} / service / {service.name}",
        kind="service",
        description=f"{header(model)}. Rate, errors and duration of {service.name} from {source(service).name}.{team}",
        panels=(links_panel(model, service),) + red_panels(service) + saturation_panels(service)
        + graph_panels(model, service) + slo_panels(model, service),
        interval=otlp_interval(model), tags=("obs", model.project, "service"), links=links)
