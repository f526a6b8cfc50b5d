"""Checks for a deployed environment (`obs verify --env NAME`), where verify may read and send probes only.

- alert: the probe alert fires in Prometheus and reaches Alertmanager, which routes it to a receiver that
  pages nobody (the generated config sends `obs_probe="true"` to obs-null); a paging receiver fails it.
- alertmanager: the cluster is ready and its peers are listed.
- watchdog: the always-firing Watchdog fires in Prometheus and Alertmanager routes it to the heartbeat.
- drift: the running rules, Alertmanager configuration and scrape jobs against the repository's.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from obs.generate import render
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.floors import HopId, floors
from obs.verify import clients, drift, poll
from obs.verify.context import Context
from obs.verify.probes import metric
from obs.verify.probes.alert import Pusher, firing
from obs.verify.result import Finding, Hop, ProbeResult, Status

NON_PAGING = frozenset({c.NULL_RECEIVER, c.PROBE_RECEIVER})


def _receivers(alert: dict[str, Any], model: Model) -> list[str]:
    """The receivers an alert went to, as the spec names them: the Prometheus Operator prefixes those of an
    AlertmanagerConfig with `<namespace>/<name>/`, which a spec's receiver name (no `/`) never holds."""
    k = model.kubernetes
    ours = c.kube_am_receiver(k.namespace, k.name_prefix + model.project, "")
    return sorted(str(r.get("name")).removeprefix(ours) for r in alert.get("receivers") or [])


def alert(ctx: Context) -> ProbeResult:
    probe_id = uuid.uuid4().hex
    prom, am = ctx.prometheus(), ctx.alertmanager()
    by_id = {h.id: h for h in floors(ctx.model).alert}
    gauge = metric.Gauge(ctx, probe_id)
    pusher = Pusher(ctx, gauge)
    ctx.progress("alert", f"firing probe alert {c.PROBE_ID_LABEL}={probe_id} (routed to a receiver that pages nobody)")
    t_push = time.monotonic()
    exported = gauge.push(1)
    t_exported = time.monotonic()
    seen: dict[HopId, float] = {}
    routed: dict[str, Any] | None = None
    if exported:
        pusher.start()

        def step() -> bool | None:
            nonlocal routed
            try:
                if HopId.PROMETHEUS not in seen and metric.visible(prom, probe_id, above=0):
                    seen[HopId.PROMETHEUS] = time.monotonic()
                if HopId.PROMETHEUS in seen and HopId.RULE not in seen and firing(prom, probe_id) is not None:
                    seen[HopId.RULE] = time.monotonic()
                if HopId.RULE in seen:
                    listed = am.alerts(**{c.PROBE_ID_LABEL: probe_id})
                    if listed and listed[0].get("receivers"):
                        routed = listed[0]
                        seen[HopId.ALERTMANAGER] = time.monotonic()
                        return True
            except (clients.Unreachable, clients.ApiError):
                pass
            return None

        poll.until(step, ctx.deadline, cap=1.0, stop=ctx.stop)
    pusher.finish(exported)
    hops: list[Hop] = []
    prev: float | None = t_push
    for stage in (HopId.EXPORT, HopId.PROMETHEUS, HopId.RULE, HopId.ALERTMANAGER):
        h = by_id[stage]
        at = (t_exported if exported else None) if stage == HopId.EXPORT else seen.get(stage)
        hops.append(Hop(h.id, h.title, None if at is None or prev is None else max(0.0, at - prev), h.floor))
        prev = at
    result = ProbeResult("alert", False, "", seconds=time.monotonic() - t_push, floor=sum(h.floor for h in hops),
                         hops=hops, probe_id=probe_id)
    if not exported:
        last = gauge.sender.session.last
        result.summary = f"the collector did not accept the probe metric{f': {last.describe()}' if last else ''}"
        result.findings = [Finding("export", Status.FAIL, result.summary,
                                   "check the otlp_http endpoint, its TLS and its credentials")]
        return result
    if routed is None:
        stopped = next(s for s in (HopId.PROMETHEUS, HopId.RULE, HopId.ALERTMANAGER) if s not in seen)
        why = {HopId.PROMETHEUS: "the probe metric never reached Prometheus",
               HopId.RULE: f"the rule {c.PROBE_ALERT} never fired (are the rule files of obs-pipeline deployed?)",
               HopId.ALERTMANAGER: "Alertmanager never listed the probe alert (is it Prometheus's Alertmanager?)"}
        result.summary = f"the probe alert did not get through: {why[stopped]}"
        result.findings = [Finding(stopped.value, Status.FAIL, why[stopped])]
        return result
    names = _receivers(routed, ctx.model)
    paging = [n for n in names if n not in NON_PAGING]
    result.ok = not paging
    result.seconds = seen[HopId.ALERTMANAGER] - t_push
    if paging:
        result.summary = f"the probe alert was routed to {', '.join(paging)}, which pages people"
        result.findings = [Finding("alertmanager", Status.FAIL, result.summary,
                                   f"deploy {c.ALERTMANAGER_CONFIG}: its first route sends obs_probe=\"true\" to "
                                   f"{c.NULL_RECEIVER}")]
    else:
        result.summary = (f"probe alert {probe_id} fired and Alertmanager routed it to {', '.join(names)} "
                          f"{result.seconds:.3f}s after the push; nobody was paged")
    return result


