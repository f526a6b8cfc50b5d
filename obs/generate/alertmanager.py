"""Alertmanager: the spec's route tree, inhibitions between severities and tiers, and file-backed receivers.

Secrets are always `*_file` fields. Alertmanager opens receiver secret files
relative to its working directory (it only rebases http_config and templates on
the config's directory), and every runtime starts it in the output directory, so
`.obs/secrets/<ENV>` means the same file natively and under compose.

The first route catches the verifier's probe alerts: grouped by their unique
probe id so a probe never joins an existing group and waits `group_interval`.
"""
from __future__ import annotations

from obs.generate import network
from obs.generate.common import Inputs, yaml
from obs.generate.otelcol import secret_path
from obs.model import conventions as c
from obs.model.domain import Model, Receiver
from obs.model.timing import PROBE_GROUP_INTERVAL, PROBE_GROUP_WAIT

GROUP_BY = ["alertname", c.LABEL_SERVICE, c.LABEL_SLO]


def matcher(label: str, value: str, op: str = "=") -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{label}{op}"{escaped}"'


def _receiver(r: Receiver) -> dict:
    if r.kind == "pagerduty":
        return {"name": r.name, "pagerduty_configs": [{"routing_key_file": secret_path(r.secret), "send_resolved": True}]}
    if r.kind == "slack":
        return {"name": r.name, "slack_configs": [{"api_url_file": secret_path(r.secret), "channel": r.channel,
                                                   "send_resolved": True}]}
    if r.kind == "webhook":
        target = {"url_file": secret_path(r.secret)} if r.secret is not None else {"url": r.url}
        return {"name": r.name, "webhook_configs": [{**target, "send_resolved": True}]}
    if r.kind == "email":
        cfg: dict = {"to": r.email_to, "from": r.email_from, "smarthost": r.smarthost, "send_resolved": True}
        if r.auth_username:
            cfg["auth_username"] = r.auth_username
        if r.secret is not None:
            cfg["auth_password_file"] = secret_path(r.secret)
        return {"name": r.name, "email_configs": [cfg]}
    raise AssertionError(f"unknown receiver kind {r.kind!r}")


def probe_url(model: Model, net: network.Net) -> str:
    return f"http://{network.host_port(net.outside, model.stack.ports['verify_sink'])}{c.VERIFY_SINK_PATH}"


def _routes(model: Model) -> list[dict]:
    t = model.stack.timing
    routes: list[dict] = [
        {"receiver": c.PROBE_RECEIVER, "matchers": [matcher(c.PROBE_LABEL, "true")], "group_by": [c.PROBE_ID_LABEL],
         "group_wait": str(PROBE_GROUP_WAIT), "group_interval": str(PROBE_GROUP_INTERVAL),
         "repeat_interval": str(t.repeat_interval), "continue": False},
        # The always-firing Watchdog proves the alert path; it is read from /api/v2/alerts, never notified.
        {"receiver": c.NULL_RECEIVER, "matchers": [matcher("alertname", c.WATCHDOG_ALERT)], "continue": False},
        # `obs drill` proves a page reaches a receiver obs controls: every page is copied to the verifier's
        # sink and continues to the spec's routes. While no drill runs the copy fails, which the
        # notification-failure alert ignores (it excludes this receiver).
        {"receiver": c.PROBE_RECEIVER, "matchers": [matcher(c.LABEL_SEVERITY, "page")], "continue": True},
    ]
    for r in model.routes:
        route: dict = {"receiver": r.receiver, "matchers": [matcher(k, v) for k, v in r.matchers]}
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


def inhibit_rules(model: Model) -> list[dict]:
    rules = [{"source_matchers": [matcher(c.LABEL_SEVERITY, "page")],
              "target_matchers": [matcher(c.LABEL_SEVERITY, "ticket")],
              "equal": [c.LABEL_SERVICE, c.LABEL_SLO]}]
    tiers = tier_names(model)
    for i, fast in enumerate(tiers[:-1]):
        slower = "|".join(tiers[i + 1:])
        rules.append({"source_matchers": [matcher(c.LABEL_TIER, fast)],
                      "target_matchers": [matcher(c.LABEL_TIER, slower, "=~")],
                      "equal": [c.LABEL_SERVICE, c.LABEL_SLO, c.LABEL_SEVERITY]})
    return rules


def config(model: Model, net: network.Net) -> dict:
    t = model.stack.timing
    receivers = [{"name": c.PROBE_RECEIVER, "webhook_configs": [{"url": probe_url(model, net), "send_resolved": True}]},
                 {"name": c.NULL_RECEIVER}]
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


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {c.ALERTMANAGER_CONFIG: yaml(model, config(model, network.native(model)))}

