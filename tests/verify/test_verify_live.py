"""obs verify against the real native stack, healthy and with a fault at each hop.

Runs the four real components (built by obs.stack.build.ensure when missing) from configs
generated for a fast-profile spec on free ports. Each fault is put in place the way it
happens in life (a stopped process, a collector over its memory limit, a Prometheus
started without its OTLP receiver); verify must fail naming that hop, and after
`obs up` heals the stack, pass again.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from ruamel.yaml import YAML

from obs.cli import main
from obs.commands.generate import generate
from obs.model import conventions as c
from obs.project import load_model
from obs.stack import build
from obs.stack.components import COMPONENTS, urls
from obs.stack.native import Stack
from obs.verify import diagnose, poll
from obs.verify.clients import Prometheus
from tests.support.verify_spec import SECRET_ENV, free_ports, port_is_free, served_spec, write_spec

pytestmark = pytest.mark.live
PROBES = ["--only", "trace", "--only", "metric", "--only", "scrape", "--only", "alert"]
# After a fault heals, a retrying exporter or a reconnecting gRPC channel may need a few seconds more.
HEALED_BUDGET = ["--budget", "30s"]


def progress(message: str) -> None:
    print(message, file=sys.stderr)


@pytest.fixture(scope="module")
def environment():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, "routing-key-from-the-environment")
        yield


@pytest.fixture(scope="module")
def spec(tmp_path_factory, environment):
    with served_spec(tmp_path_factory.mktemp("verify")) as spec:
        yield spec


@pytest.fixture(scope="module")
def stack(spec):
    st = Stack(spec.parent, load_model(spec))
    st.up(progress)
    yield st
    st.down()


def verify(spec: Path, capsys, *args: str) -> tuple[int, dict]:
    code = main(["verify", str(spec), "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def failing(doc: dict) -> dict[str, list[dict]]:
    return {r["name"]: r["findings"] for r in doc["results"] if not r["ok"]}


def test_a_healthy_stack_passes_every_check_with_every_hop_timed(stack, spec, capsys):
    code, doc = verify(spec, capsys, "--traffic")
    assert json.dumps(failing(doc)) == "{}" and code == 0
    probes = {r["name"]: r for r in doc["results"]}
    assert {"trace", "metric", "scrape", "alert", "coverage:spans", "coverage:series", "coverage:targets",
            "coverage:rules", "coverage:sli", "coverage:dashboards"} <= set(probes)
    for name in ("trace", "metric", "scrape", "alert"):
        hops = probes[name]["hops"]
        assert hops and all(h["seconds"] is not None and h["floor_seconds"] >= 0 for h in hops), name
    assert [h["id"] for h in probes["alert"]["hops"]][-4:] == ["prometheus", "rule", "alertmanager", "webhook"]
    assert probes["trace"]["probe_id"] and len(probes["trace"]["probe_id"]) == 32


def test_a_verify_run_closes_the_connections_it_opens_without_the_cycle_collector(stack, spec, capsys):
    # verify makes a client for each question it asks; each must close its connection once dropped, not when the
    # cycle collector next runs. A Prometheus client that referred to itself kept every one open: with collection
    # off this very run failed, its coverage checks timing out at Prometheus.
    gc.collect()
    gc.disable()
    try:
        before = len(os.listdir("/proc/self/fd"))
        code, doc = verify(spec, capsys, "--traffic")
        opened = len(os.listdir("/proc/self/fd")) - before
    finally:
        gc.enable()
    assert json.dumps(failing(doc)) == "{}" and code == 0
    assert opened <= 2, f"{opened} files left open by one verify run"


def test_the_junit_report_parses_and_lists_each_check_as_a_passing_test_case(stack, spec, capsys):
    code = main(["verify", str(spec), "--format", "junit", *PROBES])
    root = ET.fromstring(capsys.readouterr().out)
    cases = [tc.get("name") for tc in root.iter("testcase")]
    assert (code, root.get("failures"), cases) == (0, "0", ["trace", "metric", "scrape", "alert"])


def _prometheus_without_otlp(stack: Stack, spec: Path) -> subprocess.Popen:
    """The generated Prometheus, started by hand without --web.enable-otlp-receiver (as a user might)."""
    stack.stop("prometheus")
    argv = [a for a in COMPONENTS["prometheus"].argv(stack.model, spec.parent, build.binary_path("prometheus"))
            if a != "--web.enable-otlp-receiver"]
    log = (spec.parent / "prometheus-without-otlp.log").open("w")
    return subprocess.Popen(argv, cwd=spec.parent, stdout=log, stderr=subprocess.STDOUT)


def _collector_memory_limit(spec: Path, mib: int) -> None:
    """Regenerate (over the fault's own hand edit: force), then squeeze the collector's memory_limiter so its
    heap is always over the limit."""
    generate(spec, None, check=False, force=True)
    if mib:
        path = spec.parent / c.OTELCOL_CONFIG
        yaml = YAML()
        doc = yaml.load(path.read_text())
        doc["processors"]["memory_limiter"].update({"limit_mib": mib, "spike_limit_mib": mib // 2})
        with path.open("w") as f:
            yaml.dump(doc, f)


def _until_the_collector_refuses(stack: Stack) -> None:
    """The memory limiter decides once per check_interval; wait for its first refusal, not a fixed time."""
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="fault check")])])])
    url = urls(stack.model)["otlp_http"] + "/v1/traces"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = requests.post(url, data=request.SerializeToString(), timeout=5,
                               headers={"Content-Type": "application/x-protobuf"})
        if answer.status_code == 503:
            return
        time.sleep(0.1)
    raise AssertionError("the squeezed collector never refused data")


@pytest.mark.parametrize("fault, only, probe, hop, says", [
    ("jaeger stopped", ["--only", "trace"], "trace", diagnose.JAEGER, "does not answer"),
    ("alertmanager stopped", ["--only", "alert"], "alert", diagnose.ALERTMANAGER, "does not answer"),
    ("collector over its memory limit", ["--only", "trace", "--only", "metric"], "trace", diagnose.COLLECTOR,
     "memory_limiter"),
    ("prometheus without its OTLP receiver", ["--only", "metric"], "metric", diagnose.PROMETHEUS,
     "--web.enable-otlp-receiver"),
])
def test_a_fault_fails_verify_naming_the_hop_and_up_heals_it(stack, spec, capsys, fault, only, probe, hop, says):
    rogue = None
    if fault == "jaeger stopped":
        stack.stop("jaeger")
    elif fault == "alertmanager stopped":
        stack.stop("alertmanager")
    elif fault == "collector over its memory limit":
        _collector_memory_limit(spec, 2)
        stack.up(progress)          # the changed config restarts the collector
        _until_the_collector_refuses(stack)
    else:
        rogue = _prometheus_without_otlp(stack, spec)
    try:
        code, doc = verify(spec, capsys, *only)
        findings = failing(doc).get(probe)
        assert code == 1 and findings, doc
        assert (findings[0]["hop"], findings[0]["status"]) == (hop, "fail")
        assert says in findings[0]["why"] and findings[0]["fix"]
    finally:
        if rogue is not None:
            rogue.send_signal(signal.SIGTERM)
            rogue.wait(30)
        if fault == "collector over its memory limit":
            _collector_memory_limit(spec, 0)
    stack.up(progress)
    code, doc = verify(spec, capsys, *PROBES, *HEALED_BUDGET)
    assert json.dumps(failing(doc)) == "{}" and code == 0


def test_a_stack_that_is_not_running_exits_3(tmp_path, environment, capsys):
    spec = write_spec(tmp_path, free_ports(), 29998)
    generate(spec, None, check=False)
    assert main(["verify", str(spec)]) == 3
    assert "obs up" in capsys.readouterr().err


def test_watch_exposes_probe_results_that_prometheus_scrapes_and_alerts_on_when_a_hop_breaks(stack, spec):
    from obs.verify import watch

    rounds: list = []
    stop = threading.Event()
    thread = threading.Thread(target=watch.watch, daemon=True, kwargs=dict(
        model=stack.model, out=spec.parent, interval=0.5, progress=lambda check, message: None,
        on_round=lambda report, error: rounds.append((report, error)), stop=stop))
    thread.start()
    prom = Prometheus(urls(stack.model)["prometheus"])

    def success() -> dict[str, float]:
        rows = prom.query(f'{c.VERIFY_PROBE_SUCCESS}{{job="{c.VERIFY_JOB}"}}')
        return {r["metric"][c.VERIFY_PROBE_KIND_LABEL]: float(r["value"][1]) for r in rows}

    def failing_alerts() -> set[str]:
        return {a["labels"][c.VERIFY_PROBE_KIND_LABEL] for a in prom.alerts()
                if a["labels"]["alertname"] == c.VERIFY_PROBE_FAILING_ALERT and a["state"] == "firing"}

    try:
        assert poll.until(lambda: True if success() == {"trace": 1, "metric": 1, "alert": 1} else None,
                          poll.Deadline.after(60)), rounds[-1:]
        page = requests.get(f"http://127.0.0.1:{stack.model.stack.ports['verify_metrics']}/metrics", timeout=5).text
        for name in (c.VERIFY_HOP_LATENCY, c.VERIFY_HOP_FLOOR, c.VERIFY_LAST_RUN_TIMESTAMP):
            assert name in page
        assert 'hop="webhook",probe="alert"' in page

        stack.stop("jaeger")
        assert poll.until(lambda: True if "trace" in failing_alerts() else None, poll.Deadline.after(60))
        assert success()["metric"] == 1 and "alert" not in failing_alerts()
    finally:
        stack.up(progress)
    assert poll.until(lambda: True if success().get("trace") == 1 else None, poll.Deadline.after(90))
    stop.set()
    thread.join(60)
    assert not thread.is_alive() and all(error is None for _, error in rounds)


def test_with_metrics_pulled_the_metric_probe_travels_the_collectors_exporter_and_a_scrape(tmp_path, environment,
                                                                                          capsys):
    ports = free_ports()
    legacy = next(p for p in range(29000, 29500) if p not in ports.values() and port_is_free(p))
    spec = write_spec(tmp_path, ports, legacy, metrics="pull")
    generate(spec, None, check=False)
    st = Stack(spec.parent, load_model(spec))
    try:
        st.up(progress)
        code, doc = verify(spec, capsys, "--only", "trace", "--only", "metric", "--only", "alert")
    finally:
        st.down()
    assert json.dumps(failing(doc)) == "{}" and code == 0
    metric = next(r for r in doc["results"] if r["name"] == "metric")
    scrape_interval = load_model(spec).stack.timing.scrape_interval.s
    assert metric["hops"][1]["id"] == "prometheus" and metric["hops"][1]["floor_seconds"] > scrape_interval
