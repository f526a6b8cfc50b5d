"""Alert probe: a probe alert fires in Prometheus, reaches Alertmanager, and is delivered to obs's webhook sink.

Contract (conventions): the gauge obs_verify_probe{probe_id} set to 1 makes the rule
ObsVerifyProbe fire with obs_probe="true" and the probe_id; Alertmanager routes
obs_probe="true" to the obs-verify webhook, grouped by probe_id with group_wait 0s
in the fast profile. Alertmanager's and Prometheus's timing traps are avoided here:
- resend delay: wait until Prometheus lists an active Alertmanager before pushing;
- group_interval: every probe has its own probe_id, so its own group;
- resolving inside group_wait: the gauge is re-sent until the sink has the alert.
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from obs.model import conventions as c
from obs.model.floors import HopFloor, HopId, floors
from obs.verify import clients, diagnose, poll
from obs.verify.context import Context, down_reason
from obs.verify.probes import metric
from obs.verify.probes.scrape import parse_time
from obs.verify.result import Finding, Hop, ProbeResult, Status
from obs.verify.selfmetrics import Snapshot
from obs.verify.sink import labels_match

NAME = "alert"
STAGES = (HopId.PROMETHEUS, HopId.RULE, HopId.ALERTMANAGER, HopId.WEBHOOK)


def _discovered(prom: clients.Prometheus) -> bool | None:
    try:
        return True if prom.alertmanagers() else None
    except (clients.Unreachable, clients.ApiError):
        return None


class Pusher(threading.Thread):
    """Keeps the probe series fresh until finished; a gauge that goes quiet could resolve inside group_wait."""

    def __init__(self, ctx: Context, gauge: metric.Gauge):
        super().__init__(name="obs-verify-alert-pusher", daemon=True)
        self.gauge, self.halt = gauge, threading.Event()
        self.every = min(5.0, max(0.2, ctx.model.stack.timing.evaluation_interval.s / 2))

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.gauge.push(1)

    def finish(self, exported: bool) -> None:
        """Stop, and let the probe alert resolve rather than linger in Alertmanager for Prometheus's 5m lookback."""
        self.halt.set()
        if self.is_alive():
            self.join()
        if exported:
            self.gauge.push(0)
        self.gauge.close()


def _monotonic(rfc3339: str) -> float | None:
    """A component's own timestamp on our monotonic clock: exact hop times, whatever the polling interval."""
    wall = parse_time(rfc3339 or "")
    return wall - (time.time() - time.monotonic()) if wall else None


def firing(prom: clients.Prometheus, probe_id: str) -> float | None:
    """When the probe alert became active, by Prometheus's clock, once it fires. Raises Unreachable."""
    for a in prom.alerts():
        if a.get("state") == "firing" and a["labels"].get(c.PROBE_ID_LABEL) == probe_id:
            return _monotonic(a.get("activeAt", "")) or time.monotonic()
    return None


def _in_alertmanager(am: clients.Alertmanager, probe_id: str) -> dict[str, Any] | None:
    try:
        found = am.alerts(**{c.PROBE_ID_LABEL: probe_id})
    except (clients.Unreachable, clients.ApiError):
        return None
    return found[0] if found else None


