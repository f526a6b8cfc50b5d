"""An empty SLI, diagnosed from what the service does send: each case points at the one setting to change.

The metric names and `le` values are those the real services of tests/realsvc send (README there):
Node.js keeps the SDK's default explicit buckets, Python sends native histograms with the exponential
aggregation and the old `http_server_duration_milliseconds` without the stability opt-in.
"""
from __future__ import annotations

import pytest

from obs.model import conventions as c
from obs.project import load_text
from obs.verify import sli_diagnosis as sd

SPEC = """\
version: obs/v1
project: diag
stack: {profile: fast}
services:
  - name: api-gateway
    http: true
    histogram: classic
    latency_buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
    slos:
      - {name: availability, objective: 99, sli: {availability: {}}}
      - {name: latency, objective: 95, sli: {latency: {threshold: 300ms}}}
  - name: memory-search
    http: true
    slos:
      - {name: latency, objective: 95, sli: {latency: {threshold: 1s}}}
  - name: worker
    slos:
      - name: jobs
        objective: 99
        sli:
          events:
            error_query: sum(rate(jobs_total{service_name="worker",outcome="failure"}[{{window}}]))
            total_query: sum(rate(jobs_total{service_name="worker"}[{{window}}]))
"""
MODEL = load_text(SPEC, "obs.yaml")
SLOS = {(s.service, s.name): s for s in MODEL.slos}
TIMING = MODEL.stack.timing
EMPTY = "no data from obs:slo_events:rate5m"

STABLE, OLD = c.HTTP_DURATION, "http_server_duration_milliseconds"
CLASSIC = frozenset({f"{STABLE}_bucket", f"{STABLE}_count", f"{STABLE}_sum", "target_info"})
NODE = CLASSIC | {"v8js_gc_duration_seconds_bucket", "nodejs_eventloop_delay_max_seconds"}
NODE_LE = frozenset({"0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5", "7.5",
                     "10", "+Inf"})
SPANMETRICS = frozenset({c.SPANMETRICS_CALLS, f"{c.SPANMETRICS_DURATION}_bucket", f"{c.SPANMETRICS_DURATION}_count",
                         f"{c.SPANMETRICS_DURATION}_sum"})
FRESH = dict(samples=60, gap_s=1.0)


def facts(service: str, names=frozenset(), **kw) -> sd.SeriesFacts:
    return sd.SeriesFacts(service, frozenset(names), **kw)


