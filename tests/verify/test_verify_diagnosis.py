"""Hop diagnosis from evidence captured off real components: each fault is named at the hop where data stopped.

The collector texts under tests/fixtures/verify were read from a running otelcol v0.165.0 of an
obs fast-profile stack, before and after one trace and one metric probe, with the fault in place.
"""
from __future__ import annotations

import pytest

from obs.model import conventions as c
from obs.verify import diagnose
from obs.verify.clients import parse_metrics
from obs.verify.otlp import Attempt
from obs.verify.selfmetrics import flow
from tests.support import paths

FIXTURES = paths.FIXTURES / "verify"
OTLP, JAEGER, PROM = "http://127.0.0.1:4318", "http://127.0.0.1:16686", "http://127.0.0.1:9090"


def captured(case: str, signal: str):
    before, after = (parse_metrics((FIXTURES / f"{case}.{when}.txt").read_text()) for when in ("before", "after"))
    return flow(signal, before, after)


def test_a_healthy_collector_shows_the_probe_accepted_and_sent_on():
    spans, points = captured("healthy", "traces"), captured("healthy", "metrics")
    assert spans.accepted >= 1 and spans.refused == 0 and sum(spans.sent.values()) >= 1
    assert points.accepted >= 1 and not any(points.stuck(e) for e in points.exporters())


@pytest.mark.parametrize("case, signal, evidence, hop, says", [
    ("collector-refusing", "traces",
     dict(exported=False, attempt=Attempt(503, "data refused due to high memory usage"), memory_limit_mib=256),
     diagnose.COLLECTOR, "memory_limiter"),
    ("collector-refusing", "metrics",
     dict(exported=False, attempt=Attempt(503, "data refused due to high memory usage")),
     diagnose.COLLECTOR, "refused"),
    ("jaeger-down", "traces", dict(exported=True, backend_down="connection refused"),
     diagnose.JAEGER, "waiting for retry"),
    ("jaeger-down", "traces", dict(exported=True),   # query API answers, the OTLP port does not
     diagnose.JAEGER, "its OTLP receiver refuses"),
    ("prometheus-rejects-otlp", "metrics", dict(exported=True, otlp_receiver_enabled=False),
     diagnose.PROMETHEUS, "--web.enable-otlp-receiver"),
    ("prometheus-rejects-otlp", "metrics", dict(exported=True, backend_down="connection refused"),
     diagnose.PROMETHEUS, "does not answer"),
    ("healthy", "traces", dict(exported=False, attempt=Attempt(None, "connection refused"), collector_healthy=False),
     diagnose.COLLECTOR, "health check is down"),
    ("healthy", "metrics", dict(exported=False, attempt=Attempt(401, "missing bearer token")),
     diagnose.COLLECTOR, "credentials"),
])
def test_a_lost_probe_is_traced_to_the_hop_that_dropped_it(case, signal, evidence, hop, says):
    ev = diagnose.Evidence(signal, OTLP, JAEGER if signal == "traces" else PROM, flow=captured(case, signal),
                           **evidence)
    finding = (diagnose.trace if signal == "traces" else diagnose.metric)(ev)[0]
    assert (finding.hop, finding.status) == (hop, "fail")
    assert says in finding.why and finding.fix


def test_a_collector_that_accepted_the_span_but_exported_nothing_is_named_not_jaeger():
    f = captured("healthy", "traces")
    f.sent.clear()
    finding = diagnose.trace(diagnose.Evidence("traces", OTLP, JAEGER, exported=True, flow=f))[0]
    assert finding.hop == diagnose.COLLECTOR and "pipelines.traces" in finding.fix


RULE_OK = {"name": c.PROBE_ALERT, "health": "ok"}
ROUTED = {"receivers": [{"name": c.PROBE_RECEIVER}], "status": {"state": "active"}}


@pytest.mark.parametrize("evidence, hop, says", [
    (dict(rule=None), diagnose.RULES, "not loaded"),
    (dict(rule={"name": c.PROBE_ALERT, "health": "err", "lastError": "many-to-many matching"}), diagnose.RULES,
     "many-to-many"),
    (dict(rule=RULE_OK, firing=False), diagnose.RULES, "never fired"),
    (dict(rule=RULE_OK, firing=True, alertmanager_down="connection refused", alertmanagers=["x"]),
     diagnose.ALERTMANAGER, "does not answer"),
    (dict(rule=RULE_OK, firing=True, alertmanagers=[]), diagnose.PROMETHEUS, "resend-delay"),
    (dict(rule=RULE_OK, firing=True, alertmanagers=["x"], prometheus_send_errors=3), diagnose.ALERTMANAGER,
     "3 send errors"),
    (dict(rule=RULE_OK, firing=True, alertmanagers=["x"], am_alert={"receivers": [{"name": "pagerduty"}]}),
     diagnose.ALERTMANAGER, "not to obs-verify"),
    (dict(rule=RULE_OK, firing=True, alertmanagers=["x"],
          am_alert={**ROUTED, "status": {"state": "suppressed"}}), diagnose.ALERTMANAGER, "silence"),
    (dict(rule=RULE_OK, firing=True, alertmanagers=["x"], am_alert=ROUTED, webhook_failed=2), diagnose.SINK,
     "cannot reach"),
    (dict(rule=RULE_OK, firing=True, alertmanagers=["x"], am_alert=ROUTED), diagnose.ALERTMANAGER, "group_interval"),
])
def test_an_undelivered_probe_alert_is_traced_to_the_hop_that_held_it(evidence, hop, says):
    ev = diagnose.AlertEvidence("p-1", "http://127.0.0.1:9093", "http://127.0.0.1:9097", 0.0, **evidence)
    finding = diagnose.alert(ev)[0]
    assert finding.hop == hop and says in finding.why
