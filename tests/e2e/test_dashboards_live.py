"""The generated dashboards against the real stack: with traffic flowing, every panel query that is
not marked as possibly empty returns data, and the panels read what the traffic really was.

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
from obs.generate.dashboards.queries import panel_queries
from obs.model import conventions as c
from obs.project import load_model
from obs.stack.components import urls
from obs.stack.native import Stack
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


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    directory = tmp_path_factory.mktemp("dash-live")
    spec = directory / c.SPEC_FILE
    ports = "\n".join(f"    {k}: {v}" for k, v in free_ports().items())
    spec.write_text(SPEC.format(ports=ports, secret=SECRET_ENV), encoding="utf-8")
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


def last_value(model, prometheus: str, uid: str, title: str, ref: str = "A") -> float:
    (q,) = [q for q in panel_queries(model) if (q.dashboard_uid, q.panel_title, q.ref_id) == (uid, title, ref)]
    series = run(prometheus, q)[0]
    return float(series["value"][1] if "value" in series else series["values"][-1][1])


def test_the_panels_read_the_error_ratio_latency_and_burn_rate_the_traffic_had(live):
    model, prometheus = live
    checkout = c.service_dashboard_uid(model.project, "checkout")
    worker = c.service_dashboard_uid(model.project, "worker")
    for uid in (checkout, worker):
        assert 0.5 / ERROR_EVERY < last_value(model, prometheus, uid, "Error ratio") < 2.0 / ERROR_EVERY
    for ref in ("A", "B", "C"):   # p50, p95, p99 of requests that all took 30-40 ms
        assert 0.025 <= last_value(model, prometheus, checkout, "Latency p50 / p95 / p99", ref) <= 0.05
    slo = c.slo_dashboard_uid(model.project, "checkout", "availability")
    assert last_value(model, prometheus, slo, "Objective") == pytest.approx(0.99)
    # 10% errors against a 1% budget: the budget burns about ten times faster than allowed.
    assert 5 < last_value(model, prometheus, slo, "Burn rate now") < 20