CASES = [
    ("a service that sends nothing is told to instrument itself with obs env",
     ("api-gateway", "availability"), facts("api-gateway"), sd.NO_TELEMETRY,
     ["no series with service_name=\"api-gateway\""], ["`obs env api-gateway`", "obs verify --traffic"]),
    ("a service started without a name is pointed out when nothing carries the declared one",
     ("api-gateway", "availability"), facts("api-gateway", unnamed=("unknown_service:node",)), sd.NO_TELEMETRY,
     ["unknown_service:node", "OTEL_SERVICE_NAME"], ["`obs env api-gateway`"]),
    ("target_info alone is no telemetry of the service",
     ("api-gateway", "availability"), facts("api-gateway", {"target_info"}), sd.NO_TELEMETRY, [], []),
    ("a service whose only series are the collector's span metrics has its metrics exporter off",
     ("api-gateway", "availability"), facts("api-gateway", SPANMETRICS), sd.NO_METRICS,
     ["sends traces", "no metrics of its own"], ["OTEL_METRICS_EXPORTER=otlp"]),
    ("old semconv as an exponential histogram in ms gets the stability opt-in",
     ("memory-search", "latency"), facts("memory-search", SPANMETRICS | {OLD, "http_server_active_requests"}),
     sd.OLD_SEMCONV, [OLD, "exponential histogram in ms", "cannot rescale"],
     ["OTEL_SEMCONV_STABILITY_OPT_IN=http", "`obs env memory-search`"]),
    ("old semconv in explicit buckets means the running collector does not convert it",
     ("api-gateway", "availability"), facts("api-gateway", {f"{OLD}_bucket", f"{OLD}_count", f"{OLD}_sum"}),
     sd.OLD_SEMCONV, ["did not convert", "obs generate"], ["OTEL_SEMCONV_STABILITY_OPT_IN=http"]),
    ("other metrics but no HTTP histogram says what arrives instead",
     ("api-gateway", "availability"), facts("api-gateway", SPANMETRICS | {"nodejs_eventloop_delay_max_seconds"}),
     sd.NO_HTTP_METRIC, ["nodejs_eventloop_delay_max_seconds", f"no {STABLE}"], ["instrument api-gateway's HTTP"]),
    ("classic buckets without the threshold's bucket get native histograms or a View",
     ("api-gateway", "latency"), facts("api-gateway", CLASSIC, le=NODE_LE, **FRESH), sd.NO_THRESHOLD_BUCKET,
     ["le 0.005, 0.01", "none at the latency threshold 300ms (le=\"0.3\")"],
     ["`histogram: native`", "base2_exponential_bucket_histogram", "Node.js ignores that variable",
      "View with the boundary 0.3", "latency_buckets", "(250ms)"]),
    ("a Node.js service (its runtime metrics say so) is told only what works on Node.js: a View",
     ("api-gateway", "latency"), facts("api-gateway", NODE, le=NODE_LE, **FRESH), sd.NO_THRESHOLD_BUCKET,
     ["none at the latency threshold 300ms"],
     ["runs on Node.js, which ignores the exponential-aggregation setting", "View with the boundary 0.3",
      "(250ms)"]),
    ("a threshold bucket written as 1 matches a 1s threshold",
     ("memory-search", "latency"), facts("memory-search", CLASSIC, le=NODE_LE, **FRESH), sd.UNEXPLAINED,
     ["although memory-search sends"], ["obs test"]),
    ("native histograms read any threshold, so buckets are no reason",
     ("api-gateway", "latency"), facts("api-gateway", CLASSIC | {STABLE}, le=NODE_LE, **FRESH), sd.UNEXPLAINED,
     [], []),
    ("missing buckets do not matter to an availability SLI",
     ("api-gateway", "availability"), facts("api-gateway", CLASSIC, le=NODE_LE, **FRESH), sd.UNEXPLAINED, [], []),
    ("one sample in the window is too few for rate(): the export interval, or a service just started",
     ("api-gateway", "availability"), facts("api-gateway", CLASSIC, metric=f"{STABLE}_count", samples=1),
     sd.EXPORT_INTERVAL, ["1 sample(s) in the last 5m", "needs two", "expects one every 1s"],
     ["OTEL_METRIC_EXPORT_INTERVAL=1000", "`obs env api-gateway`", "has just started"]),
    ("samples a minute apart in the fast profile are an export interval left at the SDK default",
     ("memory-search", "latency"), facts("memory-search", {STABLE}, metric=STABLE, samples=4, gap_s=60.0),
     sd.EXPORT_INTERVAL, ["one every 60s", "dashboards rate over 4s"], ["OTEL_METRIC_EXPORT_INTERVAL=1000"]),
    ("samples at the profile's pace are no export-interval problem",
     ("memory-search", "latency"), facts("memory-search", {STABLE}, metric=STABLE, samples=300, gap_s=1.0),
     sd.UNEXPLAINED, [], []),
    ("an events SLI whose selector matches nothing names the selector and what the service sends",
     ("worker", "jobs"), facts("worker", {"jobs_processed_total"}, unmatched=('jobs_total{service_name="worker"}',)),
     sd.NO_MATCH, ['`jobs_total{service_name="worker"}`', "jobs_processed_total"], ["queries select"]),
    ("an events SLI with nothing from the service and nothing matched is no telemetry",
     ("worker", "jobs"), facts("worker", unmatched=('jobs_total{service_name="worker"}',)), sd.NO_TELEMETRY, [], []),
    ("an events SLI may select by other labels: matched selectors are not 'no telemetry'",
     ("worker", "jobs"), facts("worker", metric="jobs_total{job=\"w\"}", samples=1), sd.EXPORT_INTERVAL, [], []),
]


@pytest.mark.parametrize("slo, observed, case, why_has, fix_has", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_empty_sli_is_diagnosed_from_what_the_service_sends(slo, observed, case, why_has, fix_has):
    d = sd.classify(SLOS[slo], observed, TIMING, EMPTY)
    assert d.case == case
    assert d.why.startswith(EMPTY + ":") or d.why.startswith(EMPTY + ",")
    for text in why_has:
        assert text in d.why
    for text in fix_has:
        assert text in d.fix


@pytest.mark.parametrize("le, threshold, has", [
    ({"0.25", "0.5"}, 0.3, False), ({"0.3"}, 0.3, True), ({"1"}, 1.0, True), ({"1.0"}, 1.0, True),
    ({"+Inf", "abc"}, 0.3, False), (set(), 0.3, False),
], ids=["no bucket at 0.3", "a bucket at 0.3", "Go's 1", "Prometheus's 1.0", "+Inf and garbage", "no buckets"])
def test_the_threshold_bucket_is_found_whichever_way_le_is_written(le, threshold, has):
    assert sd.has_threshold_bucket(frozenset(le), threshold) is has


def test_the_selectors_of_an_events_sli_are_read_from_its_queries():
    slo = SLOS[("worker", "jobs")]
    assert sd._selectors(slo.sli.total_query) == ['jobs_total{service_name="worker"}']
