"""Issue 21's proofs with real clients: the SLOs obs generates read what real zero-code services send.

One fast-profile native stack for the module. Every service starts with nothing but what `obs env SERVICE`
prints (`realsvc.service_env`), plus `service.instance.id` so replicas and runs are told apart, plus its
app settings:

- `api-gateway` (Node.js; sdk-node ignores the histogram setting and sends classic buckets) calls
  `memory-search` (Python; sends a native histogram as `obs env` asks). memory-search fails every 10th request,
  sleeps 0.6 s before every other 4th and 1.5 s before every 6th, so every SLO of both services has an error
  ratio known exactly, one of them at 300 ms: no default bucket, only the native histogram can express it.
- `memory-search-legacy`: the same app with `obs env` minus the semconv opt-in and the histogram setting, i.e.
  the distro's defaults (the old `http.server.duration` in ms), which the SLIs read as it is.
- `memory-search-rollout`: two replicas at once, one native and one with explicit buckets (no 0.3 bucket),
  all traffic fast: a 300 ms latency SLO must not page.

Counted traffic starts only after a warm-up request of each status (`?status=NNN`, not counted by the app) has
reached Prometheus: `rate()` cannot count the first sample of a series, so every series must exist before the
traffic the ratios are checked against. Facts: tests/realsvc/README.md.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from obs.commands.generate import generate
from obs.generate.dashboards.queries import panel_queries
from obs.model import conventions as c
from obs.project import load_model
from obs.stack.components import urls
from obs.stack.native import Stack
from obs.verify.clients import Http, Prometheus
from tests.support import realsvc as rs
from tests.support.stack_spec import free_ports, port_is_free

pytestmark = pytest.mark.live

PROJECT = "realsvc-slos"
GATEWAY, SEARCH, LEGACY, ROLLOUT = "api-gateway", "memory-search", "memory-search-legacy", "memory-search-rollout"
ERROR_EVERY, MEDIUM_EVERY, SLOW_EVERY = 10, 4, 6
MEDIUM_S, SLOW_S = 0.6, 1.5        # well over 0.3 s (and 0.25 s) and under 1 s; well over 1 s
N = 120                            # a multiple of lcm(10, 4, 6) = 60: every class is an exact share
ERRORS = N // ERROR_EVERY                                                   # 12
SLOW = N // SLOW_EVERY                                                      # 20 over 1 s
MEDIUM = N // MEDIUM_EVERY - N // math.lcm(MEDIUM_EVERY, SLOW_EVERY)        # 20 between 0.3 s and 1 s
RATE, WORKERS = 20.0, 8
# (service, slo) -> the error ratio the traffic was built to have.
EXPECTED = {
    (GATEWAY, "availability"): ERRORS / N,
    (GATEWAY, "latency"): SLOW / N,                      # 1 s: classic buckets (Node.js)
    (SEARCH, "availability"): ERRORS / N,
    (SEARCH, "latency"): (SLOW + MEDIUM) / N,            # 300 ms: native histogram only
    (SEARCH, "latency-1s"): SLOW / N,                    # 1 s: native histogram
}
EXPECTED_LEGACY = {
    (LEGACY, "availability"): ERRORS / N,
    (LEGACY, "latency"): (SLOW + MEDIUM) / N,            # 250 ms: an old default bucket, le="250" -> le="0.25"
}
# The counts are exact; what rate() makes of them is not quite. It extrapolates each series' increase to the
# window's edges by half a sampling interval (0.5 s) at the start and the time since its last sample at the end,
# the same for every series of one service once the samples span S_MIN_S (see `runs`), so errors and events
# scale alike. Their series start up to one export (1 s) apart, so the factors (S + e) / S differ by at most
# e * 1 s / S^2 with e <= 1.6 s and S >= 100 s: 1.6e-4. REL leaves room for an export missed under load.
REL = 0.002
# How long data may take to show (polling stops as soon as it does) and the rules to evaluate it (1 s each).
ARRIVAL_BUDGET_S = 60.0
SETTLE_S = 3.0
STABLE, OLD = c.HTTP_DURATION, "http_server_duration_milliseconds"
ROLLOUT_N, ROLLOUT_RATE = 300, 10.0     # per replica: 30 s of fast, successful requests
S_MIN_S = 100.0                        # samples every series spans before the SLOs are read (see `runs`)


def progress(message: str) -> None:
    print(message, file=sys.stderr)


SPEC = """\
version: obs/v1
project: {project}
stack:
  profile: fast
  ports:
{ports}
services:
  - name: {gateway}
    http: true
    calls: [{search}]
    slos:
      - name: availability
        objective: 99
        sli: {{availability: {{}}}}
      - name: latency
        objective: 95
        sli: {{latency: {{threshold: 1s}}}}
  - name: {search}
    http: true
    slos:
      - name: availability
        objective: 95
        sli: {{availability: {{}}}}
      - name: latency
        objective: 95
        sli: {{latency: {{threshold: 300ms}}}}
      - name: latency-1s
        objective: 95
        sli: {{latency: {{threshold: 1s}}}}
  - name: {legacy}
    http: true
    slos:
      - name: availability
        objective: 95
        sli: {{availability: {{}}}}
      - name: latency
        objective: 95
        sli: {{latency: {{threshold: 250ms}}}}
  - name: {rollout}
    http: true
    slos:
      - name: availability
        objective: 99
        sli: {{availability: {{}}}}
      - name: latency
        objective: 99
        sli: {{latency: {{threshold: 300ms}}}}
