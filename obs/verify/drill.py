"""`obs drill`: a synthetic outage for a canary service, timed until its page reaches a receiver obs controls.

The outage is OTLP traffic as the canary (its own service.instance.id, so its
series never mix with the real ones): requests that fail the SLO's SLI (5xx for
availability, slower than the threshold for latency, the error selectors for
events). It is pushed at the SDK's export interval, as a real service would, until
the page arrives at the webhook sink: Alertmanager copies every page to the
obs-verify receiver (and on to the spec's real receiver). The time is compared with
the SRE workbook's time to fire for the fastest page tier, plus what the pipeline adds.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

from obs.errors import Problem, SpecError
from obs.model import conventions as c
from obs.model.domain import SLO, Model, Service
from obs.model.durations import Duration
from obs.verify import clients, otlp, traffic
from obs.verify.context import Context
from obs.verify.floors import HANDOFF_S, DetectionFloor, detection_floor
from obs.verify.result import Finding, Hop
from obs.verify.sink import labels_match

# The platform's target: any incident detected (paged) in under 5 minutes with production timing.
TARGET_S = 300.0
# Requests per second the canary sends during the outage; at least MIN_PER_PUSH per export, so the
# SLO's minimum-traffic guard (events per 5m) is met within two exports.
RPS = 10
MIN_PER_PUSH = 100
STAGES = (("errors", "errors recorded by the SLO rules"), ("firing", "page alert firing in Prometheus"),
          ("alertmanager", "page alert in Alertmanager"), ("receiver", "page delivered to the receiver"))


@dataclass
class DrillResult:
    service: str
    slo: str
    error_ratio: float
    floor: DetectionFloor
    ok: bool = False
    seconds: float = 0.0
    tier: str | None = None
    hops: list[Hop] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    history_events: float = 0.0          # the canary's events in the long window before the outage

    @property
    def within_target(self) -> bool:
        return self.ok and self.seconds <= TARGET_S

    def as_dict(self) -> dict:
        return {"service": self.service, "slo": self.slo, "error_ratio": self.error_ratio, "ok": self.ok,
                "seconds": round(self.seconds, 3), "tier": self.tier, "within_target": self.within_target,
                "target_seconds": TARGET_S, "workbook_seconds": round(self.floor.workbook_s, 3),
                "pipeline_slack_seconds": round(self.floor.slack_s, 3), "floor_seconds": round(self.floor.total_s, 3),
                "floor_tier": self.floor.tier, "budget_consumed_at_fire": round(self.floor.budget_share, 4),
                "history_events": self.history_events,
                "hops": [h.as_dict() for h in self.hops], "findings": [f.as_dict() for f in self.findings]}


def canary(model: Model, service: str | None, slo_name: str | None, error_ratio: float) -> tuple[Service, SLO]:
    """The named service (default: the first with an availability SLO that pages) and its first paging SLO."""
    def pages(slo: SLO) -> bool:
        return slo.sli.kind in ("availability", "latency", "events") and any(t.severity == "page" for t in slo.tiers)

    candidates = [(s, slo) for s in model.services for slo in s.slos
                  if (service is None or s.name == service) and (slo_name is None or slo.name == slo_name)
                  and pages(slo)]
    if service is None and slo_name is None:
        candidates.sort(key=lambda pair: pair[1].sli.kind != "availability")
    if not candidates:
        what = f"service {service!r}" if service else "any service"
        raise SpecError("--service", [Problem("", f"{what} has no SLO that pages on an availability, latency or "
                                                  "events SLI; drill a service that has one")])
    svc, slo = candidates[0]
    if detection_floor(model, slo, error_ratio) is None:
        raise SpecError("--error-ratio", [Problem("", f"at an error ratio of {error_ratio:g} no page tier of "
                                                      f"{c.slo_id(svc.name, slo.name)} can fire; raise it")])
    return svc, slo


class Outage:
    """The canary's failing requests, as OTLP metrics from the SDK."""

    def __init__(self, ctx: Context, service: Service, slo: SLO, error_ratio: float):
        self.service, self.slo, self.ratio = service, slo, error_ratio
        res = otlp.resource(service.name, f"obs-drill-{uuid.uuid4().hex[:8]}", **{"obs.synthetic": "drill"})
        views = [View(instrument_name=traffic.HTTP_METRIC,
                      aggregation=ExplicitBucketHistogramAggregation(boundaries=service.latency_buckets))]
        self.sender = otlp.metrics(ctx.ep, res, ctx.export_timeout, views)
        meter = self.sender.provider.get_meter("obs.drill")
        self.hist = meter.create_histogram(traffic.HTTP_METRIC, unit="s")
        self.counters: dict[str, object] = {}
        self.per_push = max(MIN_PER_PUSH, round(RPS * ctx.model.stack.timing.sdk_metric_interval.s))
        self.meter = meter

    def push(self) -> bool:
        bad = round(self.per_push * self.ratio)
        for i in range(self.per_push):
            failing = i < bad
            if self.slo.sli.kind == "events":
                continue
            slow = self.slo.sli.threshold.s * 2 if self.slo.sli.threshold else 0.01
            duration = slow if failing and self.slo.sli.kind == "latency" else self.service.latency_buckets[0] / 2
            status = 500 if failing and self.slo.sli.kind == "availability" else 200
            self.hist.record(duration, {"http.request.method": "GET", "http.route": "/drill",
                                        "http.response.status_code": status})
        if self.slo.sli.kind == "events":
            self._events(bad)
        return self.sender.push()

    def _events(self, bad: int) -> None:
        for query, n in ((self.slo.sli.error_query, bad), (self.slo.sli.total_query, self.per_push - bad)):
            for sel in traffic.selectors(query or ""):
                kind, name = traffic.otlp_name(sel.metric)
                if kind != "counter":
                    continue
                counter = self.counters.setdefault(name, self.meter.create_counter(name))
                counter.add(n, sel.labels)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.sender.close()