def alertmanager(ctx: Context) -> ProbeResult:
    started = time.monotonic()
    status = ctx.alertmanager().status()
    cluster = status.get("cluster") or {}
    state = str(cluster.get("status") or "unknown")
    peers = [str(p.get("address") or p.get("name")) for p in cluster.get("peers") or []]
    version = str((status.get("versionInfo") or {}).get("version") or "?")
    result = ProbeResult("alertmanager", state in ("ready", "disabled"), "", seconds=time.monotonic() - started)
    if state == "ready":
        result.summary = f"Alertmanager {version}: cluster ready, {len(peers)} peer(s): {', '.join(peers)}"
        if len(peers) < 2:
            result.findings.append(Finding("alertmanager", Status.WARN, "a cluster of one: no other Alertmanager "
                                           "would notify if this one stopped", "run two or three replicas"))
    elif state == "disabled":
        result.summary = f"Alertmanager {version} runs alone (clustering disabled)"
        result.findings.append(Finding("alertmanager", Status.WARN, "clustering is disabled: a single Alertmanager "
                                       "is a single point of failure for every page", "run two or three replicas "
                                       "with --cluster.peer"))
    else:
        result.summary = f"the Alertmanager cluster is {state}"
        result.findings.append(Finding("alertmanager", Status.FAIL, f"cluster status {state!r}, peers: "
                                       f"{', '.join(peers) or 'none'}", "check --cluster.peer and the peers' logs"))
    return result


def watchdog(ctx: Context) -> ProbeResult:
    started = time.monotonic()
    want = c.HEARTBEAT_RECEIVER if ctx.model.heartbeat is not None else None
    prom, am = ctx.prometheus(), ctx.alertmanager()
    firing = False
    listed: list[dict[str, Any]] = []

    def look() -> bool | None:
        # A stack that has just started fires the Watchdog within an evaluation and sends it within a resend
        # delay: wait for both within the budget rather than read once.
        nonlocal firing, listed
        firing = any(a.get("labels", {}).get("alertname") == c.WATCHDOG_ALERT and a.get("state") == "firing"
                     for a in prom.alerts())
        listed = am.alerts(alertname=c.WATCHDOG_ALERT) if firing else []
        routed = {n for a in listed for n in _receivers(a, ctx.model)}
        return True if firing and listed and (want is None or want in routed) else None

    poll.until(look, ctx.deadline, cap=1.0, stop=ctx.stop)
    result = ProbeResult("watchdog", False, "", seconds=time.monotonic() - started)
    if not firing:
        result.summary = f"{c.WATCHDOG_ALERT} is not firing in Prometheus"
        result.findings = [Finding("rule", Status.FAIL, result.summary, f"deploy {c.PIPELINE_RULES_FILE}")]
        return result
    names = sorted({n for a in listed for n in _receivers(a, ctx.model)})
    if not listed:
        result.summary = f"{c.WATCHDOG_ALERT} fires in Prometheus but Alertmanager does not have it"
        result.findings = [Finding("alertmanager", Status.FAIL, result.summary,
                                   "check Prometheus's alerting.alertmanagers against this Alertmanager")]
    elif want is not None and want not in names:
        result.summary = f"{c.WATCHDOG_ALERT} reaches {', '.join(names) or 'no receiver'}, not {want}"
        result.findings = [Finding("alertmanager", Status.FAIL, result.summary, f"deploy {c.ALERTMANAGER_CONFIG}")]
    else:
        result.ok = True
        result.summary = f"{c.WATCHDOG_ALERT} fires and Alertmanager routes it to {', '.join(names)}"
    return result


def drift_check(ctx: Context) -> ProbeResult:
    started = time.monotonic()
    ctx.progress("drift", "comparing the running rules and configuration with the repository's")
    env = ctx.model.environment(ctx.ep.env)
    kubernetes = ctx.model.kubernetes if env is not None and env.kubernetes else None
    findings = drift.check(drift.generated(render(ctx.model), kubernetes), ctx.prometheus(), ctx.alertmanager())
    failed = [f for f in findings if f.status == Status.FAIL]
    result = ProbeResult("drift", not failed, "", seconds=time.monotonic() - started, findings=findings)
    result.summary = (f"{len(failed)} difference(s) between what runs and what the repository generates"
                      if failed else "what runs is what the repository generates (rules, Alertmanager, scrape jobs)")
    return result


# One per name in obs.verify.DEPLOYED_CHECKS, the alert probe (the slowest) first.
RUNNERS = {"alert": alert, "alertmanager": alertmanager, "watchdog": watchdog, "drift": drift_check}