"""


def free_service_ports(taken: set[int], n: int) -> list[int]:
    chosen = [p for p in range(30100, 30999) if p not in taken and port_is_free(p)][:n]
    assert len(chosen) == n, "not enough free ports in 30100-30999 for the services"
    return chosen


@dataclass
class Fleet:
    """The stack, its spec, and every service process the module started (stopped at teardown)."""
    stack: Stack
    spec: Path
    prometheus: Prometheus
    procs: list = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)    # what the steady traffic drives, per replica
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def port(self) -> int:
        taken = set(self.stack.model.stack.ports.values()) | set(self.ports)
        (port,) = free_service_ports(taken, 1)
        self.ports.append(port)
        return port

    def log(self, name: str) -> Path:
        return self.stack.out / "realsvc-logs" / f"{name}-{self.tag}.log"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, installed):
    directory = tmp_path_factory.mktemp("realsvc-slos")
    spec = directory / c.SPEC_FILE
    spec.write_text(SPEC.format(project=PROJECT, gateway=GATEWAY, search=SEARCH, legacy=LEGACY, rollout=ROLLOUT,
                                ports="\n".join(f"    {k}: {v}" for k, v in free_ports().items())))
    generate(spec, None, check=False)
    stack = Stack(directory, load_model(spec))
    stack.up(progress)
    f = Fleet(stack, spec, Prometheus(urls(stack.model)["prometheus"]))
    try:
        yield f
    finally:
        codes = [rs.stop(p) for p in f.procs]
        stack.down()
        assert codes == [0] * len(codes), f"a service did not exit cleanly on SIGTERM: {codes}"


# --- reading Prometheus ---------------------------------------------------------------------------------------

def served(prometheus: Prometheus, sel: str) -> float:
    """Requests counted by the duration histogram, native, classic and old-convention series alike."""
    total = 0.0
    for q in (f"sum(histogram_count({STABLE}{{{sel}}}))", f"sum({STABLE}_count{{{sel}}})", f"sum({OLD}_count{{{sel}}})"):
        result = prometheus.query(q)
        total += float(result[0]["value"][1]) if result else 0.0
    return total


def wait_served(prometheus: Prometheus, inst: str, want: float) -> float:
    """Until Prometheus counts `want` requests of the instance, or the budget is spent: the last count read."""
    sel = f'service_instance_id="{inst}"'
    deadline = time.monotonic() + ARRIVAL_BUDGET_S
    got = served(prometheus, sel)
    while got != want and time.monotonic() < deadline:
        time.sleep(0.5)
        got = served(prometheus, sel)
    return got


def slo_value(prometheus: Prometheus, record: str, service: str, slo: str) -> float | None:
    result = prometheus.query(f'{record}{{service="{service}",slo="{slo}"}}')
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def read_slos(prometheus: Prometheus, keys) -> dict[tuple[str, str], dict[str, float | None]]:
    return {(svc, slo): {name: slo_value(prometheus, record, svc, slo)
                         for name, record in (("ratio", c.slo_error_ratio("5m")), ("events", c.slo_events("5m")),
                                              ("errors", c.slo_errors("5m")))}
            for svc, slo in keys}


# --- one run of every scenario at once ------------------------------------------------------------------------

@dataclass
class Runs:
    """What was sent, what Prometheus counted, and every SLO's 5m values read once all of it had arrived."""
    ids: dict[str, str]                                     # replica -> service.instance.id
    answers: dict[str, Counter] = field(default_factory=dict)
    counted: dict[str, float] = field(default_factory=dict)  # replica -> requests Prometheus counts, warm-up too
    readings: dict = field(default_factory=dict)
    started: float = 0.0                                    # unix seconds, before the first request
    elapsed: dict[str, float] = field(default_factory=dict)


