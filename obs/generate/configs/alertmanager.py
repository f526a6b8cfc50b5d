"""Alertmanager: the spec's route tree, inhibitions between severities and tiers, and file-backed receivers.

Secrets are always `*_file` fields. Alertmanager opens receiver secret files
relative to its working directory (it only rebases http_config and templates on
the config's directory), and every runtime starts it in the output directory, so
`.obs/secrets/<ENV>` means the same file natively and under compose.

Two files: `alertmanager.yml` for production (vendors' real URLs, nothing local) and the local
overlay `deploy/local/alertmanager.yml` that `obs up` runs: every notification goes to obs's contract
receivers, and the verifier's probe alerts, grouped by their unique probe id so a probe never joins an
existing group and waits `group_interval`, go to its webhook sink.
"""
from __future__ import annotations

from typing import Any

from obs.generate.common import Inputs, yaml
from obs.generate.configs.otelcol import secret_path
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model, Receiver
from obs.model.kinds import ReceiverKind
from obs.model.timing import PROBE_GROUP_INTERVAL, PROBE_GROUP_WAIT

GROUP_BY = list(c.GROUP_BY)


def matcher(label: str, value: str, op: str = "=") -> str:
    """An Alertmanager route or inhibit matcher: Alertmanager's own syntax, not PromQL, so it keeps its own
    escaping (backslash and double quote) rather than promql.quote's."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{label}{op}"{escaped}"'


# Alertmanager's PagerDuty integration sends the alert's `severity` label as payload.severity unless told
# otherwise; PagerDuty accepts only critical/error/warning/info and answers 400 to obs's page/ticket.
PAGERDUTY_SEVERITY = ('{{ if eq .CommonLabels.severity "page" }}critical{{ else if eq .CommonLabels.severity '
                      '"ticket" }}warning{{ else }}error{{ end }}')


def _receiver(r: Receiver) -> dict[str, Any]:
    if r.kind == ReceiverKind.PAGERDUTY:
        assert r.secret is not None   # the spec requires a routing key
        # class and group let a responder (and `obs drill`) tell pages apart without parsing text.
        return {"name": r.name, "pagerduty_configs": [{
            "routing_key_file": secret_path(r.secret), "send_resolved": True, "severity": PAGERDUTY_SEVERITY,
            "class": "{{ .CommonLabels.alertname }}", "group": f"{{{{ .CommonLabels.{c.LABEL_SERVICE} }}}}",
            "component": f"{{{{ .CommonLabels.{c.LABEL_COMPONENT} }}}}"}]}
    if r.kind == ReceiverKind.SLACK:
        assert r.secret is not None   # the spec requires an api_url
        return {"name": r.name, "slack_configs": [{"api_url_file": secret_path(r.secret), "channel": r.channel,
                                                   "send_resolved": True}]}
    if r.kind == ReceiverKind.WEBHOOK:
        target = {"url_file": secret_path(r.secret)} if r.secret is not None else {"url": r.url}
        return {"name": r.name, "webhook_configs": [{**target, "send_resolved": True}]}
    if r.kind == ReceiverKind.EMAIL:
        cfg: dict[str, Any] = {"to": r.email_to, "from": r.email_from, "smarthost": r.smarthost, "send_resolved": True}
        if r.auth_username:
            cfg["auth_username"] = r.auth_username
        if r.secret is not None:
            cfg["auth_password_file"] = secret_path(r.secret)
        return {"name": r.name, "email_configs": [cfg]}
    raise AssertionError(f"unknown receiver kind {r.kind!r}")


def probe_url(model: Model, net: network.Net) -> str:
    return f"http://{network.host_port(net.outside, model.stack.ports['verify_sink'])}{c.VERIFY_SINK_PATH}"


def receivers_url(model: Model, net: network.Net, path: str) -> str:
    return f"http://{network.host_port(net.outside, model.stack.ports['local_receivers'])}{path}"


def _routes(model: Model) -> list[dict[str, Any]]:
    t = model.stack.timing
    heartbeat = c.HEARTBEAT_RECEIVER if model.heartbeat is not None else c.NULL_RECEIVER
    routes: list[dict[str, Any]] = [
        # Probe alerts exist only while `obs verify` runs; where it cannot see them (production), nobody does.
        {"receiver": c.NULL_RECEIVER, "matchers": [matcher(c.PROBE_LABEL, "true")], "continue": False},
        # The always-firing Watchdog goes to the dead man's switch every heartbeat interval; its silence pages.
        {"receiver": heartbeat, "matchers": [matcher("alertname", c.WATCHDOG_ALERT)], "group_wait": "0s",
         "group_interval": str(t.heartbeat_interval), "repeat_interval": str(t.heartbeat_interval),
         "continue": False},
    ]
    # A failing integration's alert goes somewhere else, before the spec's routes could send it back there.
    for kind, receiver in model.fallback_receivers().items():
        routes.append({"receiver": receiver, "matchers": [matcher("alertname", c.NOTIFICATIONS_FAILING_ALERT),
                                                          matcher("integration", kind)], "continue": False})
    for r in model.routes:
        route: dict[str, Any] = {"receiver": r.receiver, "matchers": [matcher(k, v) for k, v in r.matchers]}
        if r.group_wait is not None:
            route["group_wait"] = str(r.group_wait)
        if r.repeat_interval is not None:
            route["repeat_interval"] = str(r.repeat_interval)
        route["continue"] = False
        routes.append(route)
    return routes


def tier_names(model: Model) -> list[str]:
    """Every burn-rate tier label in use, fastest (shortest long window) first."""
    return [str(d) for d in sorted({tier.long for slo in model.slos for tier in slo.tiers})]


def _names(*alerts: str) -> str:
    return "|".join(alerts)


def inhibit_rules(model: Model) -> list[dict[str, Any]]:
    rules = [{"source_matchers": [matcher(c.LABEL_SEVERITY, "page")],
              "target_matchers": [matcher(c.LABEL_SEVERITY, "ticket")],
              "equal": [c.LABEL_SERVICE, c.LABEL_SLO]}]
    tiers = tier_names(model)
    for i, fast in enumerate(tiers[:-1]):
        slower = "|".join(tiers[i + 1:])
        rules.append({"source_matchers": [matcher(c.LABEL_TIER, fast)],
                      "target_matchers": [matcher(c.LABEL_TIER, slower, "=~")],
                      "equal": [c.LABEL_SERVICE, c.LABEL_SLO, c.LABEL_SEVERITY]})
    # One page per incident: while a root cause pages, the symptoms it explains stay quiet.
    down = [matcher("alertname", c.COMPONENT_DOWN_ALERT)]
    rules += [
        # A dead collector silences every service and starves every SLO of data.
        {"source_matchers": down + [matcher("job", "otelcol")],
         "target_matchers": [matcher("alertname", _names(
             c.SERVICE_SILENT_ALERT, c.SERVICE_TRAFFIC_STOPPED_ALERT, c.SLO_NO_DATA_ALERT, c.SLO_BURN_ALERT,
             c.COLLECTOR_EXPORT_FAILING_ALERT, c.COLLECTOR_DROPPING_ALERT, c.COLLECTOR_QUEUE_FULL_ALERT), "=~")]},
        # A dead trace backend makes the collector's trace exporter fail and queue.
        {"source_matchers": down + [matcher("job", "jaeger")],
         "target_matchers": [matcher("alertname", _names(
             c.COLLECTOR_EXPORT_FAILING_ALERT, c.COLLECTOR_DROPPING_ALERT, c.COLLECTOR_QUEUE_FULL_ALERT), "=~")]},
        {"source_matchers": down, "target_matchers": [matcher("alertname", c.TARGET_DOWN_ALERT)], "equal": ["job"]},
        # A silent deployment serves no traffic: one page, not two. Per job, so another deployment of the
        # same service (or a drill's retired canary) holds nothing back.
        {"source_matchers": [matcher("alertname", c.SERVICE_SILENT_ALERT)],
         "target_matchers": [matcher("alertname", c.SERVICE_TRAFFIC_STOPPED_ALERT)], "equal": ["job"]},
        # ...and its SLOs lose their data (a ticket after 10 minutes).
        {"source_matchers": [matcher("alertname", c.SERVICE_SILENT_ALERT)],
         "target_matchers": [matcher("alertname", c.SLO_NO_DATA_ALERT)], "equal": [c.LABEL_SERVICE]},
    ]
    return rules


def config(model: Model, net: network.Net) -> dict[str, Any]:
    """What production runs: the spec's receivers at their vendors' URLs, nothing local."""
    t = model.stack.timing
    receivers: list[dict[str, Any]] = [{"name": c.NULL_RECEIVER}]
    if model.heartbeat is not None:
        receivers.append({"name": c.HEARTBEAT_RECEIVER, "webhook_configs": [
            {"url_file": secret_path(model.heartbeat), "send_resolved": True}]})
    receivers += [_receiver(r) for r in model.receivers]
    return {
        "route": {
            "receiver": model.default_receiver or c.NULL_RECEIVER,
            "group_by": GROUP_BY,
            "group_wait": str(t.group_wait),
            "group_interval": str(t.group_interval),
            "repeat_interval": str(t.repeat_interval),
            "routes": _routes(model),
        },
        "inhibit_rules": inhibit_rules(model),
        "receivers": receivers,
    }


def _local_receiver(model: Model, net: network.Net, rec: dict[str, Any]) -> dict[str, Any]:
    """A receiver with every vendor URL pointed at obs's contract receivers, and no secret read."""
    name = rec["name"]
    out = {"name": name}
    for key, cfgs in rec.items():
        if key == "name":
            continue
        local = []
        for cfg in cfgs:
            cfg = dict(cfg)
            if key == "pagerduty_configs":
                # A stand-in key (see stand_ins()): the real one never goes to a local receiver.
                cfg["routing_key_file"] = c.local_stand_in_file("pagerduty", name)
                cfg["url"] = receivers_url(model, net, c.receivers_path(ReceiverKind.PAGERDUTY, name))
            elif key == "slack_configs":
                cfg["api_url_file"] = c.local_stand_in_file("slack", name)
            elif key == "webhook_configs":
                cfg.pop("url", None)
                cfg["url_file"] = c.local_stand_in_file("webhook", name)
            local.append(cfg)
        out[key] = local
    return out


