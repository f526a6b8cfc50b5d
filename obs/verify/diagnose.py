"""Hop diagnosis: from the evidence a failed probe leaves behind, name where the data stopped, why, and the fix.

Pure: the probes gather evidence (collector self-metric deltas, what the collector
answered the exporter, Prometheus's targets and rules, Alertmanager's alerts and
notification counters); these functions only read it, so they are tested from
captured texts without a stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from obs.model import conventions as c
from obs.verify.otlp import Attempt
from obs.verify.result import Finding, Status
from obs.verify.selfmetrics import ITEMS, Flow

COLLECTOR = "collector"
JAEGER = "Jaeger (trace backend)"
PROMETHEUS = "Prometheus"
RULES = "Prometheus rules"
ALERTMANAGER = "Alertmanager"
SINK = "webhook sink"

UP_FIX = "run `obs up` (it restarts whatever is down), then `obs logs {name}` to see why it stopped"


@dataclass
class Evidence:
    """What a trace or metric probe saw. `reachable` maps a component to None (answers) or why it does not."""

    signal: str                              # traces | metrics
    otlp_url: str
    backend_url: str
    exported: bool
    attempt: Attempt | None = None
    collector_healthy: bool = True
    flow: Flow | None = None                 # None: the collector's self-metrics could not be read
    backend_down: str | None = None          # why the backend's API does not answer, if it does not
    memory_limit_mib: int | None = None
    # A deployed environment's OTLP endpoint as the spec names it (environments.NAME.otlp_http); None locally.
    # Its credentials come from there, and `obs up` or `obs logs` do not reach its collector.
    otlp_setting: str | None = None
    # metrics only
    push: bool = True
    otlp_receiver_enabled: bool | None = None
    found_as: str | None = None              # the probe series turned up under another metric name
    scrape_error: str | None = None          # pull: the collector target's lastError


def collector(ev: Evidence) -> Finding | None:
    """The collector refused or never answered: nothing past it can have the data."""
    items = ITEMS[ev.signal].replace("_", " ")
    a = ev.attempt
    refused = ev.flow.refused if ev.flow is not None and ev.flow.refused > 0 else 0.0   # items the collector refused
    if ev.exported and not refused:
        return None
    if a is not None and a.status is None:
        why = f"the collector does not answer OTLP at {ev.otlp_url} ({a.detail})"
        if not ev.collector_healthy:
            why += " and its health check is down"
        return Finding(COLLECTOR, Status.FAIL, why, UP_FIX.format(name="otelcol") if ev.otlp_setting is None else
                       f"check that the collector runs there and that {ev.otlp_setting} is its OTLP/HTTP address")
    if refused or (a is not None and a.status in (429, 503)):
        n = f"{refused:g} {items}" if refused else "the probe"
        limit = f" of {ev.memory_limit_mib} MiB" if ev.memory_limit_mib else ""
        why = f"the collector refused {n}" + (f" ({a.describe()})" if a is not None and a.status else "")
        return Finding(COLLECTOR, Status.FAIL, why + f": its memory_limiter is over its limit{limit} and sheds load",
                       "reduce the load or give the collector more memory; a backend that is down makes the "
                       "exporter queues, and so memory, grow: fix that first. `obs logs otelcol` shows the limiter")
    if a is not None and a.status in (401, 403):
        return Finding(COLLECTOR, Status.FAIL, f"the collector rejected the probe's credentials ({a.describe()})",
                       "check stack.receivers.bearer_token: verify reads the same secret the collector does"
                       if ev.otlp_setting is None else
                       f"check the auth of {ev.otlp_setting} (or the environment's) and the secret it names: it "
                       "must be a credential the deployed collector accepts")
    return Finding(COLLECTOR, Status.FAIL,
                   f"the OTLP export to {ev.otlp_url} failed ({a.describe() if a else 'no answer'})",
                   "see `obs logs otelcol`" if ev.otlp_setting is None else "see the deployed collector's logs")


def _backend_exporters(flow: Flow, hint: str) -> list[str]:
    named = [e for e in flow.exporters() if hint in e]
    return named or flow.exporters()


def _stuck(flow: Flow | None, hint: str, items: str) -> str | None:
    if flow is None:
        return None
    for e in _backend_exporters(flow, hint):
        if flow.stuck(e):
            parts = [f"{v:g} {k}" for k, v in (("failed", flow.send_failed.get(e, 0)),
                                                ("dropped (queue full)", flow.enqueue_failed.get(e, 0)),
                                                ("waiting for retry", flow.queued.get(e, 0))) if v]
            return f"the collector's exporter {e} delivered no {items}: " + ", ".join(parts)
    return None


def _sent(flow: Flow | None, hint: str) -> float:
    return 0.0 if flow is None else sum(flow.sent.get(e, 0) for e in _backend_exporters(flow, hint))


def trace(ev: Evidence) -> list[Finding]:
    first = collector(ev)
    if first is not None:
        return [first]
    stuck = _stuck(ev.flow, "jaeger", "spans")
    if ev.backend_down is not None:
        why = f"Jaeger's query API at {ev.backend_url} does not answer ({ev.backend_down})"
        return [Finding(JAEGER, Status.FAIL, why + (f"; {stuck}" if stuck else ""), UP_FIX.format(name="jaeger"))]
    if stuck:
        return [Finding(JAEGER, Status.FAIL,
                        stuck + ", while Jaeger's query API answers: its OTLP receiver refuses them",
                        "compare the collector's Jaeger exporter endpoint with stack.ports.jaeger_otlp_grpc; "
                        "`obs logs jaeger`")]
    if ev.flow is not None and ev.flow.accepted > 0 and _sent(ev.flow, "jaeger") == 0:
        return [Finding(COLLECTOR, Status.FAIL, "the collector accepted the span but exported none to Jaeger",
                        "check service.pipelines.traces in deploy/otelcol/config.yaml; run `obs generate`")]
    return [Finding(JAEGER, Status.FAIL, "the collector delivered the span to Jaeger, but Jaeger did not return the "
                    "trace by ID within the budget", "see `obs logs jaeger`; raise stack.verify_budget if it is busy")]


def metric(ev: Evidence) -> list[Finding]:
    first = collector(ev)
    if first is not None:
        return [first]
    if ev.backend_down is not None:
        return [Finding(PROMETHEUS, Status.FAIL, f"Prometheus at {ev.backend_url} does not answer ({ev.backend_down})",
                        UP_FIX.format(name="prometheus"))]
    stuck = _stuck(ev.flow, "prometheus", "metric points")
    if ev.push and ev.otlp_receiver_enabled is False:
        why = ("Prometheus rejects OTLP: /api/v1/otlp/v1/metrics answers 404, so it runs without "
               "--web.enable-otlp-receiver") + (f"; {stuck}" if stuck else "")
        return [Finding(PROMETHEUS, Status.FAIL, why, "restart Prometheus with --web.enable-otlp-receiver: `obs up` "
                        "starts it so (stop a Prometheus obs did not start first)")]
    if ev.found_as:
        return [Finding(PROMETHEUS, Status.FAIL, f"the probe arrived as `{ev.found_as}`, not `{c.PROBE_METRIC}`: "
                        "Prometheus translates OTLP metric names differently from what the rules expect",
                        "set otlp.translation_strategy: UnderscoreEscapingWithSuffixes in prometheus.yml "
                        "(obs generate does)")]
    if not ev.push and ev.scrape_error:
        return [Finding(PROMETHEUS, Status.FAIL, f"Prometheus cannot scrape the collector's Prometheus exporter: "
                        f"{ev.scrape_error}", "check stack.ports.collector_prometheus and `obs logs otelcol`")]
    if stuck:
        return [Finding(PROMETHEUS, Status.FAIL, stuck, "`obs logs otelcol` shows the exporter's errors; "
                        "`obs logs prometheus` shows why it refused them")]
    if ev.flow is not None and ev.flow.accepted > 0 and _sent(ev.flow, "prometheus") == 0:
        return [Finding(COLLECTOR, Status.FAIL, "the collector accepted the probe but exported no metric points",
                        "check service.pipelines.metrics in deploy/otelcol/config.yaml; run `obs generate`")]
    return [Finding(PROMETHEUS, Status.FAIL, "the collector delivered the probe, but Prometheus did not return "
                    f"{c.PROBE_METRIC}{{{c.PROBE_ID_LABEL}=...}} within the budget",
                    "see `obs logs prometheus` (out-of-order or too-old samples are dropped there)")]


@dataclass
class AlertEvidence:
    probe_id: str
    alertmanager_url: str
    sink_url: str
    group_wait_s: float
    rule: dict[str, Any] | None = None       # the probe rule as /api/v1/rules lists it
    firing: bool = False                     # Prometheus lists the probe alert as firing
    alertmanagers: list[str] = field(default_factory=list)
    alertmanager_down: str | None = None
    am_alert: dict[str, Any] | None = None   # the probe alert as Alertmanager lists it
    prometheus_send_errors: float = 0.0      # delta of prometheus_notifications_errors_total
    prometheus_dropped: float = 0.0          # delta of prometheus_notifications_dropped_total
    webhook_failed: float = 0.0              # delta of alertmanager_notifications_failed_total (webhook)


def alert(ev: AlertEvidence) -> list[Finding]:
    """Called once the probe sample is visible in Prometheus: where between rule and sink did it stop?"""
    if ev.rule is None:
        return [Finding(RULES, Status.FAIL, f"the probe rule {c.PROBE_ALERT} is not loaded in Prometheus",
                        f"run `obs generate`; prometheus.yml must load {c.PIPELINE_RULES_FILE}; then `obs up`")]
    if ev.rule.get("health") not in (None, "ok", "unknown"):
        return [Finding(RULES, Status.FAIL, f"the probe rule {c.PROBE_ALERT} fails to evaluate: "
                        f"{ev.rule.get('lastError') or ev.rule.get('health')}", "run `obs test` and `obs generate`")]
    if not ev.firing and ev.am_alert is None:
        return [Finding(RULES, Status.FAIL, f"{c.PROBE_ALERT} is loaded but never fired for {c.PROBE_ID_LABEL}="
                        f"{ev.probe_id}", f"its expression must fire on {c.PROBE_METRIC} > 0; run `obs generate`")]
    if ev.alertmanager_down is not None:
        return [Finding(ALERTMANAGER, Status.FAIL, f"Alertmanager at {ev.alertmanager_url} does not answer "
                        f"({ev.alertmanager_down}); Prometheus fired the probe alert but cannot deliver it",
                        UP_FIX.format(name="alertmanager"))]
    if not ev.alertmanagers:
        return [Finding(PROMETHEUS, Status.FAIL, "Prometheus has discovered no Alertmanager, so it drops firing alerts "
                        "and sends them again only after --rules.alert.resend-delay",
                        "check alerting.alertmanagers in deploy/prometheus/prometheus.yml")]
    if ev.am_alert is None:
        why = "Prometheus fired the probe alert but Alertmanager never listed it"
        if ev.prometheus_send_errors or ev.prometheus_dropped:
            why += (f" (Prometheus: {ev.prometheus_send_errors:g} send errors, "
                    f"{ev.prometheus_dropped:g} alerts dropped)")
        return [Finding(ALERTMANAGER, Status.FAIL, why, "see `obs logs prometheus` for notifier errors")]
    receivers = [r.get("name", r) if isinstance(r, dict) else r for r in ev.am_alert.get("receivers") or []]
    if c.PROBE_RECEIVER not in receivers:
        routed = ", ".join(receivers) or "nobody"
        return [Finding(ALERTMANAGER, Status.FAIL, f"Alertmanager routes the probe alert to {routed}, not to "
                        f"{c.PROBE_RECEIVER}", f"the first route must send {c.PROBE_LABEL}=\"true\" to "
                        f"{c.PROBE_RECEIVER}; run `obs generate` and restart Alertmanager")]
    state = (ev.am_alert.get("status") or {}).get("state")
    if state == "suppressed":
        return [Finding(ALERTMANAGER, Status.FAIL, "Alertmanager holds the probe alert but a silence or inhibition "
                        "suppresses it", "`amtool silence query` lists silences; check inhibit_rules")]
    if ev.webhook_failed:
        return [Finding(SINK, Status.FAIL, f"Alertmanager failed {ev.webhook_failed:g} webhook notification(s) to "
                        f"{c.PROBE_RECEIVER}; it cannot reach {ev.sink_url}{c.VERIFY_SINK_PATH}",
                        f"the {c.PROBE_RECEIVER} receiver's url must use stack.ports.verify_sink; "
                        "`obs logs alertmanager`")]
    return [Finding(ALERTMANAGER, Status.FAIL, f"Alertmanager holds the probe alert for {c.PROBE_RECEIVER} but sent "
                    f"nothing within the budget (group_wait {ev.group_wait_s:g}s); an alert joining an existing "
                    "group waits a whole group_interval", f"the probe route must group by {c.PROBE_ID_LABEL}; "
                    "run `obs generate` and restart Alertmanager")]
