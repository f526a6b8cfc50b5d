"""The outage itself: Jaeger and Prometheus stopped while the sender keeps going, optionally a collector crash.

    result = run(stack, model, Plan(outage_s=60, crash_at_s=30), progress)

Timeline: warm-up (the pipeline delivers; the spans sent so far are confirmed in Jaeger) → both backends
stopped (SIGTERM) → optionally the collector SIGKILLed mid-outage and started again → both backends
started again → the sender keeps going for `after_s`, then stops → wait until every accepted item is
found or `deliver_timeout_s` passes → exact counts per phase.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from obs.model.domain import Model
from obs.stack.components import urls
from obs.stack.native import Stack
from tests.support.outage import (
    PHASES,
    Sender,
    Tally,
    new_run_id,
    queue_sizes,
    samples_found,
    spans_found,
    tally,
    traces_in_jaeger,
)

# Jaeger's memory storage starts empty after a restart, so spans it had before the outage are checked then.
MUST_ARRIVE_SPANS = ("outage", "restarted", "after")
POLL_S = 1.0


@dataclass(frozen=True)
class Plan:
    outage_s: float
    warmup_s: float = 5.0
    after_s: float = 5.0
    crash_at_s: float | None = None      # seconds into the outage to SIGKILL the collector
    crash_down_s: float = 3.0            # how long the collector stays dead
    quiet_crash: bool = False            # pause the sender around the crash (see `run`)
    deliver_timeout_s: float = 120.0
    # What to wait for before counting: everything that must arrive (default), or for a drill that
    # expects loss, only the phases that survive it.
    await_spans: tuple[str, ...] = MUST_ARRIVE_SPANS
    await_samples: tuple[str, ...] = ("before", "boundary", "outage", "restarted", "after")
    period_s: float = 0.1
    spans_per_tick: int = 10
    lanes: int = 5


@dataclass
class Result:
    run_id: str
    plan: Plan
    spans: Tally
    samples: Tally
    outage_s: float = 0.0                # backends stopped → both healthy again
    delivered_after_s: float | None = None   # backends back → every must-arrive item found
    queue_peak: dict[str, float] = field(default_factory=dict)
    queue_after: dict[str, float] = field(default_factory=dict)
    refused_exports: int = 0
    made_spans: int = 0
    made_samples: int = 0
    sent_s: float = 0.0
    before_confirmed: int = 0
    collector_pids: tuple[int, ...] = ()  # the collector before and after the crash

    def spans_lost(self) -> int:
        return sum(self.spans.lost.get(p, 0) for p in MUST_ARRIVE_SPANS)

    def must_arrive_spans(self) -> tuple[int, int]:
        return (sum(self.spans.accepted.get(p, 0) for p in MUST_ARRIVE_SPANS),
                sum(self.spans.found.get(p, 0) for p in MUST_ARRIVE_SPANS))

    def samples_lost(self) -> int:
        return sum(self.samples.lost.values())

    def outage_rate(self, kind: str) -> float:
        """Items per second the collector accepted while the backends were down."""
        counts = (self.spans if kind == "spans" else self.samples).accepted
        return sum(counts.get(p, 0) for p in ("outage", "restarted")) / self.outage_s if self.outage_s else 0.0


def run(stack: Stack, model: Model, plan: Plan, progress: Callable[[str], None]) -> Result:
    u = urls(model)
    run_id = new_run_id()
    budget = plan.warmup_s + plan.outage_s + plan.after_s + 180
    sender = Sender(u["otlp_http"], run_id, plan.period_s, plan.spans_per_tick, plan.lanes, budget)
    peaks: dict[str, float] = {}

    def watch(seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            for exporter, size in queue_sizes(u["collector_health"], u["collector_metrics"]).items():
                peaks[exporter] = max(peaks.get(exporter, 0.0), size)
            time.sleep(min(POLL_S, max(left, 0.0)))

    started_wall = time.time()
    sender.start()
    try:
        time.sleep(plan.warmup_s)
        snapshot = sender.accepted("spans", ("before",))
        sender.enter("boundary")
        confirmed = _confirm(u["jaeger_query"], sender.service, started_wall, snapshot, 20.0)
        progress(f"warm-up: {len(confirmed)}/{len(snapshot)} spans confirmed in Jaeger before the outage")
        stack.stop("jaeger", progress)
        stack.stop("prometheus", progress)
        sender.enter("outage")
        down_at = time.monotonic()
        pids: tuple[int, ...] = ()
        if plan.crash_at_s is not None:
            watch(plan.crash_at_s)
            pids = _crash(stack, sender, plan, progress)
        watch(plan.outage_s - (time.monotonic() - down_at))
        progress(f"queues before the backends return: {peaks}; sender backlog {sender.backlog}")
        stack.start("prometheus", progress)
        stack.start("jaeger", progress)
        sender.enter("after")
        back_at = time.monotonic()
        outage = back_at - down_at
        watch(plan.after_s)
    finally:
        sender.stop()
    progress(f"sender stopped: made {sender.made_spans} spans, {sender.made_samples} samples; "
             f"{sender.refused_exports} exports refused and resent; backlog left {sender.backlog}")
    delivered = _await_delivery(u, sender, started_wall, back_at, plan, progress)
    window = int(time.time() - started_wall) + 120
    spans_accepted = {k: p for k, p in sender.spans.items()}
    wanted = {k for k, p in spans_accepted.items() if p != "before"}
    found_spans = spans_found(u["jaeger_query"], sender.service, started_wall, wanted) | confirmed
    return Result(
        run_id=run_id, plan=plan,
        spans=tally(spans_accepted, found_spans),
        samples=tally(dict(sender.samples), samples_found(u["prometheus"], run_id, window)),
        outage_s=outage, delivered_after_s=delivered, queue_peak=peaks,
        queue_after=_settled_queues(u),
        refused_exports=sender.refused_exports, made_spans=sender.made_spans, made_samples=sender.made_samples,
        sent_s=sender.stopped - sender.started, before_confirmed=len(confirmed),
        collector_pids=pids)


def _crash(stack: Stack, sender: Sender, plan: Plan, progress: Callable[[str], None]) -> tuple[int, ...]:
    """SIGKILL the collector, keep it dead for `crash_down_s`, start it again on the same queue directory.

    With `quiet_crash` the sender pauses first for a few batch timeouts, so the crash hits a collector
    whose accepted data has all left the in-memory batch processor: that isolates the persistent queue.
    """
    if plan.quiet_crash:
        sender.pause()
        time.sleep(max(1.0, 5 * stack.model.stack.timing.batch_timeout.s))
    pid = stack.kill("otelcol")
    progress(f"collector SIGKILLed (pid {pid}); sender backlog {sender.backlog}")
    time.sleep(plan.crash_down_s)
    stack.start("otelcol", progress)
    sender.enter("restarted")
    if plan.quiet_crash:
        sender.resume()
    return pid, stack.pid("otelcol") or 0


def _settled_queues(u: dict[str, str], timeout: float = 10.0) -> dict[str, float]:
    """The exporters' queue sizes once all are empty, or as last read: new data keeps flowing (span metrics)."""
    deadline = time.monotonic() + timeout
    while True:
        sizes = queue_sizes(u["collector_health"], u["collector_metrics"])
        if (sizes and not any(sizes.values())) or time.monotonic() >= deadline:
            return sizes
        time.sleep(0.2)


