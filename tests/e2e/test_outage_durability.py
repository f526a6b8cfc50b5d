"""Nothing lost through a backend outage: the collector's persistent queue, with the real binaries.

Jaeger and Prometheus are stopped for ~18 s while an SDK sender keeps sending spans (each its own
trace) and gauge samples (value = sequence number) at a steady rate; mid-outage the collector is
SIGKILLed **while the sender keeps going**, and started again on the same queue directory. Every span and
sample the collector accepted is then looked up by its id: none may be missing, which holds because the
collector batches in its exporters' persistent queues (no batch processor holds accepted data in memory).
The same drill without the persistent queue must lose the data queued before the crash: that is what shows
the drill can tell the difference.

Counts and throughput for the production profile and a 60 s outage: bench/outage_durability.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from obs.commands.generate import generate
from obs.project import load_model
from obs.stack.native import Stack
from tests.support.outage_drill import MUST_ARRIVE_SPANS, Plan, run
from tests.support.stack_spec import SECRET_ENV, free_ports, write_spec

pytestmark = pytest.mark.live
OUTAGE_S = 18.0
CRASH_AT_S = 8.0
EXPORTERS = ("otlp_grpc/jaeger", "otlp_http/prometheus")


def progress(message: str) -> None:
    if "already built" not in message:
        print(message, file=sys.stderr)


@pytest.fixture(scope="module", autouse=True)
def environment():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, "routing-key-for-the-outage-test")
        yield


def _stack(directory: Path, persistent: bool):
    spec = write_spec(directory, free_ports(), project="outage-test")
    spec.write_text(spec.read_text().replace(
        "profile: fast", f"profile: fast\n  persistent_queue: {'true' if persistent else 'false'}"))
    generate(spec, None, check=False)
    return Stack(spec.parent, load_model(spec))


@pytest.fixture(scope="module")
def persistent_drill(tmp_path_factory):
    st = _stack(tmp_path_factory.mktemp("persistent"), persistent=True)
    assert st.model.stack.persistent_queue
    try:
        st.up(progress)
        yield st, run(st, st.model, Plan(outage_s=OUTAGE_S, crash_at_s=CRASH_AT_S, quiet_crash=False), progress)
    finally:
        st.down()


@pytest.fixture(scope="module")
def volatile_drill(tmp_path_factory):
    st = _stack(tmp_path_factory.mktemp("volatile"), persistent=False)
    assert not st.model.stack.persistent_queue
    # Wait only for what survives a crash without the persistent queue; the rest is what it loses.
    plan = Plan(outage_s=OUTAGE_S, crash_at_s=CRASH_AT_S, quiet_crash=True,
                await_spans=("restarted", "after"), await_samples=("restarted", "after"))
    try:
        st.up(progress)
        yield st, run(st, st.model, plan, progress)
    finally:
        st.down()


def test_the_retry_window_outlasts_the_outage_with_room_to_spare(persistent_drill):
    st, result = persistent_drill
    timing = st.model.stack.timing
    # A batch is dropped once it has been retried for retry_max_elapsed; the drill must stay well inside it.
    assert timing.retry_max_elapsed.s >= 3 * result.outage_s, (timing.retry_max_elapsed, result.outage_s)


def test_the_outage_really_queued_data_and_the_collector_really_crashed(persistent_drill):
    _, r = persistent_drill
    assert all(r.queue_peak.get(e, 0) > 0 for e in EXPORTERS), r.queue_peak
    old, new = r.collector_pids
    assert old and new and old != new
    for phase in ("before", "outage", "restarted", "after"):
        assert r.spans.accepted.get(phase, 0) > 0, (phase, r.spans)
        assert r.samples.accepted.get(phase, 0) > 0, (phase, r.samples)


def test_every_span_accepted_during_and_after_the_outage_arrives_in_jaeger(persistent_drill):
    _, r = persistent_drill
    assert r.delivered_after_s is not None, (r.spans, r.samples)
    lost = {p: n for p, n in r.spans.lost.items() if p in MUST_ARRIVE_SPANS and n}
    assert lost == {}, f"spans lost per phase: {lost}; accepted {r.spans.accepted}, found {r.spans.found}"


def test_the_spans_sent_before_the_outage_had_reached_jaeger_before_it_stopped(persistent_drill):
    # Jaeger's memory storage starts empty after a restart, so these are confirmed before the stop.
    _, r = persistent_drill
    assert r.before_confirmed == r.spans.accepted["before"] == r.spans.found["before"]


def test_every_sample_accepted_before_during_and_after_the_outage_is_in_prometheus(persistent_drill):
    _, r = persistent_drill
    assert r.samples.lost == {p: 0 for p in r.samples.accepted}, (r.samples.accepted, r.samples.found)


def test_every_queue_is_empty_once_the_backends_are_back(persistent_drill):
    _, r = persistent_drill
    assert {e: r.queue_after.get(e) for e in EXPORTERS} == {e: 0 for e in EXPORTERS}


def test_without_the_persistent_queue_the_crash_loses_everything_queued_during_the_outage(volatile_drill):
    _, r = volatile_drill
    for tally in (r.spans, r.samples):
        assert tally.accepted["outage"] > 0
        assert tally.found.get("outage", 0) == 0, tally
        # What the restarted collector accepted still arrives: the drill counts delivery correctly.
        assert all(tally.lost[p] == 0 for p in ("restarted", "after")), tally
