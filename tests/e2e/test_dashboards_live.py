"""The generated dashboards against the real stack: with traffic flowing, every panel query that is
not marked as possibly empty returns data, and the panels read what the traffic really was.

The templated dashboards are expanded as Grafana expands them: each variable's label_values query
is asked of the live Prometheus (the earlier variables' values filled in), and every panel must show
data for every value it lists, which must be every service and SLO of the spec.

Runs the real collector, Jaeger, Prometheus and Alertmanager natively (built by
obs.stack.build.ensure when missing) from a fast-profile spec on free ports. Traffic comes
from the OpenTelemetry SDK: the semconv HTTP histogram of an HTTP service, and spans of a
service that only sends traces, so both sources of the service dashboards are exercised.
Grafana is not run here (no Docker engine); its queries are the same PromQL.
"""
from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from obs.commands.generate import generate
from obs.generate.dashboards.model import Binding, Dashboard, Variable, substitute
from obs.generate.dashboards.queries import dashboard_specs, panel_queries, queries_of
from obs.model import conventions as c
from obs.project import load_model
from obs.stack.components import urls
from obs.stack.native import Stack
from obs.verify.poll import Deadline, until
from tests.support.stack_spec import SECRET_ENV, free_ports

pytestmark = pytest.mark.live
ERROR_EVERY = 10                     # one request in ten fails: an error ratio of 0.1
LATENCY_S = (0.03, 0.04)             # every request takes 30-40 ms: p50..p99 between the 0.025 and 0.05 buckets
DATA_DEADLINE_S = 240                # generous: the slowest rules evaluate every few seconds in the fast profile

SPEC = """\
version: obs/v1
project: dash-live
stack:
  profile: fast
  ports:
{ports}
services:
  - name: checkout
    team: payments
    http: true
    slos:
      - name: availability
        objective: 99
        sli: {{availability: {{}}}}
      - name: latency
        objective: 95
        sli: {{latency: {{threshold: 250ms}}}}
  - name: worker
    slos:
      - name: jobs
        objective: 99
        sli:
          events:
            error_query: sum(rate(traces_span_metrics_calls_total{{service_name="worker",status_code="STATUS_CODE_ERROR"}}[{{{{window}}}}]))
            total_query: sum(rate(traces_span_metrics_calls_total{{service_name="worker"}}[{{{{window}}}}]))
alerting:
  receivers:
    - name: oncall
      pagerduty:
        routing_key: {{env: {secret}}}
dashboards:
  layout: {layout}
"""


class Traffic(threading.Thread):
    """Requests of `checkout` as the semconv histogram, and jobs of `worker` as spans, until stopped."""

    def __init__(self, otlp_http: str):
        super().__init__(daemon=True)
        self.stopped = threading.Event()
        buckets = View(instrument_name="http.server.request.duration",
                       aggregation=ExplicitBucketHistogramAggregation(list(c.OTEL_HTTP_BUCKETS)))
        reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{otlp_http}/v1/metrics"), 500)
        self.meters = MeterProvider(resource=Resource.create({"service.name": "checkout"}), metric_readers=[reader],
                                    views=[buckets])
        self.tracers = TracerProvider(resource=Resource.create({"service.name": "worker"}))
        self.tracers.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_http}/v1/traces"),
                                                           schedule_delay_millis=200))
        self.duration = self.meters.get_meter("dash-live").create_histogram("http.server.request.duration", unit="s")
        self.tracer = self.tracers.get_tracer("dash-live")

    def run(self) -> None:
        rng, n = random.Random(7), 0
        while not self.stopped.wait(0.05):
            n += 1
            failed = n % ERROR_EVERY == 0
            self.duration.record(rng.uniform(*LATENCY_S), {"http.request.method": "GET", "http.route": "/pay",
                                                           "http.response.status_code": 500 if failed else 200})
            with self.tracer.start_as_current_span("run-job", kind=SpanKind.CONSUMER) as span:
                if failed:
                    span.set_status(Status(StatusCode.ERROR))

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.meters.shutdown()
        self.tracers.shutdown()


