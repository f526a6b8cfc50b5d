"""The generated collector, Jaeger and Prometheus configs run for real, on free ports.

OTLP goes in through the collector exactly as a service would send it; what comes
out must carry the names the generated SLO rules and the conventions query: the
semconv histogram as Prometheus 3 stores it, and spanmetrics for trace-only services.
"""
from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from obs.generate.configs import jaeger, prometheus
from obs.model import conventions as c
from obs.stack.build import ensure
from tests.support.pipeline_specs import free_ports, load, model, ports_block, write_tree

pytestmark = pytest.mark.live   # it starts the real collector, Jaeger and Prometheus

# A guard against a hung test, not a latency claim: the fast profile delivers in about a second.
GIVE_UP_S = 90


def wait_for(what: str, probe: Callable[[], object], logs: Path) -> object:
    deadline = time.monotonic() + GIVE_UP_S
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except requests.RequestException as e:
            last = e
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"{what}: still {last!r}\n{tails}")


def http_ok(url: str) -> Callable[[], bool]:
    return lambda: requests.get(url, timeout=2).status_code == 200


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[dict[str, int], Path]]:
    ports = free_ports()
    m = model("fast", "push", stack_extra=ports_block(ports) + "\n  persistent_queue: true")
    out = tmp_path_factory.mktemp("live")
    write_tree(m, out)
    bins = ensure(["jaeger", "prometheus"], progress=lambda _: None)
    bins["otelcol"] = ensure(["otelcol"], manifest=out / c.OTELCOL_MANIFEST, progress=lambda _: None)["otelcol"]
    logs = out / c.STATE_LOGS
    logs.mkdir(parents=True)
    argv = {
        "jaeger": [bins["jaeger"], f"--config={c.JAEGER_CONFIG}"],
        "prometheus": [bins["prometheus"], f"--config.file={c.PROMETHEUS_CONFIG}",
                       f"--storage.tsdb.path={c.state_data_dir('prometheus')}",
                       f"--web.listen-address=127.0.0.1:{ports['prometheus']}", *prometheus.required_flags(m)],
        "otelcol": [bins["otelcol"], f"--config={c.OTELCOL_CONFIG}"],
    }
    health = {"jaeger": f"http://127.0.0.1:{ports['jaeger_health']}{jaeger.HEALTH_PATH}",
              "prometheus": f"http://127.0.0.1:{ports['prometheus']}/-/ready",
              "otelcol": f"http://127.0.0.1:{ports['collector_health']}/"}
    procs = []
    try:
        for name, args in argv.items():   # backends first, as the native runner starts them
            log = (logs / f"{name}.log").open("w")
            procs.append(subprocess.Popen([str(a) for a in args], cwd=out, stdout=log, stderr=subprocess.STDOUT))
            wait_for(f"{name} health", http_ok(health[name]), logs)
        yield ports, out
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def query(ports: dict[str, int], promql: str) -> list[dict]:
    r = requests.get(f"http://127.0.0.1:{ports['prometheus']}/api/v1/query", params={"query": promql}, timeout=5)
    r.raise_for_status()
    return r.json()["data"]["result"]


def send_old_request_metric(ports: dict[str, int], service: str, status: int, milliseconds: float) -> None:
    """One request as the Python distro sends it without the stable opt-in: http.server.duration in ms."""
    exporter = OTLPMetricExporter(endpoint=f"http://127.0.0.1:{ports['otlp_http']}/v1/metrics")
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    provider = MeterProvider(resource=Resource.create({"service.name": service, "service.instance.id": "old"}),
                             metric_readers=[reader])
    histogram = provider.get_meter("obs-test").create_histogram(
        "http.server.duration", unit="ms", explicit_bucket_boundaries_advisory=[b * 1000 for b in c.OTEL_HTTP_BUCKETS])
    histogram.record(milliseconds, {"http.method": "GET", "http.status_code": status})
    provider.shutdown()