def start_search(fleet: Fleet, service: str, inst: str, *, pattern: bool, **env) -> str:
    port = fleet.port()
    knobs = dict(error_every=ERROR_EVERY, slow_every=SLOW_EVERY, slow_seconds=SLOW_S, medium_every=MEDIUM_EVERY,
                 medium_seconds=MEDIUM_S) if pattern else {}
    fleet.procs.append(rs.start_python(rs.service_env(fleet.spec, service, instance=inst, **env), port,
                                       fleet.log(inst), **knobs))
    return f"http://127.0.0.1:{port}/search"


@pytest.fixture(scope="module")
def runs(fleet) -> Runs:
    """Every replica started with `obs env`'s settings; each status's series created by an uncounted warm-up;
    then the counted traffic of every scenario at once; then every SLO read after S_MIN_S of samples."""
    ids = {name: f"{name}-{fleet.tag}" for name in (GATEWAY, SEARCH, LEGACY)}
    ids |= {"rollout-native": f"{ROLLOUT}-native-{fleet.tag}", "rollout-classic": f"{ROLLOUT}-classic-{fleet.tag}"}
    r = Runs(ids)
    search = start_search(fleet, SEARCH, ids[SEARCH], pattern=True)
    gateway_port = fleet.port()
    fleet.procs.append(rs.start_node(rs.service_env(fleet.spec, GATEWAY, instance=ids[GATEWAY]), gateway_port,
                                     search, fleet.log(ids[GATEWAY])))
    fleet.urls[GATEWAY] = f"http://127.0.0.1:{gateway_port}/work"
    # The old-semconv run: `obs env` minus the semconv opt-in and the histogram aggregation, so the distro's
    # defaults apply to both (the old `http.server.duration` in ms, explicit buckets 0 ... 10000 ms).
    fleet.urls[LEGACY] = start_search(fleet, LEGACY, ids[LEGACY], pattern=True, drop=rs.OLD_SEMCONV_DROPS)
    # Two replicas of one service: as `obs env` sets it (native), and overridden to explicit buckets, which
    # have 0.25 and 0.5 but no 0.3.
    fleet.urls["rollout-native"] = start_search(fleet, ROLLOUT, ids["rollout-native"], pattern=False)
    fleet.urls["rollout-classic"] = start_search(fleet, ROLLOUT, ids["rollout-classic"], pattern=False,
                                                 **{rs.AGGREGATION: "explicit_bucket_histogram"})
    r.started = time.time()
    warm = {GATEWAY: (200, 500), LEGACY: (200, 500), "rollout-native": (200,), "rollout-classic": (200,)}
    for name, statuses in warm.items():
        for status in statuses:
            answer = requests.get(f"{fleet.urls[name]}?status={status}", timeout=10)
            assert answer.status_code == status, answer.text
    warmed = {name: len(warm.get(name, warm[GATEWAY])) for name in ids}
    for name, want in warmed.items():
        r.counted[name] = wait_served(fleet.prometheus, ids[name], want)
    samples_from = time.monotonic()
    plan = {GATEWAY: (N, RATE, WORKERS), LEGACY: (N, RATE, WORKERS),
            "rollout-native": (ROLLOUT_N, ROLLOUT_RATE, 2), "rollout-classic": (ROLLOUT_N, ROLLOUT_RATE, 2)}

    def drive(name: str) -> None:
        began = time.monotonic()
        r.answers[name] = rs.drive(fleet.urls[name], *plan[name][:2], workers=plan[name][2])
        r.elapsed[name] = time.monotonic() - began

    threads = [threading.Thread(target=drive, args=(name,)) for name in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = {GATEWAY: N, SEARCH: N, LEGACY: N, "rollout-native": ROLLOUT_N, "rollout-classic": ROLLOUT_N}
    for name, n in sent.items():
        r.counted[name] = wait_served(fleet.prometheus, ids[name], warmed[name] + n)
    # rate() extrapolates a series past its first sample by half a sampling interval, but never past the point
    # where the counter would have been 0: with a first sample of 1 and an increase of 108, that limit binds
    # unless the samples span over 54 s, and then each series is extrapolated by its own amount.
    time.sleep(max(0.0, samples_from + S_MIN_S - time.monotonic()))
    r.readings = read_slos(fleet.prometheus, [*EXPECTED, *EXPECTED_LEGACY, (ROLLOUT, "availability"),
                                              (ROLLOUT, "latency")])
    for key, reading in r.readings.items():
        want = {**EXPECTED, **EXPECTED_LEGACY}.get(key)
        progress(f"SLO {key[0]}/{key[1]}: ratio {reading['ratio']} (built to be {want}), events/s {reading['events']}")
    return r


def test_every_replica_answers_every_request_with_the_status_it_was_built_to_give(runs):
    assert runs.answers == {GATEWAY: Counter({200: N - ERRORS, 500: ERRORS}),
                            LEGACY: Counter({200: N - ERRORS, 500: ERRORS}),
                            "rollout-native": Counter({200: ROLLOUT_N}), "rollout-classic": Counter({200: ROLLOUT_N})}


def test_prometheus_counts_every_request_of_the_stable_form_for_the_services_started_with_obs_env(runs):
    counted = {name: runs.counted[name] for name in (GATEWAY, SEARCH, "rollout-native", "rollout-classic")}
    assert counted == {GATEWAY: N + 2, SEARCH: N + 2, "rollout-native": ROLLOUT_N + 1,
                       "rollout-classic": ROLLOUT_N + 1}


def layout(prometheus: Prometheus, inst: str) -> set[str]:
    found = set()
    if prometheus.query(f'{STABLE}_bucket{{service_instance_id="{inst}"}}'):
        found.add("classic")
    if prometheus.query(f'histogram_count({STABLE}{{service_instance_id="{inst}"}})'):
        found.add("native")
    return found


def test_the_gateway_sends_classic_buckets_and_memory_search_a_native_histogram(runs, fleet):
    # Both started with exactly what `obs env` prints (histogram: native); sdk-node 0.223 ignores the setting.
    assert (layout(fleet.prometheus, runs.ids[GATEWAY]), layout(fleet.prometheus, runs.ids[SEARCH])) == (
        {"classic"}, {"native"})


@pytest.mark.parametrize("key", list(EXPECTED), ids=[f"{s}-{o}" for s, o in EXPECTED])
def test_every_slo_of_both_services_records_the_error_ratio_the_services_were_built_to_produce(runs, key):
    reading = runs.readings[key]
    assert reading["ratio"] is not None, f"{key}: no {c.slo_error_ratio('5m')} recorded: {reading}"
    assert reading["ratio"] == pytest.approx(EXPECTED[key], rel=REL, abs=1e-9), (key, reading)


def test_the_300ms_threshold_is_read_inside_a_native_bucket_and_the_interpolation_costs_nothing_here(runs, fleet):
    """300 ms is no default bucket and no power of two: histogram_fraction interpolates inside the one native
    bucket that straddles it, so its error is at most that bucket's share of the requests. The bucket is read
    from Prometheus, at the scale the SDK settled on (a few percent wide); this traffic (milliseconds, 0.6 s,
    1.5 s) leaves it empty, so the ratio must be exact to the rate tolerance."""
    (series,) = fleet.prometheus.query(f'sum({STABLE}{{service_instance_id="{runs.ids[SEARCH]}"}})')
    buckets = [(float(lo), float(hi), float(n)) for _, lo, hi, n in series["histogram"][1]["buckets"]]
    assert not any(0.3 in (lo, hi) for lo, hi, _ in buckets), "0.3 is a boundary: nothing was interpolated"
    straddling = [(lo, hi, n) for lo, hi, n in buckets if lo < 0.3 < hi]   # absent: empty
    bound = (straddling[0][2] if straddling else 0.0) / N
    assert bound == 0.0, f"requests fell into the bucket straddling 0.3 s: {straddling}"
    reading = runs.readings[(SEARCH, "latency")]["ratio"]
    assert reading == pytest.approx(EXPECTED[(SEARCH, "latency")], rel=REL, abs=bound + 1e-9)
    # The classic layout could not have said it: no series has a 0.3 bucket.
    assert fleet.prometheus.query(f'{STABLE}_bucket{{le=~"0[.]30*"}}') == []


def test_a_gateway_request_is_one_trace_holding_spans_of_both_services(runs, fleet):
    jaeger = Http(urls(fleet.stack.model)["jaeger_query"])
    want = {GATEWAY, SEARCH}
    deadline = time.monotonic() + ARRIVAL_BUDGET_S
    while True:
        status, doc = jaeger.get_json("/api/traces", service=GATEWAY, start=int(runs.started * 1e6),
                                      end=time.time_ns() // 1000, limit=10 * N)
        assert status == 200, doc
        services = [frozenset(p["serviceName"] for p in t["processes"].values()) for t in doc.get("data") or []]
        if (len(services) >= N + 2 and all(s == want for s in services)) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert Counter(services) == Counter({frozenset(want): N + 2})


# --- old semantic conventions ---------------------------------------------------------------------------------

def test_an_old_semconv_python_service_answers_every_request(runs):
    assert runs.counted[LEGACY] == N + 2


@pytest.mark.parametrize("key", list(EXPECTED_LEGACY), ids=[f"{s}-{o}" for s, o in EXPECTED_LEGACY])
def test_an_old_semconv_python_service_records_the_right_ratios_read_from_the_old_form(runs, key):
    reading = runs.readings[key]
    assert reading["ratio"] is not None, f"{key}: nothing recorded: {reading}"
    assert reading["ratio"] == pytest.approx(EXPECTED_LEGACY[key], rel=REL, abs=1e-9), (key, reading)


def test_the_old_millisecond_series_arrive_as_they_are_with_the_old_status_label(runs, fleet):
    series = fleet.prometheus._data("/api/v1/series", **{"match[]": f'{{service_instance_id="{runs.ids[LEGACY]}"}}'})
    names = {s["__name__"] for s in series}
    assert {f"{OLD}_bucket", f"{OLD}_count", f"{OLD}_sum"} <= names, sorted(names)
    counts = [s for s in series if s["__name__"] == f"{OLD}_count"]
    assert {s.get("http_status_code") for s in counts} == {"200", "500"}
    les = {s["le"] for s in series if s["__name__"] == f"{OLD}_bucket"}
    assert {"250", "500", "1000"} <= les, sorted(les)


# --- two replicas with different bucket layouts ---------------------------------------------------------------

def test_a_replica_without_the_threshold_bucket_is_left_out_of_the_latency_slo_instead_of_read_as_slow(
        runs, fleet):
    assert (layout(fleet.prometheus, runs.ids["rollout-native"]),
            layout(fleet.prometheus, runs.ids["rollout-classic"])) == ({"native"}, {"classic"})
    les = {s["le"] for s in fleet.prometheus._data("/api/v1/series", **{
        "match[]": f'{STABLE}_bucket{{service_instance_id="{runs.ids["rollout-classic"]}"}}'})}
    assert {"0.25", "0.5"} <= les and not {"0.3", "0.30"} & les, sorted(les)
    availability, latency = runs.readings[(ROLLOUT, "availability")], runs.readings[(ROLLOUT, "latency")]
    assert (availability["ratio"], latency["ratio"]) == (0.0, 0.0), (availability, latency)
    # The latency SLI counts the native replica only: half the traffic the availability SLI counts (to 2%: each
    # replica's first sample holds 1 request of an increase of 300, so rate()'s extrapolation is capped at the
    # counter's zero point, by an amount that differs per series, until the samples span 150 s).
    assert latency["events"] == pytest.approx(availability["events"] / 2, rel=0.02)
    # Counting the classic replica's requests without a good bucket would read half of them as slow: over the
    # page threshold at 99% (14.4 x 0.01). That is the false page the layout-aware SLI avoids.
    naive = 1 - latency["events"] * (1 - latency["ratio"]) / availability["events"]
    assert naive > 0.144


def test_no_burn_alert_fires_or_is_pending_while_replicas_with_different_bucket_layouts_overlap(runs, fleet):
    groups = fleet.prometheus._data("/api/v1/rules", type="alert")["groups"]
    mine = [r for g in groups for r in g["rules"] if r.get("labels", {}).get("service") == ROLLOUT
            and r["name"] == "SLOErrorBudgetBurn"]
    assert mine and all(r["health"] == "ok" for r in mine), [(r["name"], r["health"], r.get("lastError"))
                                                            for r in mine]
    window = math.ceil(time.time() - runs.started) + 1
    fired = fleet.prometheus.query(
        f'max_over_time(ALERTS{{alertname="SLOErrorBudgetBurn",service="{ROLLOUT}"}}[{window}s])')
    assert fired == []


# --- obs verify and dashboards, with every service sending ---------------------------------------------------

@pytest.fixture(scope="module")
def steady(fleet, runs):
    """Light traffic to every service until the module ends (the ratio readings above are already taken)."""
    stop = threading.Event()
    targets = list(fleet.urls.values())

    def loop() -> None:
        while not stop.is_set():
            for url in targets:
                rs.drive(url, 2, 20.0, workers=2)
            stop.wait(0.3)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(5)
    yield
    stop.set()
    thread.join(30)


def test_obs_verify_comes_back_clean_against_the_real_services_without_synthetic_traffic(fleet, steady):
    proc = subprocess.run([sys.executable, "-m", "obs", "verify", str(fleet.spec), "--format", "json"],
                          capture_output=True, text=True, timeout=600, cwd=fleet.spec.parent)
    report = json.loads(proc.stdout)
    failed = [(r["name"], r["summary"], [f for f in r["findings"] if f["status"] != "pass"])
              for r in report["results"] if not (r["ok"] or r["skipped"])]
    assert (proc.returncode, failed) == (0, []), json.dumps(failed, indent=1) + proc.stderr[-2000:]
    checks = {r["name"] for r in report["results"] if r["ok"] and not r["skipped"]}
    assert {"trace", "metric", "alert"} <= checks, sorted(checks)


def has_data(result: list[dict]) -> bool:
    values = [v for s in result for v in ([s["value"]] if "value" in s else s["values"])]
    return any(v[1] not in ("NaN", "+Inf", "-Inf") for v in values)


def run_panel(prometheus: str, q) -> list[dict]:
    now = time.time()
    if q.instant:
        r = requests.get(f"{prometheus}/api/v1/query", params={"query": q.promql(), "time": now}, timeout=10)
    else:
        r = requests.get(f"{prometheus}/api/v1/query_range", timeout=10, params={
            "query": q.promql(), "start": now - 60, "end": now, "step": q.min_interval})
    body = r.json()
    assert body["status"] == "success", (q.dashboard_uid, q.panel_title, q.promql(), body)
    return body["data"]["result"]


def test_every_dashboard_panel_that_must_show_data_shows_data_for_both_services(fleet, steady):
    model = fleet.stack.model
    prometheus = urls(model)["prometheus"]
    queries = panel_queries(model)
    # Each service's page and each SLO's: the templated dashboards with their variables set to it ($team aside).
    pages = {(c.service_template_dashboard_uid(model.project), ((c.VARIABLE_SERVICE, s),)) for s in (GATEWAY, SEARCH)}
    pages |= {(c.slo_template_dashboard_uid(model.project), ((c.VARIABLE_SERVICE, s), (c.VARIABLE_SLO, o)))
              for s, o in EXPECTED}

    def page(q) -> tuple[str, tuple[tuple[str, str], ...]]:
        return q.dashboard_uid, tuple(kv for kv in q.variables if kv[0] != c.VARIABLE_TEAM)

    assert pages <= {page(q) for q in queries}
    deadline, missing = time.monotonic() + 120, queries
    while missing and time.monotonic() < deadline:
        missing = [q for q in queries if not q.may_be_empty and not has_data(run_panel(prometheus, q))]
        if missing:
            time.sleep(2)
    assert [(q.where, q.panel_title, q.ref_id, q.promql()) for q in missing] == [], "\n".join(
        f"{q.where} | {q.panel_title} | {q.ref_id} | {q.promql()}" for q in missing)
    must = [q for q in queries if page(q) in pages and not q.may_be_empty]
    assert len(must) >= 2 * len(pages)