@pytest.fixture(scope="module", params=["templated", "per_service"])
def live(tmp_path_factory, request):
    """The stack with traffic, its spec in each dashboard layout in turn (a stack each: 20 s or so)."""
    directory = tmp_path_factory.mktemp("dash-live")
    spec = directory / c.SPEC_FILE
    ports = "\n".join(f"    {k}: {v}" for k, v in free_ports().items())
    spec.write_text(SPEC.format(ports=ports, secret=SECRET_ENV, layout=request.param), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, "a-routing-key")
        generate(spec, None, check=False)
        model = load_model(spec)
        stack = Stack(directory, model)
        try:
            stack.up(lambda m: print(m, file=sys.stderr))
            traffic = Traffic(urls(model)["otlp_http"])
            traffic.start()
            try:
                yield model, urls(model)["prometheus"]
            finally:
                traffic.stop()
        finally:
            stack.down()


def run(prometheus: str, q) -> list[dict]:
    """One panel query as Grafana would send it: instant, or a range over the last minute."""
    now = time.time()
    if q.instant:
        r = requests.get(f"{prometheus}/api/v1/query", params={"query": q.promql(), "time": now}, timeout=10)
    else:
        r = requests.get(f"{prometheus}/api/v1/query_range", timeout=10, params={
            "query": q.promql(), "start": now - 60, "end": now, "step": q.min_interval})
    body = r.json()
    assert body["status"] == "success", (q.dashboard_uid, q.panel_title, q.promql(), body)
    return body["data"]["result"]


def has_data(result: list[dict]) -> bool:
    values = [v for s in result for v in ([s["value"]] if "value" in s else s["values"])]
    return any(v[1] not in ("NaN", "+Inf", "-Inf") for v in values)


def test_every_panel_that_must_show_data_shows_data_on_the_live_stack(live):
    model, prometheus = live
    queries = panel_queries(model)
    deadline, missing = time.monotonic() + DATA_DEADLINE_S, queries
    while missing and time.monotonic() < deadline:
        missing = [q for q in queries if not q.may_be_empty and not has_data(run(prometheus, q))]
        if missing:
            time.sleep(2)
    assert [(q.dashboard_uid, q.panel_title, q.ref_id, q.promql()) for q in missing] == []
    for q in queries:   # the ones allowed to be empty must still be queries Prometheus accepts
        run(prometheus, q)


def label_values(prometheus: str, variable: Variable, chosen: Binding) -> list[str]:
    """What Grafana lists for `label_values(metric, label)`: the label's values among the series the metric
    selects, the earlier variables' values filled in; and "All" if the variable offers it."""
    now = time.time()
    match = substitute(variable.metric, "1m", chosen)
    r = requests.get(f"{prometheus}/api/v1/label/{variable.source_label}/values", timeout=10,
                     params={"match[]": match, "start": now - 300, "end": now})
    body = r.json()
    assert body["status"] == "success", (variable.query, body)
    return sorted(body["data"]) + ([c.VARIABLE_ALL] if variable.include_all else [])


def expand(prometheus: str, d: Dashboard) -> list[Binding]:
    """Every combination of values the dashboard's variables offer a reader, each narrowed by those before."""
    bindings: list[Binding] = [()]
    for v in d.variables:
        bindings = [b + ((v.name, value),) for b in bindings for value in label_values(prometheus, v, b)]
    return bindings


def test_every_templated_panel_shows_data_for_every_value_prometheus_lists_for_its_variables(live):
    model, prometheus = live
    templated = [d for d in dashboard_specs(model) if d.variables]
    if model.dashboard_layout == "per_service":
        assert templated == []   # every name is written into the queries: the test above ran them all
        return
    assert {d.uid for d in templated} == {c.overview_dashboard_uid(model.project),
                                          c.service_template_dashboard_uid(model.project),
                                          c.slo_template_dashboard_uid(model.project)}
    deadline = time.monotonic() + DATA_DEADLINE_S
    while True:
        expanded = {d.uid: expand(prometheus, d) for d in templated}
        queries = [q for d in templated for b in expanded[d.uid] for q in queries_of(d, b)]
        missing = [q for q in queries if not q.may_be_empty and not has_data(run(prometheus, q))]
        # The last variable (service, slo, team) lists exactly what the spec declares: no more, no fewer.
        listed = {d.uid: {b[-1] for b in expanded[d.uid]} for d in templated}
        spec = {d.uid: {b[-1] for b in d.bindings} for d in templated}
        if (listed == spec and not missing) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert listed == spec
    assert listed[c.service_template_dashboard_uid(model.project)] == {("service", "checkout"), ("service", "worker")}
    assert listed[c.overview_dashboard_uid(model.project)] == {("team", "payments"), ("team", c.VARIABLE_ALL)}
    for d in templated:   # what the verifier checks offline is among what a reader can pick
        assert set(d.bindings) <= set(expanded[d.uid]), d.uid
    # $team narrows $service: the payments team offers checkout alone.
    assert [b for b in expanded[c.service_template_dashboard_uid(model.project)] if ("team", "payments") in b] == \
        [(("team", "payments"), ("service", "checkout"))]
    assert [(q.where, q.panel_title, q.ref_id, q.promql()) for q in missing] == []
    assert len(queries) > 80


