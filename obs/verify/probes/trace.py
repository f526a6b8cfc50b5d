"""Trace probe: one span with a unique trace id, sent over OTLP with the SDK, then found by ID in Jaeger."""
from __future__ import annotations

import time

from opentelemetry.trace import SpanKind

from obs.model import conventions as c
from obs.verify import diagnose, otlp, poll
from obs.verify.clients import Unreachable
from obs.verify.context import Context, down_reason
from obs.verify.result import Hop, ProbeResult
from obs.verify.selfmetrics import flow

NAME = "trace"


def run(ctx: Context) -> ProbeResult:
    export_floor, jaeger_floor = ctx.floors.trace
    ctx.progress(NAME, "sending a span over OTLP")
    started = time.monotonic()
    sender = otlp.traces(ctx.ep, otlp.resource(c.VERIFY_SERVICE), ctx.export_timeout)
    try:
        span = sender.provider.get_tracer("obs.verify").start_span(
            "obs verify trace probe", kind=SpanKind.INTERNAL, attributes={c.PROBE_ID_LABEL: "pending"})
        trace_id = format(span.get_span_context().trace_id, "032x")
        span.set_attribute(c.PROBE_ID_LABEL, trace_id)
        span.end()
        sender.provider.force_flush()
    finally:
        sender.close()
    sent = time.monotonic()
    hops = [Hop(export_floor.id, export_floor.title, sent - started if sender.ok else None, export_floor.floor)]

    found_at = None
    if sender.ok:
        ctx.progress(NAME, f"looking for trace {trace_id} in Jaeger")
        jaeger = ctx.jaeger()

        gone = poll.Outage(jaeger_floor.floor)

        def found() -> float | bool | None:
            try:
                hit = jaeger.has_trace(trace_id)
            except Unreachable:
                return False if gone.too_long() else None
            gone.clear()
            return time.monotonic() if hit else None

        found_at = poll.until(found, ctx.deadline, cap=poll.cap_for(jaeger_floor.floor), stop=ctx.stop) or None
    hops.append(Hop(jaeger_floor.id, jaeger_floor.title, None if found_at is None else found_at - sent,
                    jaeger_floor.floor))
    result = ProbeResult(NAME, found_at is not None, "", seconds=(found_at or time.monotonic()) - started,
                         floor=sum(h.floor for h in ctx.floors.trace), hops=hops, probe_id=trace_id)
    if result.ok:
        result.summary = f"trace {trace_id} found in Jaeger {result.seconds:.3f}s after it was sent"
        return result
    ev = diagnose.Evidence(
        "traces", ctx.ep.otlp_http, ctx.ep.jaeger, exported=sender.ok, attempt=sender.session.last,
        collector_healthy=ctx.collector_healthy(), backend_down=down_reason(ctx.jaeger(), "/api/v3/services"),
        memory_limit_mib=ctx.model.stack.timing.memory_limit_mib, otlp_setting=ctx.ep.otlp_setting)
    after = ctx.collector_after()
    if ctx.collector_before is not None and after is not None:
        ev.flow = flow("traces", ctx.collector_before, after)
    result.findings = diagnose.trace(ev)
    result.summary = f"trace {trace_id} did not arrive: {result.findings[0].why}"
    return result
