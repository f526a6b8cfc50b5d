"""Full request visibility and SLI diagnosis, with real zero-code services against the real native stack.

`api-gateway` (Node.js) `calls: [memory-search]` (Python), both started with exactly the environment
`obs env` prints (`obs.generate.configs.instrumentation.settings(...).env`). Verify must find the declared edge in
Jaeger's service graph and count no orphaned span; a spec that also declares the reverse call must fail
naming both services. The diagnosis cases come from real telemetry: api-gateway's latency SLO at 300 ms,
which Node.js's default buckets do not have (Node ignores the exponential-aggregation setting); a third
service, `search-legacy` (the Python app again), first silent (no telemetry), then started without the
semconv opt-in and with exponential histograms, so the old `http_server_duration_milliseconds` arrives as
a native histogram the collector cannot convert. Last, synthetic traffic (`--traffic`) for a declared call
nobody serves proves that a fresh edge verifies clean.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from obs.cli import main
from obs.commands.generate import generate
from obs.generate.configs.instrumentation import settings
from obs.project import load_model
from obs.stack.native import Stack
from obs.verify import poll, sli_diagnosis
from tests.support import realsvc as rs
from tests.support.stack_spec import free_ports, port_is_free

pytestmark = pytest.mark.live

N = 60
RATE = 30.0
# How long real telemetry may take to show in verify's answers; polling ends as soon as it does.
BUDGET_S = 90.0
BUCKETS = "[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]"


def spec_text(ports: dict[str, int], gateway_calls: str = "[memory-search]", search_calls: str = "[]",
              extra: str = "") -> str:
    port_lines = "\n".join(f"    {k}: {v}" for k, v in ports.items())
    availability = "      - {name: availability, objective: 99, sli: {availability: {}}}\n"
    return f"""\