def stand_ins(model: Model, net: network.Net) -> dict[str, str]:
    """The files the local overlay reads instead of secrets (path -> content), written by `obs up`."""
    out = {c.local_stand_in_file("webhook", c.HEARTBEAT_RECEIVER): receivers_url(model, net,
                                                                                 c.RECEIVERS_HEARTBEAT_PATH)}
    for r in model.receivers:
        if r.kind == ReceiverKind.PAGERDUTY:
            out[c.local_stand_in_file("pagerduty", r.name)] = c.local_routing_key(r.name)
        elif r.kind in (ReceiverKind.SLACK, ReceiverKind.WEBHOOK):
            out[c.local_stand_in_file(r.kind, r.name)] = receivers_url(model, net, c.receivers_path(r.kind, r.name))
    return out


def local_config(model: Model, net: network.Net) -> dict[str, Any]:
    """What `obs up` runs: the production routing, with every notification going to the local contract
    receivers (`obs receivers`), a heartbeat to their watcher, and the verifier's probe route."""
    doc = config(model, net)
    receivers = [r for r in doc["receivers"] if r["name"] != c.HEARTBEAT_RECEIVER]
    receivers.append({"name": c.HEARTBEAT_RECEIVER, "webhook_configs": [{"url": "", "send_resolved": True}]})
    doc["receivers"] = [{"name": c.PROBE_RECEIVER, "webhook_configs": [
        {"url": probe_url(model, net), "send_resolved": True}]}] + [_local_receiver(model, net, r) for r in receivers]
    routes = doc["route"]["routes"]
    routes[0] = {"receiver": c.PROBE_RECEIVER, "matchers": [matcher(c.PROBE_LABEL, "true")],
                 "group_by": [c.PROBE_ID_LABEL], "group_wait": str(PROBE_GROUP_WAIT),
                 "group_interval": str(PROBE_GROUP_INTERVAL),
                 "repeat_interval": str(model.stack.timing.repeat_interval),
                 "continue": False}
    routes[1] = {**routes[1], "receiver": c.HEARTBEAT_RECEIVER}
    return doc


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    net = network.native(model)
    return {c.ALERTMANAGER_CONFIG: yaml(model, config(model, net)),
            c.ALERTMANAGER_LOCAL_CONFIG: yaml(model, local_config(model, net))}

