"""Real clients against the real native stack: what zero-code Node.js and Python instrumentation delivers.

`api-gateway` (Node.js, plain node:http under `--require @opentelemetry/auto-instrumentations-node/register`)
calls `memory-search` (Flask under `opentelemetry-instrument`), both configured by nothing but what `obs env`
prints (`realsvc.service_env`; the explicit-bucket run overrides the aggregation to what `obs env` prints for a
`histogram: classic` service). memory-search fails every ERROR_EVERY-th request and is slow
on every SLOW_EVERY-th, so the error and slow counts are known exactly, and the test checks what arrives in
Jaeger and Prometheus against them. Each run is told apart by its own `service.instance.id`, which the
generated Prometheus config promotes to the `service_instance_id` label. Facts measured: tests/realsvc/README.md.
"""
from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from obs.commands.generate import generate
from obs.project import load_model
from obs.stack import tools
from obs.stack.components import urls
from obs.stack.native import Stack
from obs.verify.clients import Http, Prometheus
from tests.support import realsvc as rs
from tests.support.stack_spec import free_ports, port_is_free

pytestmark = pytest.mark.live

N = 60                      # requests per run
RATE = 30.0                 # per second
ERROR_EVERY = 10            # memory-search answers 500 to every 10th request
SLOW_EVERY = 15             # ... and sleeps SLOW_SECONDS before every 15th
SLOW_SECONDS = 1.5
THRESHOLD = 1.0             # the latency SLO's threshold: a bucket boundary of both SDKs, and a power of 2
ERRORS, SLOW = N // ERROR_EVERY, N // SLOW_EVERY
# How long the stack may take to show what a stopped (flushed) service sent; polling ends as soon as it does.
ARRIVAL_BUDGET_S = 60.0
STABLE = "http_server_request_duration_seconds"
OLD = "http_server_duration_milliseconds"
EXPLICIT, EXPONENTIAL = "explicit_bucket_histogram", "base2_exponential_bucket_histogram"


def progress(message: str) -> None:
    print(message, file=sys.stderr)


def write_spec(directory: Path, ports: dict[str, int]) -> Path:
    port_lines = "\n".join(f"    {k}: {v}" for k, v in ports.items())
    slos = f"""\
    slos:
      - name: availability
        objective: 99
        sli:
          availability: {{}}
      - name: latency
        objective: 95
        sli:
          latency:
            threshold: {int(THRESHOLD * 1000)}ms
"""
    spec = directory / "obs.yaml"
    spec.write_text(f"""\
version: obs/v1
project: realsvc-test
stack:
  profile: fast
  ports:
{port_lines}
services:
  - name: api-gateway
    http: true
{slos}  - name: memory-search
    http: true
{slos}""")
    return spec


def two_free_ports(taken: set[int]) -> tuple[int, int]:
    chosen: list[int] = []
    for port in range(30100, 30999):
        if port not in taken and port_is_free(port):
            chosen.append(port)
            if len(chosen) == 2:
                return chosen[0], chosen[1]
    raise AssertionError("no two free ports in 30100-30999 for the services")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, installed):
    ports = free_ports()
    spec = write_spec(tmp_path_factory.mktemp("realsvc"), ports)
    generate(spec, None, check=False)
    st = Stack(spec.parent, load_model(spec))
    st.up(progress)
    yield st
    st.down()


@pytest.fixture(scope="module")
def prometheus(stack) -> Prometheus:
    return Prometheus(urls(stack.model)["prometheus"])


@dataclass(frozen=True)
class Run:
    histogram: str
    node_instance: str
    python_instance: str
    answers: Counter
    started_us: int
    ended_us: int
    exit_codes: tuple[int, int]