version: obs/v1
project: edges-test
stack:
  profile: fast
  ports:
{port_lines}
services:
  - name: api-gateway
    http: true
    histogram: classic
    latency_buckets: {BUCKETS}
    calls: {gateway_calls}
    slos:
{availability}      - {{name: latency, objective: 95, sli: {{latency: {{threshold: 300ms}}}}}}
  - name: memory-search
    http: true
    calls: {search_calls}
    slos:
{availability}  - name: search-legacy
    http: true
    slos:
{availability}{extra}"""


def progress(message: str) -> None:
    print(message, file=sys.stderr)


def free_service_ports(taken: set[int], n: int = 3) -> list[int]:
    chosen = [p for p in range(30100, 30999) if p not in taken and port_is_free(p)][:n]
    assert len(chosen) == n, "no free ports in 30100-30999 for the services"
    return chosen


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return free_ports()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, installed, ports):
    root = tmp_path_factory.mktemp("edges")
    spec = root / "obs.yaml"
    spec.write_text(spec_text(ports))
    generate(spec, None, check=False)
    st = Stack(root, load_model(spec))
    st.up(progress)
    yield st
    st.down()


def env_of(stack: Stack, service: str, **overrides: str | None) -> dict[str, str]:
    model = stack.model
    env = dict(settings(model, next(s for s in model.services if s.name == service)).env)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture(scope="module")
def traffic(stack, ports):
    """Real traffic through api-gateway → memory-search, both stopped (flushed) before verify looks."""
    python_port, node_port, _ = free_service_ports(set(ports.values()))
    logs = stack.out / "realsvc-logs"
    python = rs.start_python(env_of(stack, "memory-search"), python_port, logs / "memory-search.log")
    node = None
    try:
        node = rs.start_node(env_of(stack, "api-gateway"), node_port, f"http://127.0.0.1:{python_port}/search",
                             logs / "api-gateway.log")
        answers = rs.drive(f"http://127.0.0.1:{node_port}/work", N, RATE)
    finally:
        codes = (rs.stop(node) if node else -1, rs.stop(python))
    assert answers == {200: N} and codes == (0, 0)
    return answers


def verify(spec: Path, capsys, *args: str) -> tuple[int, dict]:
    code = main(["verify", str(spec), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def results(doc: dict) -> dict[str, dict]:
    return {r["name"]: r for r in doc["results"]}


def verify_until(spec: Path, capsys, done, *args: str) -> tuple[int, dict]:
    """verify --only coverage again and again until done(results) holds or the budget is spent; the last run."""
    last: list = []

    def attempt():
        last[:] = [verify(spec, capsys, "--only", "coverage", *args)]
        return True if done(results(last[0][1])) else None

    poll.until(attempt, poll.Deadline.after(BUDGET_S), first=1.0, cap=3.0)
    return last[0]


def sli_finding(r: dict[str, dict], slo: str) -> dict | None:
    return next((f for f in r["coverage:sli"]["findings"] if f["hop"] == f"SLO {slo}"), None)


def test_a_declared_call_real_services_make_is_found_with_no_orphaned_span(stack, traffic, capsys):
    def done(r):
        # Every request's trace settled (Node holds spans ~5 s) and counted: the totals, whatever the orphans.
        spans = {m[0]: int(m[2]) for m in re.findall(r"([\w-]+) (\d+)/(\d+)", r["coverage:orphans"]["summary"])}
        calls = re.search(r"api-gateway → memory-search: (\d+) call", r["coverage:edges"]["summary"])
        return spans == {"api-gateway": 2 * N, "memory-search": N} and calls is not None and int(calls[1]) == N

    code, doc = verify_until(stack.out / "obs.yaml", capsys, done)
    r = results(doc)
    assert r["coverage:edges"]["ok"], r["coverage:edges"]
    [edge] = [f for f in r["coverage:edges"]["findings"] if f["hop"] == "edge api-gateway → memory-search"]
    # Every /work request is one call of memory-search by api-gateway.
    assert edge["status"] == "info" and f"api-gateway → memory-search: {N} call(s)" in edge["why"]
    assert not [f for f in r["coverage:edges"]["findings"] if f["status"] != "info"]
    summary = r["coverage:orphans"]["summary"]
    # Node sends the server and client span of each request, Flask one: none of them lost its parent.
    assert f"api-gateway 0/{2 * N}" in summary and f"memory-search 0/{N}" in summary, summary
    assert r["coverage:orphans"]["ok"] and code == 1   # the SLI diagnoses below fail the run


def test_an_empty_sli_of_a_service_that_sends_nothing_says_so_and_points_at_obs_env(stack, traffic, capsys):
    code, doc = verify(stack.out / "obs.yaml", capsys, "--only", "coverage")
    f = sli_finding(results(doc), "search-legacy-availability")
    assert f is not None and f["case"] == sli_diagnosis.NO_TELEMETRY, f
    assert 'no series with service_name="search-legacy"' in f["why"] and "`obs env search-legacy`" in f["fix"]


def test_a_latency_threshold_node_has_no_bucket_for_is_named_with_the_fix(stack, traffic, capsys):
    code, doc = verify(stack.out / "obs.yaml", capsys, "--only", "coverage")
    r = results(doc)
    f = sli_finding(r, "api-gateway-latency")
    assert f is not None and f["case"] == sli_diagnosis.NO_THRESHOLD_BUCKET, f
    assert 'none at the latency threshold 300ms (le="0.3")' in f["why"] and "le 0.005, 0.01" in f["why"]
    assert "runs on Node.js" in f["fix"] and "View with the boundary 0.3" in f["fix"] and "(250ms)" in f["fix"]
    # The same service's availability SLI has its data: only the latency one is diagnosed.
    assert sli_finding(r, "api-gateway-availability") is None and sli_finding(r, "memory-search-availability") is None


def test_a_declared_call_without_traffic_fails_naming_both_services(stack, ports, traffic, capsys, tmp_path):
    other = tmp_path / "obs.yaml"
    other.write_text(spec_text(ports, search_calls="[api-gateway]"))
    code, doc = verify(other, capsys, "--only", "coverage", "--out", str(stack.out))
    edges = results(doc)["coverage:edges"]
    assert code == 1 and not edges["ok"]
    [f] = [f for f in edges["findings"] if f["status"] == "fail"]
    assert f["hop"] == "edge memory-search → api-gateway"
    assert f["why"] == ("no trace in Jaeger has a span of api-gateway whose parent is a span of memory-search "
                        "in the last 10m")
    assert "memory-search propagates W3C tracecontext" in f["fix"] and "OTEL_PROPAGATORS" in f["fix"]
    # The call that does carry traces is still found.
    assert any(g["hop"] == "edge api-gateway → memory-search" and g["status"] == "info" for g in edges["findings"])


def test_old_semantic_conventions_in_an_exponential_histogram_are_named_with_the_opt_in(stack, ports, traffic,
                                                                                       capsys):
    port = free_service_ports(set(ports.values()), 1)[0]
    env = env_of(stack, "search-legacy", OTEL_SEMCONV_STABILITY_OPT_IN=None)
    assert env["OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"] == "base2_exponential_bucket_histogram"
    proc = rs.start_python(env, port, stack.out / "realsvc-logs" / "search-legacy.log")
    try:
        assert rs.drive(f"http://127.0.0.1:{port}/search", 20, RATE) == {200: 20}
    finally:
        assert rs.stop(proc) == 0

    def done(r):
        f = sli_finding(r, "search-legacy-availability")
        return f is not None and f.get("case") == sli_diagnosis.OLD_SEMCONV

    code, doc = verify_until(stack.out / "obs.yaml", capsys, done)
    f = sli_finding(results(doc), "search-legacy-availability")
    assert f is not None and f.get("case") == sli_diagnosis.OLD_SEMCONV, f
    assert "http_server_duration_milliseconds" in f["why"] and "exponential histogram in ms" in f["why"]
    assert "OTEL_SEMCONV_STABILITY_OPT_IN=http" in f["fix"] and "`obs env search-legacy`" in f["fix"]


def test_synthetic_traffic_makes_a_declared_call_nobody_serves_verify_clean(stack, ports, traffic, capsys,
                                                                            tmp_path):
    other = tmp_path / "obs.yaml"
    other.write_text(spec_text(ports, extra="  - name: frontend\n    http: true\n    calls: [api-gateway]\n"))
    before = verify(other, capsys, "--only", "coverage", "--out", str(stack.out))[1]
    assert any(f["hop"] == "edge frontend → api-gateway" and f["status"] == "fail"
               for f in results(before)["coverage:edges"]["findings"])
    code, doc = verify(other, capsys, "--only", "coverage", "--out", str(stack.out), "--traffic", "--budget", "60s")
    edges = results(doc)["coverage:edges"]
    assert edges["ok"], edges
    [f] = [f for f in edges["findings"] if f["hop"] == "edge frontend → api-gateway"]
    assert f["status"] == "info" and "call(s) traced" in f["why"]
    orphans = results(doc)["coverage:orphans"]
    assert orphans["ok"] and not [f for f in orphans["findings"] if f["status"] == "warn"], orphans