def run(ctx: Context) -> ProbeResult:
    probe_id = uuid.uuid4().hex
    prom, am = ctx.prometheus(), ctx.alertmanager()
    started = time.monotonic()
    discovered = _discovered(prom) is not None
    hop_floors = floors(ctx.model, alertmanager_discovered=discovered).alert
    by_id: dict[HopId, HopFloor] = {h.id: h for h in hop_floors}
    hops: list[Hop] = []
    if not discovered:
        ctx.progress(NAME, "waiting for Prometheus to discover Alertmanager")
        found = poll.until(lambda: _discovered(prom), ctx.deadline, cap=0.1, stop=ctx.stop)
        h = by_id[HopId.DISCOVERY]
        hops.append(Hop(h.id, h.title, time.monotonic() - started if found else None, h.floor))
    # Read in the background: Prometheus's own /metrics is large, and only a diagnosis needs it.
    before = ThreadPoolExecutor(1, thread_name_prefix="obs-verify-counters")
    counters = before.submit(_counters, ctx.prometheus(), ctx.alertmanager())
    before.shutdown(wait=False)
    seen: dict[HopId, float] = {}
    last_am: dict[str, Any] | None = None
    gauge = metric.Gauge(ctx, probe_id)
    pusher = Pusher(ctx, gauge)
    ctx.progress(NAME, f"firing probe alert {c.PROBE_ID_LABEL}={probe_id}")
    t_push = time.monotonic()
    exported = gauge.push(1)
    t0 = time.monotonic()
    export = by_id[HopId.EXPORT]
    hops.append(Hop(export.id, export.title, t0 - t_push if exported else None, export.floor))
    match = labels_match(**{c.PROBE_ID_LABEL: probe_id})
    if exported and ctx.sink is not None:
        pusher.start()
        delay, cap = 0.01, poll.cap_for(sum(h.floor for h in hop_floors))
        # A component that keeps refusing connections will not deliver within the budget: stop early.
        gone = {"Prometheus": poll.Outage(by_id[HopId.RULE].floor),
                "Alertmanager": poll.Outage(by_id[HopId.WEBHOOK].floor)}
        while not ctx.deadline.passed and not ctx.stop.is_set():
            try:
                if HopId.PROMETHEUS not in seen and metric.visible(prom, probe_id, above=0):
                    seen[HopId.PROMETHEUS] = time.monotonic()
                if HopId.PROMETHEUS in seen and HopId.RULE not in seen:
                    active = firing(prom, probe_id)
                    if active is not None:
                        seen[HopId.RULE] = active
                gone["Prometheus"].clear()
                if HopId.RULE in seen and last_am is None:
                    listed = am.alerts(**{c.PROBE_ID_LABEL: probe_id})
                    last_am = listed[0] if listed else None
                    gone["Alertmanager"].clear()
            except clients.Unreachable as e:
                if gone.get(e.component, gone["Prometheus"]).too_long():
                    break
            except clients.ApiError:
                pass
            delivery = ctx.sink.wait(match, timeout=min(delay, ctx.deadline.left), since=t_push)
            if delivery is not None:
                seen[HopId.WEBHOOK] = delivery.at
                last_am = last_am or _in_alertmanager(am, probe_id)
                break
            delay = min(cap, delay * 1.5)
        if last_am is not None:
            # When Alertmanager last took the alert in, by its clock (Prometheus re-sends it every resend delay).
            seen[HopId.ALERTMANAGER] = _monotonic(last_am.get("updatedAt", "")) or time.monotonic()

    def resolve() -> None:
        pusher.finish(exported)

    # A later stage seen first means the earlier one happened between two polls: it ends no later.
    # Timestamps from the components' clocks are kept within the order the pipeline imposes.
    for i in range(len(STAGES) - 2, -1, -1):
        if STAGES[i + 1] in seen:
            seen[STAGES[i]] = min(seen.get(STAGES[i], seen[STAGES[i + 1]]), seen[STAGES[i + 1]])
    prev: float | None = t0
    for stage in STAGES:
        h = by_id[stage]
        at = seen.get(stage)
        hops.append(Hop(h.id, h.title, None if at is None or prev is None else max(0.0, at - prev), h.floor))
        prev = at
    ok = HopId.WEBHOOK in seen
    waited = hops[0].seconds or 0.0 if hops[0].id == HopId.DISCOVERY else 0.0
    result = ProbeResult(NAME, ok, "", seconds=waited + (seen.get(HopId.WEBHOOK) or time.monotonic()) - t_push,
                         floor=sum(h.floor for h in hop_floors), hops=hops, probe_id=probe_id)
    if ok:
        result.summary = f"probe alert {probe_id} delivered to the webhook sink {result.seconds:.3f}s after the push"
        ctx.meanwhile(resolve)   # the run waits for it, but coverage need not
        return result
    prom_before, am_before = counters.result()
    result.findings = _diagnose(ctx, gauge, exported, probe_id, seen, last_am, prom_before, am_before)
    resolve()   # after the diagnosis, which reads what the collector last answered this gauge
    result.summary = f"the probe alert was not delivered: {result.findings[0].why}"
    return result


def _counters(prom: clients.Prometheus, am: clients.Alertmanager) -> tuple[Snapshot, Snapshot]:
    out: list[Snapshot] = []
    for client in (prom, am):
        try:
            out.append(client.self_metrics())
        except clients.Unreachable:
            out.append({})
    return out[0], out[1]


def _name(metric: str) -> str:
    """clients.parse_metrics drops `_total`."""
    return metric.removesuffix("_total")


def _sum(snapshot: Snapshot, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in snapshot.items()
               if n == name and all(dict(ls).get(k, want) == want for k, want in labels.items()))


def _diagnose(ctx: Context, gauge: metric.Gauge, exported: bool, probe_id: str, seen: dict[HopId, float],
              last_am: dict[str, Any] | None, prom_before: Snapshot, am_before: Snapshot) -> list[Finding]:
    if ctx.sink is None:
        return [Finding(diagnose.SINK, Status.FAIL, "the webhook sink is not running", "see the error above")]
    if HopId.PROMETHEUS not in seen:
        return diagnose.metric(metric.evidence(ctx, gauge, exported))
    prom, am = ctx.prometheus(), ctx.alertmanager()
    ev = diagnose.AlertEvidence(probe_id, ctx.ep.alertmanager, ctx.ep.sink_url, ctx.model.stack.timing.group_wait.s,
                                firing=HopId.RULE in seen, am_alert=last_am or _in_alertmanager(am, probe_id))
    try:
        ev.rule = next((r for g in prom.rule_groups() for r in g.get("rules", []) if r.get("name") == c.PROBE_ALERT),
                       None)
        ev.alertmanagers = prom.alertmanagers()
    except (clients.Unreachable, clients.ApiError):
        pass
    ev.alertmanager_down = down_reason(am, "/-/ready")
    prom_after, am_after = _counters(prom, am)
    ev.prometheus_send_errors = (_sum(prom_after, _name(c.PROMETHEUS_NOTIFICATIONS_ERRORS))
                                 - _sum(prom_before, _name(c.PROMETHEUS_NOTIFICATIONS_ERRORS)))
    ev.prometheus_dropped = (_sum(prom_after, _name(c.PROMETHEUS_NOTIFICATIONS_DROPPED))
                             - _sum(prom_before, _name(c.PROMETHEUS_NOTIFICATIONS_DROPPED)))
    if am_after:
        ev.webhook_failed = (_sum(am_after, _name(c.ALERTMANAGER_NOTIFICATIONS_FAILED), integration="webhook",
                                  receiver_name=c.PROBE_RECEIVER)
                             - _sum(am_before, _name(c.ALERTMANAGER_NOTIFICATIONS_FAILED), integration="webhook",
                                    receiver_name=c.PROBE_RECEIVER))
    return diagnose.alert(ev)