@pytest.fixture(scope="module", params=[EXPLICIT, EXPONENTIAL])
def run(request, stack) -> Run:
    """One run of both services with the histogram aggregation of the param: N requests, then SIGTERM (flush)."""
    histogram = request.param
    tag = f"{histogram.split('_')[0]}-{uuid.uuid4().hex[:8]}"
    node_port, python_port = two_free_ports(set(stack.model.stack.ports.values()))
    logs = stack.out / "realsvc-logs"
    spec = stack.out / "obs.yaml"
    python = rs.start_python(
        rs.service_env(spec, "memory-search", instance=f"{tag}-python", **{rs.AGGREGATION: histogram}),
        python_port, logs / f"memory-search-{tag}.log",
        error_every=ERROR_EVERY, slow_every=SLOW_EVERY, slow_seconds=SLOW_SECONDS)
    node = None
    try:
        node = rs.start_node(
            rs.service_env(spec, "api-gateway", instance=f"{tag}-node", **{rs.AGGREGATION: histogram}),
            node_port, f"http://127.0.0.1:{python_port}/search", logs / f"api-gateway-{tag}.log")
        started = time.time_ns() // 1000
        answers = rs.drive(f"http://127.0.0.1:{node_port}/work", N, RATE)
        ended = time.time_ns() // 1000
    finally:
        codes = (rs.stop(node) if node else -1, rs.stop(python))
    return Run(histogram, f"{tag}-node", f"{tag}-python", answers, started, ended, codes)


def wait_for(read, want):
    """Poll `read()` until it equals `want` or the budget is spent; return the last value read."""
    deadline = time.monotonic() + ARRIVAL_BUDGET_S
    value = read()
    while value != want and time.monotonic() < deadline:
        time.sleep(0.5)
        value = read()
    return value


def scalar(prometheus: Prometheus, promql: str) -> float | None:
    result = prometheus.query(promql)
    if not result:
        return None
    assert len(result) == 1, (promql, result)
    return float(result[0]["value"][1])


def served(prometheus: Prometheus, metric: str, instance: str, extra: str = "") -> float | None:
    """Requests a service counted, read from whichever layout it sent: classic `_count` or a native histogram."""
    sel = f'service_instance_id="{instance}"{extra}'
    classic = scalar(prometheus, f"sum({metric}_count{{{sel}}})")
    native = scalar(prometheus, f"sum(histogram_count({metric}{{{sel}}}))")
    return classic if native is None else native if classic is None else classic + native


def layout(prometheus: Prometheus, metric: str, instance: str) -> set[str]:
    """Which series a histogram arrived as: `classic` (_bucket/_count/_sum) and/or `native` (one histogram series)."""
    found = set()
    if prometheus.query(f'{metric}_bucket{{service_instance_id="{instance}"}}'):
        found.add("classic")
    if prometheus.query(f'histogram_count({metric}{{service_instance_id="{instance}"}})'):
        found.add("native")
    return found


# --- the harness itself ---------------------------------------------------------------------------------------

