"""The pipeline rules against real components: a real collector's self-metrics, scraped by a real
Prometheus 3 that evaluates the generated rules, and the probe series pushed over OTLP as `obs verify` does.

This proves the metric names and labels the rules rely on are the ones v0.165 and Prometheus 3 produce.
"""
from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from obs.emit import yaml_dump
from obs.generate.common import Inputs
from obs.generate.pipeline import rules as pipeline_rules
from obs.model import conventions as c
from obs.stack.build import ensure
from tests.generate.test_pipeline_rules import model_for
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.live
MANIFEST = FIXTURES / "builder-config.yaml"
PATIENCE_S = 120   # a deadline for data that never arrives, not a timing assertion
SPAN = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "load"}}]},
                           "scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef",
                                                      "spanId": "0123456789abcdef", "name": "s", "kind": 1,
                                                      "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(what: str, probe: Callable[[], object]) -> object:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def start(argv: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Stack:
    def __init__(self, prometheus: int, otlp: int):
        self.prometheus, self.otlp = prometheus, otlp

    def alerts(self, name: str) -> list[dict[str, str]]:
        body = requests.get(f"http://127.0.0.1:{self.prometheus}/api/v1/alerts", timeout=5).json()
        return [a["labels"] for a in body["data"]["alerts"] if a["labels"]["alertname"] == name and a["state"] == "firing"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    bins = ensure(["prometheus"], progress=lambda _: None)
    otelcol = ensure(["otelcol"], manifest=MANIFEST, progress=lambda _: None)["otelcol"]
    work = tmp_path_factory.mktemp("live")
    rules = work / "obs-pipeline.rules.yml"
    rules.write_text(pipeline_rules.generate(model_for("fast"), Inputs())[c.PIPELINE_RULES_FILE])
    prom, otlp, own, dead, verify = (free_port() for _ in range(5))
    (work / "otelcol.yaml").write_text(yaml_dump.dump({
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{otlp}"}}}},
        "exporters": {"otlp": {  # a backend that is down, behind a tiny queue: it fails, fills and drops
            "endpoint": f"127.0.0.1:{dead}", "tls": {"insecure": True},
            "retry_on_failure": {"initial_interval": "100ms", "max_interval": "100ms", "max_elapsed_time": "300ms"},
            "sending_queue": {"queue_size": 2, "num_consumers": 1}}},
        "service": {"telemetry": {"metrics": {"level": "normal", "readers": [
            {"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": own}}}}]}},
            "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp"]}}},
    }))
    (work / "prometheus.yml").write_text(yaml_dump.dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": "otelcol", "static_configs": [{"targets": [f"127.0.0.1:{own}"]}]},
            {"job_name": "dead", "static_configs": [{"targets": [f"127.0.0.1:{dead}"]}]},
            {"job_name": c.VERIFY_JOB, "static_configs": [{"targets": [f"127.0.0.1:{verify}"]}]},
        ],
    }))
    procs = [
        start([str(otelcol), "--config", str(work / "otelcol.yaml")], work / "otelcol.log"),
        start([str(bins["prometheus"]), f"--config.file={work / 'prometheus.yml'}",
               f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{prom}",
               "--web.enable-otlp-receiver"], work / "prometheus.log"),
    ]
    stop_load = threading.Event()
    try:
        until("Prometheus to be ready", lambda: _ok(f"http://127.0.0.1:{prom}/-/ready"))
        until("the collector to accept OTLP", lambda: _ok(f"http://127.0.0.1:{otlp}/v1/traces", SPAN))
        load = threading.Thread(target=_send_spans, args=(otlp, stop_load), daemon=True)
        load.start()
        yield Stack(prom, otlp)
    finally:
        stop_load.set()
        for proc in procs:
            stop(proc)


def _ok(url: str, body: object | None = None) -> bool:
    try:
        r = requests.post(url, json=body, timeout=2) if body is not None else requests.get(url, timeout=2)
        return r.status_code == 200
    except requests.RequestException:
        return False


def _send_spans(port: int, stop_load: threading.Event) -> None:
    while not stop_load.is_set():
        _ok(f"http://127.0.0.1:{port}/v1/traces", SPAN)
        time.sleep(0.02)


def test_a_target_that_cannot_be_scraped_raises_target_down_but_the_verify_job_never_does(stack):
    down = until("ObsTargetDown", lambda: stack.alerts(c.TARGET_DOWN_ALERT))
    assert {a["job"] for a in down} == {"dead"}
    assert down[0][c.LABEL_COMPONENT] == "dead" and down[0][c.LABEL_SEVERITY] == "ticket"
    assert not [a for a in stack.alerts(c.TARGET_DOWN_ALERT) if a["job"] == c.VERIFY_JOB]


@pytest.mark.parametrize("alert, labels", [
    (c.COLLECTOR_EXPORT_FAILING_ALERT, {"job": "otelcol", "exporter": "otlp", "signal": "spans"}),
    (c.COLLECTOR_DROPPING_ALERT, {"job": "otelcol", "exporter": "otlp", "signal": "spans"}),
    (c.COLLECTOR_QUEUE_FULL_ALERT, {"job": "otelcol", "exporter": "otlp", "data_type": "traces"}),
])
def test_a_real_collector_whose_backend_is_down_raises_the_collector_alerts(stack, alert, labels):
    fired = until(alert, lambda: stack.alerts(alert))
    assert any(labels.items() <= a.items() for a in fired), fired


def test_the_watchdog_always_fires(stack):
    [watchdog] = until("Watchdog", lambda: stack.alerts(c.WATCHDOG_ALERT))
    assert watchdog[c.LABEL_SEVERITY] == "none"


def test_the_probe_gauge_pushed_over_otlp_raises_the_probe_alert_with_exactly_the_contract_labels(stack):
    probe_id = f"live-{uuid.uuid4().hex[:12]}"
    exporter = OTLPMetricExporter(endpoint=f"http://127.0.0.1:{stack.prometheus}/api/v1/otlp/v1/metrics")
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "obs-verify-probe"}), metric_readers=[reader])
    gauge = provider.get_meter("obs.verify").create_gauge("obs.verify.probe")
    try:
        gauge.set(1, {c.PROBE_ID_LABEL: probe_id})
        assert provider.force_flush()
        mine = lambda: [a for a in stack.alerts(c.PROBE_ALERT) if a.get(c.PROBE_ID_LABEL) == probe_id]  # noqa: E731
        [alert] = until(c.PROBE_ALERT, mine)
        assert alert == {"alertname": c.PROBE_ALERT, c.PROBE_ID_LABEL: probe_id, c.PROBE_LABEL: "true",
                         c.LABEL_SEVERITY: "none", c.LABEL_COMPONENT: "obs-verify"}
        gauge.set(0, {c.PROBE_ID_LABEL: probe_id})
        assert provider.force_flush()
        until("the probe alert to resolve", lambda: not mine())
    finally:
        provider.shutdown()