def _confirm(jaeger_url: str, service: str, since_wall: float, wanted: set[str], timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = traces_in_jaeger(jaeger_url, service, since_wall) & wanted
        if found == wanted or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


def _await_delivery(u: dict[str, str], sender: Sender, since_wall: float, back_at: float, plan: Plan,
                    progress: Callable[[str], None]) -> float | None:
    """Seconds from the backends' return until every awaited item is found; None if not within the timeout."""
    spans = sender.accepted("spans", plan.await_spans)
    samples = sender.accepted("samples", plan.await_samples)
    timeout = plan.deliver_timeout_s
    deadline = time.monotonic() + timeout
    while True:
        window = int(time.time() - since_wall) + 120
        have_spans = traces_in_jaeger(u["jaeger_query"], sender.service, since_wall) & spans
        have_samples = samples_found(u["prometheus"], sender.run_id, window) & samples
        if have_spans == spans and have_samples == samples:
            return time.monotonic() - back_at
        if time.monotonic() >= deadline:
            progress(f"not delivered within {timeout:.0f}s: spans {len(have_spans)}/{len(spans)}, "
                     f"samples {len(have_samples)}/{len(samples)}")
            return None
        time.sleep(POLL_S)


__all__ = ["PHASES", "Plan", "Result", "run"]