def test_a_machine_without_npm_fails_the_install_naming_npm_and_how_to_get_it(monkeypatch, tmp_path):
    import dataclasses

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(tools.SYSTEM, "npm", dataclasses.replace(tools.SYSTEM["npm"], fallbacks=()))
    monkeypatch.setenv("OBS_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(rs.RealServiceError, match=r"need npm: `npm` is not on PATH.*apt-get install npm"):
        rs.install_node()


def test_a_service_sees_only_the_otel_variables_it_was_given_and_none_of_the_parents(installed, monkeypatch,
                                                                                       tmp_path):
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "leaked.from=parent")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-leak=1")
    given = {"OTEL_SERVICE_NAME": "memory-search", "OTEL_TRACES_EXPORTER": "none",
             "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
    port, _ = two_free_ports(set())
    proc = rs.start_python(given, port, tmp_path / "python.log")
    try:
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        seen = dict(item.decode().split("=", 1) for item in environ if item)
        assert {k: v for k, v in seen.items() if k.startswith("OTEL_")} == given
    finally:
        assert rs.stop(proc) == 0


def test_drive_sends_exactly_n_requests_and_the_python_service_fails_exactly_every_kth(installed, tmp_path):
    port, _ = two_free_ports(set())
    proc = rs.start_python({"OTEL_SDK_DISABLED": "true"}, port, tmp_path / "python.log", error_every=4)
    try:
        answers = rs.drive(f"http://127.0.0.1:{port}/search", 20, 50)
        counts = Http(f"http://127.0.0.1:{port}").get_json("/counts")[1]
    finally:
        rs.stop(proc)
    assert answers == Counter({200: 15, 500: 5})
    assert counts == {"requests": 20, "errors": 5, "slow": 0, "medium": 0}


def test_drive_refuses_a_host_other_than_loopback():
    with pytest.raises(ValueError, match="loopback only"):
        rs.drive("http://example.com/work", 1, 1)


# --- two real services, stable semconv ------------------------------------------------------------------------

def test_both_services_answer_every_request_and_exit_cleanly_on_sigterm(run):
    assert run.answers == Counter({200: N - ERRORS, 500: ERRORS})
    assert run.exit_codes == (0, 0)


def test_every_gateway_request_is_one_trace_holding_spans_of_both_services(run, stack):
    jaeger = Http(urls(stack.model)["jaeger_query"])

    def traces() -> dict[str, set[str]]:
        status, doc = jaeger.get_json("/api/traces", service="api-gateway", start=run.started_us,
                                      end=run.ended_us + 60_000_000, limit=10 * N)
        assert status == 200, doc
        found = {}
        for trace in doc.get("data") or []:
            processes = trace["processes"].values()
            instances = {t["value"] for p in processes for t in p.get("tags", []) if t["key"] == "service.instance.id"}
            if run.node_instance in instances:
                found[trace["traceID"]] = {p["serviceName"] for p in processes}
        return found

    want = {"api-gateway", "memory-search"}
    deadline = time.monotonic() + ARRIVAL_BUDGET_S
    found = traces()
    while (len(found) < N or any(s != want for s in found.values())) and time.monotonic() < deadline:
        time.sleep(0.5)
        found = traces()
    assert len(found) == N
    assert Counter(frozenset(s) for s in found.values()) == Counter({frozenset(want): N})


@pytest.mark.parametrize("service", ["api-gateway", "memory-search"])
def test_prometheus_counts_every_request_each_service_served_in_the_stable_duration_histogram(run, prometheus,
                                                                                              service):
    instance = run.node_instance if service == "api-gateway" else run.python_instance
    count = wait_for(lambda: served(prometheus, STABLE, instance), N)
    assert count == N
    series = prometheus._data("/api/v1/series", **{"match[]": f'{{service_instance_id="{instance}"}}'})
    names = {s["__name__"] for s in series}
    assert not any(n.startswith(OLD) for n in names), names
    assert {s["service_name"] for s in series} == {service} and {s["job"] for s in series} == {f"realsvc-test/{service}"}


@pytest.mark.parametrize("service", ["api-gateway", "memory-search"])
def test_the_error_ratio_in_prometheus_is_exactly_the_one_memory_search_was_configured_with(run, prometheus,
                                                                                            service):
    instance = run.node_instance if service == "api-gateway" else run.python_instance
    wait_for(lambda: served(prometheus, STABLE, instance), N)
    errors = wait_for(lambda: served(prometheus, STABLE, instance, ', http_response_status_code=~"5.."'),
                      ERRORS)
    total = served(prometheus, STABLE, instance)
    assert (errors, total) == (ERRORS, N)
    assert errors / total == pytest.approx(1 / ERROR_EVERY)


# What each SDK sends for the param's aggregation: the Python SDK honours
# OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION; NodeSDK (the register hook's) ignores it in
# auto-instrumentations-node 0.81.2 / sdk-node 0.223 (open-telemetry/opentelemetry-js#3920), so api-gateway
# stays classic. When this assertion fails after an upgrade, update tests/realsvc/README.md.
LAYOUT = {
    (EXPLICIT, "api-gateway"): {"classic"}, (EXPLICIT, "memory-search"): {"classic"},
    (EXPONENTIAL, "api-gateway"): {"classic"}, (EXPONENTIAL, "memory-search"): {"native"},
}


@pytest.mark.parametrize("service", ["api-gateway", "memory-search"])
def test_each_sdk_sends_the_histogram_layout_measured_for_the_aggregation_it_was_given(run, prometheus, service):
    instance = run.node_instance if service == "api-gateway" else run.python_instance
    wait_for(lambda: served(prometheus, STABLE, instance), N)
    assert layout(prometheus, STABLE, instance) == LAYOUT[(run.histogram, service)]


@pytest.mark.parametrize("service", ["api-gateway", "memory-search"])
def test_exactly_the_slow_requests_are_above_the_latency_threshold(run, prometheus, service):
    instance = run.node_instance if service == "api-gateway" else run.python_instance
    sel = f'service_instance_id="{instance}"'
    wait_for(lambda: served(prometheus, STABLE, instance), N)
    if LAYOUT[(run.histogram, service)] == {"classic"}:
        # OTLP-ingested classic buckets keep the SDK's boundary as Go formats it: le="1", not "1.0".
        fast = scalar(prometheus, f'sum({STABLE}_bucket{{{sel}, le="{THRESHOLD:g}"}})')
    else:
        fast = scalar(prometheus, f"sum(histogram_fraction(0, {THRESHOLD}, {STABLE}{{{sel}}}) "
                                  f"* histogram_count({STABLE}{{{sel}}}))")
    assert fast == pytest.approx(N - SLOW)


# --- memory-search with the old-semconv defaults --------------------------------------------------------------

@pytest.fixture(scope="module")
def legacy(stack, prometheus) -> str:
    """memory-search with `obs env` minus the semconv opt-in and the histogram aggregation: the distro's defaults
    for those (the old `http.server.duration` in ms, `http.status_code`), which the SLIs read as it is."""
    instance = f"legacy-{uuid.uuid4().hex[:8]}"
    port, _ = two_free_ports(set(stack.model.stack.ports.values()))
    env = rs.service_env(stack.out / "obs.yaml", "memory-search", instance=instance, drop=rs.OLD_SEMCONV_DROPS)
    proc = rs.start_python(env, port, stack.out / "realsvc-logs" / f"memory-search-{instance}.log",
                           error_every=ERROR_EVERY, slow_every=SLOW_EVERY, slow_seconds=SLOW_SECONDS)
    try:
        answers = rs.drive(f"http://127.0.0.1:{port}/search", N, RATE)
    finally:
        assert rs.stop(proc) == 0
    assert answers == Counter({200: N - ERRORS, 500: ERRORS})
    return instance


def test_without_the_opt_in_only_the_old_millisecond_histogram_arrives(legacy, prometheus):
    count = wait_for(lambda: served(prometheus, OLD, legacy), N)
    assert count == N
    series = prometheus._data("/api/v1/series", **{"match[]": f'{{service_instance_id="{legacy}"}}'})
    http = [s for s in series if s["__name__"].startswith("http_")]
    assert {s["__name__"] for s in http} == {f"{OLD}_bucket", f"{OLD}_count", f"{OLD}_sum",
                                             "http_server_active_requests"}
    labels = set().union(*(s.keys() for s in http if s["__name__"] == f"{OLD}_count"))
    assert {"http_status_code", "http_method"} <= labels


def test_without_the_opt_in_the_error_and_slow_counts_read_from_the_old_labels_and_millisecond_buckets(
        legacy, prometheus):
    sel = f'service_instance_id="{legacy}"'
    wait_for(lambda: served(prometheus, OLD, legacy), N)
    assert served(prometheus, OLD, legacy, ', http_status_code=~"5.."') == ERRORS
    # The threshold in milliseconds: the SLIs read the old form at le="1000".
    assert scalar(prometheus, f'sum({OLD}_bucket{{{sel}, le="{THRESHOLD * 1000:g}"}})') == N - SLOW
