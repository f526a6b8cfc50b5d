"""`stack.topology: ha` on the real binaries: three Alertmanagers in one gossip cluster, a Prometheus pair behind
Thanos Query, and faults injected into them.

The stack runs every replica as its own process (`alertmanager-0..2`, `prometheus-0..1`). With one
Alertmanager and one Prometheus SIGKILLed, `obs drill` still drives an SLO outage to exactly one page at the
contract receiver: the surviving Prometheus fires, the surviving Alertmanagers agree through their
notification log which of them sends. `obs up` then starts the killed replicas again.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests

from obs.commands.generate import generate
from obs.model import conventions as c
from obs.project import load_model
from obs.stack.components import urls
from obs.stack.native import Stack
from obs.verify.clients import parse_metrics
from obs.verify.poll import Deadline, until
from tests.support.drill_spec import BODY
from tests.support.outage import PHASES, Sender, Tally, new_run_id, samples_found, spans_found, tally
from tests.support.stack_spec import free_ports, write_spec

pytestmark = pytest.mark.live
REPLICAS = ["alertmanager-0", "alertmanager-1", "alertmanager-2", "prometheus-0", "prometheus-1", "thanos-sidecar-0",
            "thanos-sidecar-1", "thanos-query", "gateway-dns", "otelcol-gateway-0", "otelcol-gateway-1"]
GATEWAYS = ("otelcol-gateway-0", "otelcol-gateway-1")


def progress(message: str) -> None:
    print(message, file=sys.stderr)


@pytest.fixture(scope="module", autouse=True)
def environment():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OBS_TEST_DRILL_KEY", "routing-key-for-the-ha-test")
        mp.setenv("OBS_TEST_DRILL_SLACK", "https://hooks.slack.com/services/T0/B0/ha-test")
        yield


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    spec = write_spec(tmp_path_factory.mktemp("ha"), free_ports(room=3), "ha-test", body=BODY, topology="ha")
    generate(spec, None, check=False)
    st = Stack(spec.parent, load_model(spec))
    try:
        st.up(progress)
        yield st
    finally:
        st.down()


def obs(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "obs", *args, str(stack.out / "obs.yaml")], capture_output=True,
                          text=True, cwd=stack.out)


def am_url(stack: Stack, index: int) -> str:
    return f"http://127.0.0.1:{stack.model.stack.ports['alertmanager'] + index}"


def test_status_lists_every_replica_by_name_with_its_pid_ports_and_health(stack):
    proc = obs(stack, "status", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    components = {comp["name"]: comp for comp in json.loads(proc.stdout)["components"]}
    assert list(components) == ["receivers", "jaeger", *REPLICAS, "otelcol"]
    p = stack.model.stack.ports
    for i in range(3):
        am = components[f"alertmanager-{i}"]
        assert am["state"] == "healthy" and am["pid"] == stack.pid(f"alertmanager-{i}")
        assert am["ports"] == [p["alertmanager"] + i, p["alertmanager_cluster"] + i]
    assert [components[f"prometheus-{i}"]["ports"] for i in range(2)] == [[p["prometheus"]], [p["prometheus"] + 1]]
    # The gateways share one OTLP port, each on its own loopback address; health and metrics take + i.
    assert [components[g]["ports"] for g in GATEWAYS] == [
        [p["gateway_health"] + i, p["gateway_metrics"] + i, p["gateway_otlp_grpc"]] for i in range(2)]
    assert all(components[g]["state"] == "healthy" for g in (*GATEWAYS, "gateway-dns"))


def test_the_alertmanagers_gossip_as_one_cluster_of_three(stack):
    for i in range(3):
        peers = requests.get(f"{am_url(stack, i)}/api/v2/status", timeout=5).json()["cluster"]["peers"]
        assert len(peers) == 3


def notifications_sent(stack: Stack, replica: int) -> dict[str, float]:
    """How many alerts Prometheus `replica` has sent to each Alertmanager, by the Alertmanager's URL, read from
    its own /metrics (the query API would lag by a scrape)."""
    port = stack.model.stack.ports["prometheus"] + replica
    metrics = parse_metrics(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    sent = c.PROMETHEUS_NOTIFICATIONS_SENT.removesuffix("_total")
    return {dict(labels)["alertmanager"]: n for (name, labels), n in metrics.items() if name == sent}


def test_both_prometheus_replicas_alert_as_one_without_their_replica_label(stack):
    # Both replicas fire the Watchdog at every Alertmanager; each holds it once, without the label that tells the
    # replicas' series apart. `obs up` returns once every process is healthy, which can be before a replica's
    # first evaluation or its first send (a send that finds no Alertmanager yet waits for the resend delay):
    # wait until each replica has sent to all three, so both copies are there to be merged.
    timing = stack.model.stack.timing
    patience = 2 * (timing.evaluation_interval + timing.resend_delay + timing.scrape_interval).s + 30
    sent: list[dict[str, float]] = []

    def sent_to_all() -> bool | None:
        sent[:] = [notifications_sent(stack, r) for r in range(2)]
        return all(len(s) == 3 and all(n > 0 for n in s.values()) for s in sent) or None
    assert until(sent_to_all, Deadline.after(patience), cap=1.0), sent
    for i in range(3):
        alerts = requests.get(f"{am_url(stack, i)}/api/v2/alerts", timeout=5).json()
        watchdogs = [a for a in alerts if a["labels"].get("alertname") == c.WATCHDOG_ALERT]
        assert len(watchdogs) == 1 and c.REPLICA_LABEL not in watchdogs[0]["labels"]


def test_with_an_alertmanager_and_a_prometheus_killed_an_outage_pages_exactly_once(stack):
    killed = [stack.kill("alertmanager-0"), stack.kill("prometheus-0")]
    try:
        proc = obs(stack, "drill", "--incident", "errors", "--format", "json")
        sys.stderr.write(proc.stderr)
        result = json.loads(proc.stdout)["incidents"][0]
        assert (result["pages"], result["paged_once"]) == (1, True), result
        # Whether the page beat its bound depends on the machine's load; the exit code must say which it was.
        assert proc.returncode == (0 if result["ok"] else 1), result
    finally:
        stack.up(progress)
    assert all(s.state == "healthy" for s in stack.status())
    assert all(stack.pid(name) not in killed for name in ("alertmanager-0", "prometheus-0"))


def test_with_one_alertmanager_killed_and_both_prometheus_up_an_outage_pages_exactly_once(stack):
    stack.kill("alertmanager-1")
    try:
        proc = obs(stack, "drill", "--incident", "errors", "--format", "json")
        sys.stderr.write(proc.stderr)
        result = json.loads(proc.stdout)["incidents"][0]
        assert (result["pages"], result["paged_once"]) == (1, True), result
    finally:
        stack.up(progress)


def test_the_whole_metrics_tier_and_the_whole_alertmanager_cluster_down_each_page_once_by_the_dead_mans_switch(
        stack):
    # One replica of each already down, as an operator might leave it: the drill kills the rest, pages once, and
    # starts again only what it killed.
    stack.kill("alertmanager-0")
    stack.kill("prometheus-0")
    try:
        proc = obs(stack, "drill", "--incident", "metrics-backend,alertmanager", "--format", "json")
        sys.stderr.write(proc.stderr)
        results = {r["incident"]: r for r in json.loads(proc.stdout)["incidents"]}
        assert {k: (r["pages"], r["paged_once"]) for k, r in results.items()} == {
            "metrics-backend": (1, True), "alertmanager": (1, True)}, results
        assert stack.pid("alertmanager-0") is None and stack.pid("prometheus-0") is None
        assert all(stack.pid(n) for n in ("alertmanager-1", "alertmanager-2", "prometheus-1"))
    finally:
        stack.up(progress)


def test_with_a_prometheus_killed_verify_proves_the_pipeline_through_the_other(stack):
    # Queries, rules and alerts are read from prometheus-0 first; killed, it does not answer, and the verifier asks
    # prometheus-1, which has every point too (the collector writes to each replica through its own queue).
    stack.kill("prometheus-0")
    try:
        proc = obs(stack, "verify", "--traffic", "--format", "json")
        doc = json.loads(proc.stdout)
        failed = {r["name"]: r for r in doc["results"] if not r["ok"]}
        probes = {r["name"]: r["ok"] for r in doc["results"] if r["name"] in ("trace", "metric", "alert")}
        assert probes == {"trace": True, "metric": True, "alert": True}, json.dumps(doc, indent=1)[:4000]
        # What is wrong is exactly what was done: prometheus-1 cannot scrape the replica that was killed (once it
        # has tried), and says so.
        assert set(failed) <= {"coverage:targets"}, json.dumps(failed, indent=1)
        dead = f"127.0.0.1:{stack.model.stack.ports['prometheus']}/"
        for finding in failed.get("coverage:targets", {"findings": []})["findings"]:
            assert dead in finding["why"], finding
        assert proc.returncode == (1 if failed else 0)
    finally:
        stack.up(progress)


def query(stack: Stack, path: str, **params: object) -> list[dict]:
    base = f"http://127.0.0.1:{stack.model.stack.ports['thanos_query']}"
    body = requests.get(f"{base}{path}", params={**params, "dedup": "true"}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_thanos_query_shows_the_pair_as_one_series_and_answers_without_a_gap_when_one_replica_dies(stack):
    # Both sidecars known to Query: every target of the pair shows up, once, without the replica label.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        targets = query(stack, "/api/v1/query", query="count by (job, instance) (up)")
        if {t["metric"]["job"] for t in targets} >= {"prometheus", "alertmanager", "jaeger", "otelcol"}:
            break
        time.sleep(1)
    assert targets and all(t["value"][1] == "1" for t in targets), targets
    raw = query(stack, "/api/v1/query", query='up{job="jaeger"}')
    assert len(raw) == 1 and c.REPLICA_LABEL not in raw[0]["metric"], raw
    stack.kill("prometheus-0")
    try:
        time.sleep(5)
        end = time.time()
        series = query(stack, "/api/v1/query_range", query='up{job="jaeger"}', start=end - 20, end=end, step=1)
        assert len(series) == 1, series
        stamps = [float(v[0]) for v in series[0]["values"]]
        # One point a second across the kill: the surviving replica fills what the dead one no longer has.
        assert len(stamps) == 21 and all(b - a == 1 for a, b in zip(stamps, stamps[1:], strict=False)), stamps
    finally:
        stack.up(progress)


# -- the collector gateway tier ------------------------------------------------------------------------------

def _sender(stack: Stack) -> Sender:
    # 20 spans (each its own trace) and 2 gauge samples every 0.1 s, through the agent collector's OTLP/HTTP.
    return Sender(urls(stack.model)["otlp_http"], new_run_id(), period=0.1, spans_per_tick=20, lanes=2,
                  max_seconds=120)


def _arrived(stack: Stack, sender: Sender, phases: tuple[str, ...], timeout: float) -> tuple[Tally, Tally]:
    """Spans in Jaeger and samples in prometheus-0 (each replica gets every point) of what the agent accepted in
    `phases`, polled until all are there or `timeout`."""
    jaeger = urls(stack.model)["jaeger_query"]
    prometheus = f"http://127.0.0.1:{stack.model.stack.ports['prometheus']}"
    deadline = time.monotonic() + timeout
    while True:
        spans = {k: p for k, p in sender.spans.items() if p in phases}
        samples = {k: p for k, p in sender.samples.items() if p in phases}
        window = int(time.monotonic() - sender.started) + 60
        found_spans = spans_found(jaeger, sender.service, time.time() - window, set(spans))
        found_samples = samples_found(prometheus, sender.run_id, window) & set(samples)
        if (len(found_spans), len(found_samples)) == (len(spans), len(samples)) or time.monotonic() > deadline:
            return tally(spans, found_spans), tally(samples, found_samples)
        time.sleep(1)


def test_with_a_gateway_killed_under_load_the_collector_fails_over_and_nothing_accepted_is_lost(stack):
    sender = _sender(stack)
    sender.start()
    try:
        time.sleep(3)
        stack.kill("otelcol-gateway-0")
        sender.enter("outage")
        time.sleep(6)
        sender.enter("after")
        time.sleep(1)
    finally:
        sender.stop()
    try:
        # Failover: while gateway-0 stays dead, everything the agent took after the kill arrives through gateway-1.
        spans, samples = _arrived(stack, sender, ("outage", "after"), 60)
        progress(f"gateway-0 dead: spans {spans.line(('outage', 'after'))}; samples {samples.line(('outage', 'after'))}")
        assert sum(spans.accepted.values()) >= 1000 and not any(spans.lost.values()), spans
        assert sum(samples.accepted.values()) >= 100 and not any(samples.lost.values()), samples
    finally:
        stack.up(progress)
    # What gateway-0 had taken before it died waited in its persistent queue: restarted, it sends it.
    spans, samples = _arrived(stack, sender, PHASES, 90)
    progress(f"all: spans {spans.line(PHASES)}; samples {samples.line(PHASES)}")
    assert not any(spans.lost.values()) and not any(samples.lost.values()), (spans, samples)


def test_with_the_whole_collector_tier_down_for_a_minute_everything_queued_arrives(stack):
    sender = _sender(stack)
    sender.start()
    try:
        time.sleep(3)
        for gateway in GATEWAYS:
            stack.kill(gateway)
        # The agent goes on accepting into its persistent queue for a while, then dies too, with all of it queued.
        sender.enter("outage")
        time.sleep(5)
        stack.kill("otelcol")
        sender.enter("restarted")
        time.sleep(55)
        stack.up(progress)
        sender.enter("after")
        time.sleep(2)
    finally:
        sender.stop()
        stack.up(progress)
    spans, samples = _arrived(stack, sender, PHASES, 120)
    progress(f"tier down 60s: spans {spans.line(PHASES)}; samples {samples.line(PHASES)}")
    assert spans.accepted.get("outage", 0) >= 500, spans   # the agent did take data with no gateway up
    assert not any(spans.lost.values()) and not any(samples.lost.values()), (spans, samples)