def page_labels(slo: SLO) -> dict[str, str]:
    return {"alertname": c.SLO_BURN_ALERT, c.LABEL_SERVICE: slo.service, c.LABEL_SLO: slo.name,
            c.LABEL_SEVERITY: "page"}


def history(prom: clients.Prometheus, slo: SLO, floor: DetectionFloor) -> float:
    """The canary's events in the tier's long window: with none, a 100% outage reads 100% at once."""
    try:
        rows = prom.query(f'{c.slo_events(floor.tier)}{{{c.LABEL_SERVICE}="{slo.service}",{c.LABEL_SLO}="{slo.name}"}}')
    except (clients.Unreachable, clients.ApiError):
        return 0.0
    # Recorded rates are per second, averaged over the window.
    return sum(float(r["value"][1]) for r in rows) * Duration.parse(floor.tier).s


def stage_hops(seen: dict[str, float], t0: float, floor: DetectionFloor, model: Model) -> list[Hop]:
    t = model.stack.timing
    floors = {"errors": t.sdk_metric_interval.s + t.batch_timeout.s + t.evaluation_interval.s,
              "firing": floor.workbook_s + t.slo_long_interval.s + t.evaluation_interval.s,
              "alertmanager": HANDOFF_S, "receiver": t.group_wait.s + HANDOFF_S}
    hops, prev = [], t0
    for stage, title in STAGES:
        at = seen.get(stage)
        hops.append(Hop(stage, title, None if at is None or prev is None else max(0.0, at - prev), floors[stage]))
        prev = at
    return hops


def findings(seen: dict[str, float], am_alert: dict | None, slo: SLO) -> list[Finding]:
    sid = c.slo_id(slo.service, slo.name)
    if "errors" not in seen:
        return [Finding("SLO rules", "fail", f"{c.slo_errors('5m')} for {sid} never rose above 0",
                        "run `obs verify --only coverage` to see whether the SLI's metrics and rules have data")]
    if "firing" not in seen:
        return [Finding("SLO rules", "fail", f"the page tier of {sid} never fired", "check min_events and the tiers "
                        "with `obs test`; the outage may be too small to cross the burn-rate threshold")]
    if am_alert is None:
        return [Finding("Alertmanager", "fail", "Prometheus fired the page but Alertmanager never listed it",
                        "run `obs verify --only alert` for the alert path's diagnosis")]
    receivers = [r.get("name") for r in am_alert.get("receivers") or []]
    if c.PROBE_RECEIVER not in receivers:
        return [Finding("Alertmanager", "fail", f"Alertmanager routes the page to {', '.join(receivers)} but not to "
                        f"{c.PROBE_RECEIVER}, so the drill cannot see it arrive",
                        "run `obs generate` (the Alertmanager config copies pages to obs-verify) and `obs up`")]
    return [Finding("webhook sink", "fail", "Alertmanager holds the page for obs-verify but delivered nothing",
                    "run `obs verify --only alert` for the alert path's diagnosis")]


