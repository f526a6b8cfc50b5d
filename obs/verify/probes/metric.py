"""Metric probe: an OTLP gauge obs.verify.probe{probe_id=<uuid>} sent to the collector, then queried in Prometheus.

The value is 0 so the probe alert rule (which fires on > 0) ignores it; only the alert probe sends 1.
"""
from __future__ import annotations

import time
import uuid

from obs.model import conventions as c
from obs.model import promql
from obs.model.kinds import MetricsPath
from obs.verify import clients, diagnose, otlp, poll
from obs.verify.context import Context, down_reason
from obs.verify.result import Hop, ProbeResult
from obs.verify.selfmetrics import flow

NAME = "metric"


def selector(probe_id: str) -> str:
    return promql.selector(c.PROBE_METRIC, {c.PROBE_ID_LABEL: probe_id})


def visible(prom: clients.Prometheus, probe_id: str, above: float | None = None) -> bool:
    """Raises Unreachable or ApiError: the caller decides whether that means "not yet"."""
    return bool(prom.query(selector(probe_id) + (f" > {above:g}" if above is not None else "")))


class Gauge:
    """The probe gauge, one series per probe id, pushed whenever asked."""

    def __init__(self, ctx: Context, probe_id: str):
        self.probe_id = probe_id
        self.sender = otlp.metrics(ctx.ep, otlp.resource(c.VERIFY_SERVICE), ctx.export_timeout)
        self.gauge = self.sender.provider.get_meter("obs.verify").create_gauge(
            c.PROBE_OTLP_METRIC, description="obs verify probe; 1 asks the probe rule to fire")

    def push(self, value: float) -> bool:
        self.gauge.set(value, {c.PROBE_ID_LABEL: self.probe_id})
        return self.sender.push()

    def close(self) -> None:
        self.sender.close()


def evidence(ctx: Context, gauge: Gauge, exported: bool) -> diagnose.Evidence:
    prom = ctx.prometheus()
    push = ctx.model.stack.metrics == MetricsPath.PUSH
    ev = diagnose.Evidence(
        "metrics", ctx.ep.otlp_http, ctx.ep.prometheus, exported=exported, attempt=gauge.sender.session.last,
        collector_healthy=ctx.collector_healthy(), backend_down=down_reason(prom, "/-/ready"),
        memory_limit_mib=ctx.model.stack.timing.memory_limit_mib, otlp_setting=ctx.ep.otlp_setting, push=push)
    after = ctx.collector_after()
    if ctx.collector_before is not None and after is not None:
        ev.flow = flow("metrics", ctx.collector_before, after)
    if ev.backend_down is None:
        if push:
            ev.otlp_receiver_enabled = prom.otlp_receiver_enabled()
        try:
            rows = prom.query(f'{{{c.PROBE_ID_LABEL}="{gauge.probe_id}"}}')
            names = {r["metric"].get("__name__") for r in rows} - {c.PROBE_METRIC, None}
            ev.found_as = next(iter(sorted(names)), None)
            if not push:
                port = f":{ctx.model.stack.ports['collector_prometheus']}/"
                target = next((t for t in prom.targets() if port in t.get("scrapeUrl", "")), None)
                if target is None:
                    ev.scrape_error = "no scrape job targets the collector's Prometheus exporter"
                elif target.get("health") != "up":
                    ev.scrape_error = target.get("lastError") or target.get("health")
        except (clients.Unreachable, clients.ApiError):
            pass
    return ev


def run(ctx: Context) -> ProbeResult:
    export_floor, prom_floor = ctx.floors.metric
    probe_id = uuid.uuid4().hex
    ctx.progress(NAME, "sending the probe gauge over OTLP")
    gauge = Gauge(ctx, probe_id)
    try:
        started = time.monotonic()
        exported = gauge.push(0)
        sent = time.monotonic()
        found_at = _query(ctx, gauge, probe_id) if exported else None
    finally:
        gauge.close()
    hops = [Hop(export_floor.id, export_floor.title, sent - started if exported else None, export_floor.floor),
            Hop(prom_floor.id, prom_floor.title, None if found_at is None else found_at - sent, prom_floor.floor)]
    result = ProbeResult(NAME, found_at is not None, "", seconds=(found_at or time.monotonic()) - started,
                         floor=export_floor.floor + prom_floor.floor, hops=hops, probe_id=probe_id)
    if result.ok:
        result.summary = f"{selector(probe_id)} queryable {result.seconds:.3f}s after it was sent"
        return result
    result.findings = diagnose.metric(evidence(ctx, gauge, exported))
    result.summary = f"the probe gauge did not arrive: {result.findings[0].why}"
    return result


def _query(ctx: Context, gauge: Gauge, probe_id: str) -> float | None:
    """When Prometheus first returns the probe gauge (monotonic), or None by the deadline."""
    _, prom_floor = ctx.floors.metric
    ctx.progress(NAME, f"querying Prometheus for {selector(probe_id)}")
    prom = ctx.prometheus()
    gone, waited = poll.Outage(prom_floor.floor), poll.Outage(prom_floor.floor)
    push = ctx.model.stack.metrics == MetricsPath.PUSH
    # Pulled, the collector's exporter forgets a series no export renews within two SDK intervals, and a
    # fresh stack's first scrape of it may come later than that: export again each interval, as an SDK does.
    every = ctx.model.stack.timing.sdk_metric_interval.s
    last_push = time.monotonic()

    def found() -> float | bool | None:
        nonlocal last_push
        if not push and time.monotonic() - last_push >= every:
            gauge.push(0)
            last_push = time.monotonic()
        try:
            hit = bool(prom.query(selector(probe_id)))
        except clients.Unreachable:
            return False if gone.too_long() else None
        except clients.ApiError:
            return None
        gone.clear()
        if hit:
            return time.monotonic()
        # A Prometheus that 404s OTLP will never have the probe; say so now, not at the deadline.
        return False if push and waited.too_long() and prom.otlp_receiver_enabled() is False else None

    found_at = poll.until(found, ctx.deadline, cap=poll.cap_for(prom_floor.floor), stop=ctx.stop)
    # False means "stop: it will never come"; True is never returned.
    return found_at if isinstance(found_at, float) else None