def send_request_metric(ports: dict[str, int], service: str, status: int, seconds: float, native: bool = False) -> None:
    """One request's duration, as explicit buckets or (native=True) as an exponential histogram."""
    exporter = OTLPMetricExporter(endpoint=f"http://127.0.0.1:{ports['otlp_http']}/v1/metrics",
                                  preferred_aggregation={Histogram: ExponentialBucketHistogramAggregation()}
                                  if native else None)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    provider = MeterProvider(resource=Resource.create({"service.name": service, "service.instance.id":
                                                       "native" if native else "classic"}), metric_readers=[reader])
    histogram = provider.get_meter("obs-test").create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=list(c.OTEL_HTTP_BUCKETS))
    histogram.record(seconds, {"http.request.method": "GET", "http.route": "/items", "http.response.status_code": status})
    provider.shutdown()   # flushes: one export


def send_span(ports: dict[str, int], service: str, status: int) -> str:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{ports['otlp_http']}/v1/traces")))
    with provider.get_tracer("obs-test").start_as_current_span(
            "GET /search", kind=SpanKind.SERVER,
            attributes={"http.request.method": "GET", "http.route": "/search", "http.response.status_code": status}) as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id


def test_jaeger_answers_health_and_its_query_api_on_the_generated_ports(stack):
    ports, _ = stack
    assert requests.get(f"http://127.0.0.1:{ports['jaeger_health']}{jaeger.HEALTH_PATH}", timeout=5).status_code == 200
    assert requests.get(f"http://127.0.0.1:{ports['jaeger_query']}/api/services", timeout=5).status_code == 200


@pytest.mark.parametrize("job", [c.JOB_PROMETHEUS, c.JOB_OTELCOL, c.JOB_JAEGER])
def test_prometheus_scrapes_the_stack_on_the_generated_ports(stack, job):
    ports, out = stack
    wait_for(f"up{{job={job!r}}} == 1", lambda: query(ports, f'up{{job="{job}"}} == 1'), out / c.STATE_LOGS)


def test_semconv_http_metrics_land_under_the_names_the_slo_rules_query(stack):
    ports, out = stack
    send_request_metric(ports, "api-gateway", 500, 0.3)                # the Node.js SDK's form
    send_request_metric(ports, "api-gateway", 500, 0.3, native=True)   # the Python SDK's, configured by obs env
    send_old_request_metric(ports, "api-gateway", 500, 300)             # the Python distro's default
    groups = load((out / c.rules_file("api-gateway")).read_text())["groups"]
    exprs = "\n".join(r["expr"] for g in groups for r in g["rules"])
    selectors = set(re.findall(r"rate\(([a-z_:]+\{[^}]*\})\[5m\]\)", exprs))
    assert any(f'{c.HTTP_STATUS_LABEL}=~"5.."' in s for s in selectors) and any('le="0.5"' in s for s in selectors)
    assert any(f'{c.HTTP_OLD_STATUS_LABEL}=~"5.."' in s for s in selectors) and any("500" in s for s in selectors)
    for selector in sorted(selectors):
        wait_for(selector, lambda s=selector: query(ports, s), out / c.STATE_LOGS)


def test_a_trace_only_service_gets_span_metrics_and_its_trace_reaches_jaeger(stack):
    ports, out = stack
    trace_id = send_span(ports, "search", 503)
    calls = f'{c.SPANMETRICS_CALLS}{{{c.SERVICE_NAME_LABEL}="search",{c.HTTP_STATUS_LABEL}="503"}}'
    wait_for(calls, lambda: query(ports, calls), out / c.STATE_LOGS)
    bucket = f'{c.SPANMETRICS_DURATION}_bucket{{{c.SERVICE_NAME_LABEL}="search",le="0.2"}}'
    wait_for(bucket, lambda: query(ports, bucket), out / c.STATE_LOGS)
    wait_for(f"trace {trace_id} in Jaeger",
             http_ok(f"http://127.0.0.1:{ports['jaeger_query']}/api/v3/traces/{trace_id}"), out / c.STATE_LOGS)