def last_value(model, prometheus: str, uid: str, title: str, ref: str = "A", **variables: str) -> float:
    (q,) = [q for q in panel_queries(model) if (q.dashboard_uid, q.panel_title, q.ref_id) == (uid, title, ref)
            and variables.items() <= dict(q.variables).items()]
    result = run(prometheus, q)
    if not result:
        return float("nan")   # no data yet: never within bounds, so `settled` reads again
    series = result[0]
    return float(series["value"][1] if "value" in series else series["values"][-1][1])


def settled(read: Callable[[], float], low: float, high: float) -> float:
    """The reading once it lies within `low` and `high`, or the last one when DATA_DEADLINE_S has passed.

    The earlier tests only wait for data, and a panel has data before it reads the traffic right: the 5xx series
    begins an export after the 2xx one, and until it holds two samples the recorded error rate is 0 (the rule's
    `or on() 0 * events`); a long-window group then holds that 0 for its interval."""
    read_last: list[float] = []

    def within() -> float | None:
        read_last[:] = [read()]
        return read_last[0] if low <= read_last[0] <= high else None
    until(within, Deadline.after(DATA_DEADLINE_S), cap=1.0)
    return read_last[0]


def test_the_panels_read_the_error_ratio_latency_and_burn_rate_the_traffic_had(live):
    model, prometheus = live
    templated = model.dashboard_layout == "templated"

    def service_page(name: str) -> tuple[str, dict[str, str]]:
        if templated:
            return c.service_template_dashboard_uid(model.project), {"service": name}
        return c.service_dashboard_uid(model.project, name), {}

    for name in ("checkout", "worker"):   # the HTTP histogram of one, the spanmetrics of the other
        uid, chosen = service_page(name)
        low, high = 0.5 / ERROR_EVERY, 2.0 / ERROR_EVERY
        ratio = settled(lambda u=uid, v=chosen: last_value(model, prometheus, u, "Error ratio", **v), low, high)
        assert low < ratio < high
    uid, chosen = service_page("checkout")
    for ref in ("A", "B", "C"):   # p50, p95, p99 of requests that all took 30-40 ms
        latency = settled(lambda r=ref: last_value(model, prometheus, uid, "Latency p50 / p95 / p99", r, **chosen),
                          0.025, 0.05)
        assert 0.025 <= latency <= 0.05
    slo, chosen = ((c.slo_template_dashboard_uid(model.project), {"service": "checkout", "slo": "availability"})
                   if templated else (c.slo_dashboard_uid(model.project, "checkout", "availability"), {}))
    assert settled(lambda: last_value(model, prometheus, slo, "Objective", **chosen), 0.99, 0.99) == pytest.approx(0.99)
    # 10% errors against a 1% budget: the budget burns about ten times faster than allowed.
    assert 5 < settled(lambda: last_value(model, prometheus, slo, "Burn rate now", **chosen), 5, 20) < 20
    if not templated:
        return
    # The same budget burns in every window the SLO records once its data is there: the 5m one at least.
    burn = run(prometheus, next(q for q in panel_queries(model) if q.dashboard_uid == slo and q.variables ==
                                tuple(chosen.items()) and q.panel_title == "Burn rate over every recorded window"))
    assert 5 < float(next(s for s in burn if s["metric"]["window"] == "5m")["values"][-1][1]) < 20