def default_budget(floor: DetectionFloor) -> float:
    return 1.5 * floor.total_s + 30


def run(ctx: Context, service: Service, slo: SLO, error_ratio: float) -> DrillResult:
    """Needs ctx.sink running. Pushes the outage until the page arrives or the deadline passes."""
    assert ctx.sink is not None
    floor = detection_floor(ctx.model, slo, error_ratio)
    assert floor is not None
    result = DrillResult(service.name, slo.name, error_ratio, floor)
    prom, am = ctx.prometheus(), ctx.alertmanager()
    result.history_events = history(prom, slo, floor)
    labels = page_labels(slo)
    sel = f'{{{c.LABEL_SERVICE}="{slo.service}",{c.LABEL_SLO}="{slo.name}"}}'
    outage = Outage(ctx, service, slo, error_ratio)
    every = ctx.model.stack.timing.sdk_metric_interval.s
    seen: dict[str, float] = {}
    am_alert = None
    ctx.progress("drill", f"outage of {service.name}: {error_ratio:.0%} of requests fail")
    t0 = time.monotonic()
    try:
        if not outage.push():
            last = outage.sender.session.last
            result.findings = [Finding("collector", "fail", "the collector did not accept the outage traffic ("
                                       + (last.describe() if last else "no answer") + ")", "run `obs verify`")]
            return result
        next_push = t0 + every
        while not ctx.deadline.passed:
            now = time.monotonic()
            if now >= next_push:
                outage.push()
                next_push = now + every
            if "errors" not in seen and _has(prom, f"{c.slo_errors('5m')}{sel} > 0"):
                seen["errors"] = time.monotonic()
            if "firing" not in seen and _firing(prom, labels):
                seen["firing"] = time.monotonic()
                ctx.progress("drill", "page firing in Prometheus; waiting for delivery")
            if "firing" in seen and am_alert is None:
                am_alert = _am(am, labels)
                if am_alert is not None:
                    seen["alertmanager"] = time.monotonic()
            got = ctx.sink.wait(labels_match(**labels), timeout=min(0.25, ctx.deadline.left, max(0.01, next_push - now)),
                                since=t0)
            if got is not None:
                seen["receiver"] = got.at
                result.tier = next((a["labels"].get(c.LABEL_TIER) for a in got.alerts
                                    if labels_match(**labels)(a)), None)
                break
    finally:
        outage.close()
    for i in range(len(STAGES) - 2, -1, -1):   # a later stage seen first bounds the earlier one
        later, earlier = STAGES[i + 1][0], STAGES[i][0]
        if later in seen:
            seen[earlier] = min(seen.get(earlier, seen[later]), seen[later])
    result.hops = stage_hops(seen, t0, floor, ctx.model)
    result.ok = "receiver" in seen
    result.seconds = (seen.get("receiver") or time.monotonic()) - t0
    if not result.ok:
        result.findings = findings(seen, am_alert or _am(am, labels), slo)
    return result


def _has(prom: clients.Prometheus, promql: str) -> bool:
    try:
        return bool(prom.query(promql))
    except (clients.Unreachable, clients.ApiError):
        return False


def _firing(prom: clients.Prometheus, labels: dict[str, str]) -> bool:
    try:
        return any(a.get("state") == "firing" and all(a["labels"].get(k) == v for k, v in labels.items())
                   for a in prom.alerts())
    except (clients.Unreachable, clients.ApiError):
        return False


def _am(am: clients.Alertmanager, labels: dict[str, str]) -> dict | None:
    try:
        found = am.alerts(**labels)
    except (clients.Unreachable, clients.ApiError):
        return None
    return found[0] if found else None
