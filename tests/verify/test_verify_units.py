"""The pure parts of obs verify: floors, the workbook detection time, traffic naming, the sink, the report formats."""
from __future__ import annotations

import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from obs.errors import StackError
from obs.model import conventions as c
from obs.model import floors as fl
from obs.project import load_model
from obs.verify import poll, report, traffic
from obs.verify.result import Finding, Hop, ProbeResult, Report
from obs.verify.sink import Sink, labels_match
from tests.support.verify_spec import free_ports, write_spec


def model_for(tmp_path: Path, profile: str = "fast", metrics: str = "push"):
    spec = write_spec(tmp_path, free_ports(), 29999, metrics=metrics)
    if profile != "fast":
        spec.write_text(spec.read_text().replace("profile: fast", f"profile: {profile}"))
    return load_model(spec)


@pytest.mark.parametrize("profile, metrics, trace, metric, alert", [
    # batch 50ms + Jaeger ingest 0.2s; push: batch only; alert: + eval 1s + group_wait 0s + hand-offs
    ("fast", "push", 0.30, 0.10, 1.20),
    # pull waits a scrape interval (1s) for the collector's exporter to be scraped
    ("fast", "pull", 0.30, 1.10, 2.20),
    # production: batch 200ms, eval 15s; the probe route's own group_wait is 0s in every profile
    ("production", "push", 0.45, 0.25, 15.35),
])
def test_each_probe_floor_is_the_sum_of_the_waits_its_hops_are_configured_with(tmp_path, profile, metrics, trace,
                                                                                 metric, alert):
    f = fl.floors(model_for(tmp_path, profile, metrics))
    assert fl.Floors.total(f.trace) == pytest.approx(trace)
    assert fl.Floors.total(f.metric) == pytest.approx(metric)
    assert fl.Floors.total(f.alert) == pytest.approx(alert)
    assert f.verify() == pytest.approx(max(trace, metric, alert, f.scrape))


def test_an_undiscovered_alertmanager_adds_the_shorter_of_discovery_and_resend_delay(tmp_path):
    fast = model_for(tmp_path / "f")
    prod = model_for(tmp_path / "p", "production")
    extra = {m.stack.timing.name: fl.Floors.total(fl.floors(m, alertmanager_discovered=False).alert)
             - fl.Floors.total(fl.floors(m).alert) for m in (fast, prod)}
    assert extra == pytest.approx({"fast": 1.0, "production": fl.DISCOVERY_S})


def test_the_default_budget_is_twice_the_worst_floor_plus_five_seconds(tmp_path):
    m = model_for(tmp_path)
    worst = fl.floors(m, alertmanager_discovered=False).verify()
    assert fl.default_budget(m) == pytest.approx(2 * worst + 5)


@pytest.mark.parametrize("error_ratio, tier, workbook_s", [
    (1.0, "1h", 51.84),       # the workbook's "a 100% outage trips the 1h tier after about 52 s"
    (0.1, "1h", 518.4),       # "a 10% error rate takes 8.6 min"
    (0.01, "6h", 12960.0),    # 1% is below 14.4x of a 0.1% budget: only the 6h/6x tier can fire
])
def test_the_detection_floor_is_the_workbook_time_to_fire_of_the_fastest_page_tier(tmp_path, error_ratio, tier,
                                                                                    workbook_s):
    m = model_for(tmp_path)
    slo = next(s for s in m.slos if s.name == "availability")
    d = fl.detection_floor(m, slo, error_ratio)
    assert (d.tier, round(d.workbook_s, 2)) == (tier, workbook_s)
    assert d.slack_s > 0 and d.total_s == pytest.approx(d.workbook_s + d.slack_s)


def test_no_page_tier_means_no_detection_floor(tmp_path):
    m = model_for(tmp_path)
    slo = next(s for s in m.slos if s.name == "availability")
    assert fl.detection_floor(m, slo, error_ratio=0.001) is None   # 1x the budget never pages


@pytest.mark.parametrize("query, expected", [
    ('sum(rate(jobs_total{service_name="worker",outcome="failure"}[{{window}}]))',
     [("jobs_total", {"outcome": "failure"})]),
    ('sum(rate(cache_requests_total{service_name="redis",result=~"miss|expired"}[{{window}}])) / sum(rate(x_count[5m]))',
     [("cache_requests_total", {"result": "miss"}), ("x_count", {})]),
    ('sum(rate(jobs_total{kind=~"a.*"}[{{window}}]))', [("jobs_total", {})]),   # no literal satisfies a real regex
])
def test_traffic_reads_the_metrics_and_labels_an_events_sli_selects(query, expected):
    assert [(s.metric, s.labels) for s in traffic.selectors(query)] == expected


