"""`obs verify` passes while the pipeline carries sustained background load, with the real binaries.

A separate process (tests/support/load.py, the OTel SDK) pushes spans and metric points through the collector
of a fast-profile stack the whole time; verify (every probe, every coverage check, `--traffic`) must
still exit 0. Durations against the floor, idle and loaded: bench/verify_under_load.py.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from obs.cli import main
from obs.project import load_model
from obs.stack.components import urls
from obs.stack.native import Stack
from obs.verify.clients import Collector, Jaeger, Unreachable
from tests.support.paths import SUPPORT
from tests.support.verify_spec import SECRET_ENV, served_spec

pytestmark = pytest.mark.live
LOAD = SUPPORT / "load.py"
SPANS_PER_SECOND = 500
POINTS_PER_SECOND = 500
LOAD_LIMIT_S = 240
LOAD_SERVICE = "obs-load"


def progress(message: str) -> None:
    if "already built" not in message:
        print(message, file=sys.stderr)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, "routing-key-for-the-load-test")
        with served_spec(tmp_path_factory.mktemp("load"), project="load-test") as spec:
            st = Stack(spec.parent, load_model(spec))
            try:
                st.up(progress)
                yield spec, st
            finally:
                st.down()


def accepted(model) -> dict[str, float]:
    u = urls(model)
    try:
        snapshot = Collector(u["collector_health"], u["collector_metrics"]).self_metrics()
    except Unreachable:
        return {}
    out = {"spans": 0.0, "metric_points": 0.0}
    for (name, _), value in snapshot.items():
        for kind in out:
            if name == f"otelcol_receiver_accepted_{kind}":
                out[kind] += value
    return out


@pytest.fixture(scope="module")
def load(stack):
    spec, st = stack
    proc = subprocess.Popen([sys.executable, str(LOAD), "--otlp", urls(st.model)["otlp_http"],
                             "--spans-per-second", str(SPANS_PER_SECOND),
                             "--points-per-second", str(POINTS_PER_SECOND), "--seconds", str(LOAD_LIMIT_S)],
                            stdout=subprocess.PIPE, text=True)
    try:
        # Until the load's spans are in Jaeger: the load is flowing end to end before verify starts.
        jaeger = Jaeger(urls(st.model)["jaeger_query"])
        for _ in range(60):
            try:
                if LOAD_SERVICE in jaeger.services():
                    break
            except Unreachable:
                pass
            time.sleep(0.5)
        yield proc
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def test_verify_with_traffic_passes_while_background_load_flows_through_the_collector(stack, load, capsys):
    spec, st = stack
    before = accepted(st.model)
    code = main(["verify", str(spec), "--traffic", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    after = accepted(st.model)
    assert code == 0, {r["name"]: r["findings"] for r in doc["results"] if not r["ok"]}
    assert load.poll() is None, "the load generator stopped before verify finished"
    # The load, not only verify's own probes and traffic, went through the collector during the run.
    assert after["spans"] - before["spans"] >= SPANS_PER_SECOND, (before, after)
    assert after["metric_points"] - before["metric_points"] >= POINTS_PER_SECOND, (before, after)


def test_every_probe_passes_with_each_hop_timed_while_the_load_goes_on(stack, load, capsys):
    spec, _ = stack
    probes = ["--only", "trace", "--only", "metric", "--only", "scrape", "--only", "alert"]
    code = main(["verify", str(spec), *probes, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, {r["name"]: r["findings"] for r in doc["results"] if not r["ok"]}
    assert {r["name"] for r in doc["results"]} == {"trace", "metric", "scrape", "alert"}
    assert all(h["seconds"] is not None for r in doc["results"] for h in r["hops"]), doc["results"]
    assert load.poll() is None
