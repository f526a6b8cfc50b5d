"""Full request visibility: every declared call (`calls:`) carries traces, and spans keep their parents.

The service graph comes from Jaeger: with memory storage, `GET /api/dependencies` computes it on request
from the traces it holds ({"data": [{"parent", "child", "callCount"}]}; a service's server span calling its
own client span shows up as a self-edge, which says nothing about propagation and is ignored). Orphans come
from the traces themselves (v1 `/api/traces`, start and end in microseconds): a span whose CHILD_OF parent is
not in its trace. A trace is judged only once every SDK in it has exported: Node.js holds spans about 5 s.

The pure functions (edge_findings, orphan_counts, orphan_findings) are table-tested; check_* gather.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.floors import JAEGER_INGEST_S
from obs.verify.context import Context
from obs.verify.result import Finding, Status

# The window the graph and the orphan count look back over, as coverage's other checks do.
WINDOW_S = 600
# Node.js's SDK (sdk-node 0.223) holds finished spans about 5 s before export, whatever the profile's batch delay
# (measured with tests/realsvc/): until then its children look orphaned.
NODE_SPAN_HOLD_S = 5.0
SETTLE_MARGIN_S = 1.0
# Above this share of a service's spans without their parent, its traces are broken often enough to matter.
ORPHAN_WARN_SHARE = 0.05
# Traces fetched per service: enough for a share, few enough for a local query API.
TRACE_LIMIT = 200


def _ago(seconds: float) -> str:
    return f"{seconds / 60:g}m" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g}s"


def declared_edges(model: Model) -> list[tuple[str, str]]:
    return [(s.name, callee) for s in model.services for callee in s.calls]


def edge_findings(model: Model, observed: dict[tuple[str, str], int], with_spans: set[str],
                  window_s: float = WINDOW_S) -> list[Finding]:
    """Declared edges without traffic fail; undeclared ones are reported (warn when the caller is declared)."""
    services = {s.name: s for s in model.services}
    found: list[Finding] = []
    ago = _ago(window_s)
    for parent, child in declared_edges(model):
        if not (services[parent].otlp and services[child].otlp):
            quiet = parent if not services[parent].otlp else child
            found.append(Finding(f"edge {parent} → {child}", Status.INFO, f"not checked: {quiet} sends no OTLP, so it "
                                 "has no spans", ""))
            continue
        if observed.get((parent, child)):
            found.append(Finding(f"edge {parent} → {child}", Status.INFO, f"{parent} → {child}: "
                                 f"{observed[(parent, child)]} call(s) traced in the last {ago}"))
            continue
        why = (f"no trace in Jaeger has a span of {child} whose parent is a span of {parent} in the last {ago}")
        silent = [s for s in (parent, child) if s not in with_spans]
        if silent:
            why += "; " + " and ".join(silent) + (" sends" if len(silent) == 1 else " send") + " no spans at all"
        fix = (f"check that {parent} propagates W3C tracecontext (OTEL_PROPAGATORS from `obs env {parent}`) and "
               f"that both services send traces (`obs env {child}`); if {parent} no longer calls {child}, remove "
               f"it from {parent}'s `calls`")
        found.append(Finding(f"edge {parent} → {child}", Status.FAIL, why, fix))
    declared = set(declared_edges(model))
    for (parent, child), n in sorted(observed.items()):
        if parent == child or (parent, child) in declared or not n:
            continue
        if parent in services:
            calls = ", ".join([*services[parent].calls, child])
            found.append(Finding(f"edge {parent} → {child}", Status.WARN, f"traces show {parent} calling {child} ({n} "
                                 f"call(s) in the last {ago}), but the spec does not declare it",
                                 f"add `calls: [{calls}]` to service {parent}"))
        elif child in services and parent != c.VERIFY_SERVICE:
            found.append(Finding(f"edge {parent} → {child}", Status.INFO, f"{parent}, not in the spec, calls {child} "
                                 f"({n} call(s) in the last {ago})",
                                 f"declare service {parent} with `calls: [{child}]` to check this edge"))
    return found


def settle_seconds(model: Model) -> float:
    """How old a trace must be before a missing parent means lost, not late."""
    t = model.stack.timing
    return max(t.sdk_span_delay.s, NODE_SPAN_HOLD_S) + t.batch_timeout.s + JAEGER_INGEST_S + SETTLE_MARGIN_S


@dataclass(frozen=True)
class Share:
    orphans: int
    spans: int

    @property
    def ratio(self) -> float:
        return self.orphans / self.spans if self.spans else 0.0


def orphan_counts(traces: list[dict[str, Any]], settled_before_us: int, services: set[str]) -> dict[str, Share]:
    """Per service: its spans, and those whose parent span never arrived, in traces wholly older than the cut.

    `traces` are Jaeger v1 API traces (spans with `references`, `processes` naming each span's service);
    a trace listed twice (found through two services) counts once.
    """
    orphans: Counter[str] = Counter()
    spans: Counter[str] = Counter()
    seen: set[str | None] = set()
    for trace in traces:
        tid = trace.get("traceID")
        if tid in seen:
            continue
        seen.add(tid)
        members = trace.get("spans") or []
        if not members or max(s.get("startTime", 0) + s.get("duration", 0) for s in members) >= settled_before_us:
            continue
        ids = {s.get("spanID") for s in members}
        processes = trace.get("processes") or {}
        for s in members:
            service = (processes.get(s.get("processID")) or {}).get("serviceName")
            if service not in services:
                continue
            spans[service] += 1
            parents = [r.get("spanID") for r in s.get("references") or []
                       if r.get("refType") == "CHILD_OF" and r.get("traceID", tid) == tid]
            if any(p not in ids for p in parents):
                orphans[service] += 1
    return {svc: Share(orphans[svc], n) for svc, n in spans.items()}


def orphan_findings(shares: dict[str, Share], settle_s: float, threshold: float = ORPHAN_WARN_SHARE) -> list[Finding]:
    """One info finding with every service's share, then a warning per service above the threshold."""
    if not shares:
        return [Finding("traces", Status.INFO, f"no trace of a declared service older than {settle_s:.1f}s yet")]
    found = [Finding("traces", Status.INFO, "spans whose parent never arrived: " + ", ".join(
        f"{s} {v.orphans}/{v.spans}" for s, v in sorted(shares.items())) + f" (traces older than {settle_s:.1f}s)")]
    for service, share in sorted(shares.items()):
        if share.orphans and share.ratio > threshold:
            found.append(Finding(
                f"service {service}", Status.WARN,
                f"{share.orphans} of {share.spans} span(s) of {service} ({share.ratio:.0%}) name a parent span that "
                f"never arrived in Jaeger (traces older than {settle_s:.1f}s; above {threshold:.0%})",
                f"the services that call {service} must send their spans too, with the parent-based sampler "
                "(OTEL_TRACES_EXPORTER and OTEL_TRACES_SAMPLER from `obs env`); a span still held in an SDK's batch "
                f"when its process stopped is lost (Node.js holds spans about {NODE_SPAN_HOLD_S:g} s before "
                "export, so a fresh trace looks orphaned that long)"))
    return found


# --- gathering from the running Jaeger -------------------------------------------------------------------


def edges(ctx: Context) -> list[Finding]:
    jaeger = ctx.jaeger()
    now_ms = int(time.time() * 1000)
    observed: dict[tuple[str, str], int] = {}
    for d in jaeger.dependencies(now_ms, WINDOW_S * 1000):
        key = (str(d.get("parent")), str(d.get("child")))
        observed[key] = observed.get(key, 0) + int(d.get("callCount") or 0)
    with_spans = set(jaeger.services()) if declared_edges(ctx.model) else set()
    return edge_findings(ctx.model, observed, with_spans)


def shares(ctx: Context) -> dict[str, Share]:
    jaeger = ctx.jaeger()
    settle = settle_seconds(ctx.model)
    now_us = int(time.time() * 1_000_000)
    cut = now_us - int(settle * 1_000_000)
    declared = {s.name for s in ctx.model.services if s.otlp}
    present = declared & set(jaeger.services())
    traces: list[dict[str, Any]] = []
    for service in sorted(present):
        traces += jaeger.search(service, now_us - WINDOW_S * 1_000_000, cut, TRACE_LIMIT)
    return orphan_counts(traces, cut, declared)


def orphans(ctx: Context) -> list[Finding]:
    return orphan_findings(shares(ctx), settle_seconds(ctx.model))