@pytest.mark.parametrize("prom_name, kind, otlp_name", [
    ("jobs_total", "counter", "jobs"),
    ("rpc_latency_bucket", "histogram", "rpc_latency"),
    ("queue_depth", "gauge", "queue_depth"),
])
def test_traffic_emits_the_otlp_instrument_prometheus_stores_under_the_selected_name(prom_name, kind, otlp_name):
    assert traffic.otlp_name(prom_name) == (kind, otlp_name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_sink_hands_a_waiting_probe_the_delivery_carrying_its_probe_id():
    port = _free_port()
    with Sink("127.0.0.1", port) as sink:
        since = time.monotonic()

        def post() -> None:
            for pid in ("other", "mine"):
                requests.post(f"http://127.0.0.1:{port}{c.VERIFY_SINK_PATH}", timeout=2, json={
                    "receiver": c.PROBE_RECEIVER, "status": "firing",
                    "alerts": [{"status": "firing", "labels": {c.PROBE_ID_LABEL: pid}}]})

        threading.Thread(target=post).start()
        got = sink.wait(labels_match(**{c.PROBE_ID_LABEL: "mine"}), timeout=5, since=since)
    assert got is not None and got.receiver == c.PROBE_RECEIVER
    assert got.alerts[0]["labels"][c.PROBE_ID_LABEL] == "mine"


def test_a_sink_port_already_taken_is_a_stack_error_that_says_what_to_do():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(StackError, match="verify_sink"):
            Sink("127.0.0.1", taken.getsockname()[1]).start()


def test_polling_returns_as_soon_as_the_answer_is_there_and_none_at_the_deadline():
    calls = []
    assert poll.until(lambda: calls.append(1) or (len(calls) if len(calls) == 3 else None),
                      poll.Deadline.after(5)) == 3
    assert poll.until(lambda: None, poll.Deadline.after(0.05)) is None


def sample_report() -> Report:
    ok = ProbeResult("trace", True, "found", seconds=0.31, floor=0.3,
                     hops=[Hop("export", "OTLP export", 0.01, 0.05), Hop("jaeger", "to Jaeger", 0.3, 0.25)])
    bad = ProbeResult("alert", False, "not delivered", seconds=7.0, floor=1.2,
                      hops=[Hop("export", "OTLP export", 0.01, 0.05), Hop("webhook", "to sink", None, 0.05)],
                      findings=[Finding("Alertmanager", "fail", "does not answer", "run `obs up`")])
    return Report("p", "fast", 7.4, 1.2, [ok, bad], ["budget short"], seconds=7.1)


def test_the_json_report_carries_every_hop_and_finding():
    doc = json.loads(report.to_json(sample_report()))
    assert doc["ok"] is False
    assert [r["name"] for r in doc["results"]] == ["trace", "alert"]
    assert doc["results"][1]["hops"][1] == {"id": "webhook", "title": "to sink", "seconds": None,
                                            "floor_seconds": 0.05}
    assert doc["results"][1]["findings"][0]["hop"] == "Alertmanager"


def test_the_junit_report_fails_exactly_the_failed_checks_and_names_the_hop():
    root = ET.fromstring(report.to_junit(sample_report()))
    cases = {tc.get("name"): tc for tc in root.iter("testcase")}
    assert root.get("failures") == "1" and set(cases) == {"trace", "alert"}
    assert cases["trace"].find("failure") is None
    failure = cases["alert"].find("failure")
    assert failure.get("type") == "Alertmanager" and "run `obs up`" in failure.text


def test_traffic_serves_a_synthetic_metrics_page_only_where_nothing_listens(tmp_path):
    from obs.verify.context import Context
    from obs.verify.endpoints import endpoints
    free, taken = _free_port(), socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    spec = write_spec(tmp_path, free_ports(), free)
    spec.write_text(spec.read_text().replace(f'["127.0.0.1:{free}"]',
                                             f'["127.0.0.1:{free}", "127.0.0.1:{taken.getsockname()[1]}"]'))
    m = load_model(spec)
    ctx = Context(m, tmp_path, endpoints(m, tmp_path), fl.floors(m), poll.Deadline.after(5))
    sent = traffic.Traffic()
    try:
        traffic._synthetic_targets(ctx, sent)
        served = len(sent.servers)
        page = requests.get(f"http://127.0.0.1:{free}/metrics", timeout=2).text
    finally:
        sent.stop()
        taken.close()
    assert served == 1
    assert 'obs_verify_synthetic_target{service="legacy"} 1.0' in page


def test_watch_exports_success_latency_and_floor_and_drops_the_latency_of_a_hop_never_passed():
    from prometheus_client import generate_latest

    from obs.verify.clients import parse_metrics
    from obs.verify.watch import Exporter
    exporter = Exporter()
    exporter.record(sample_report())
    first = generate_latest(exporter.registry).decode()
    failed = ProbeResult("alert", False, "lost", hops=[Hop("webhook", "to sink", None, 0.05)])
    exporter.record(Report("p", "fast", 7.4, 1.2, [failed]))
    second = generate_latest(exporter.registry).decode()
    assert f'{c.VERIFY_PROBE_SUCCESS}{{probe="trace"}} 1.0' in first
    assert f'{c.VERIFY_HOP_LATENCY}{{hop="jaeger",probe="trace"}} 0.3' in first
    assert f'{c.VERIFY_PROBE_SUCCESS}{{probe="alert"}} 0.0' in second
    assert f'{c.VERIFY_PROBE_SUCCESS}{{probe="trace"}} 0.0' in second     # not run this round: not a pass
    assert f'{c.VERIFY_HOP_FLOOR}{{hop="webhook",probe="alert"}} 0.05' in second
    latencies = {dict(labels)["hop"] for (name, labels) in parse_metrics(second) if name == c.VERIFY_HOP_LATENCY}
    assert "webhook" not in latencies
    assert c.VERIFY_LAST_RUN_TIMESTAMP in second
