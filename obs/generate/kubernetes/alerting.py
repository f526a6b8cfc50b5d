"""The AlertmanagerConfig: alertmanager.yml's route tree, inhibitions and receivers, in the operator's schema.

It is a translation of the production config (obs/generate/configs/alertmanager.py), not a second routing
generator: every `*_file` secret becomes a reference to a key of the team's Secret, named after the file, and
Alertmanager's matcher strings become the operator's matcher objects.

The operator scopes an AlertmanagerConfig to alerts whose `namespace` label is its own namespace, unless the
Alertmanager says `alertmanagerConfigMatcherStrategy: {type: None}`; the README says which to choose.
"""
from __future__ import annotations

import re
from typing import Any

from obs.generate.configs import alertmanager
from obs.generate.kubernetes.objects import MONITORING_ALPHA, obj, secret_key
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model

_MATCHER = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"$')
_MATCH_TYPES = {"=", "!=", "=~", "!~"}
# Alertmanager's secret files -> the operator's Secret references.
_SECRET_FIELDS = {"routing_key_file": "routingKey", "api_url_file": "apiURL", "url_file": "urlSecret",
                  "auth_password_file": "authPassword"}
_RECEIVER_KINDS = {"pagerduty_configs": "pagerdutyConfigs", "slack_configs": "slackConfigs",
                   "webhook_configs": "webhookConfigs", "email_configs": "emailConfigs"}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def matcher(text: str) -> dict[str, str]:
    m = _MATCHER.fullmatch(text)
    if m is None or m.group(2) not in _MATCH_TYPES:
        raise AssertionError(f"not an Alertmanager matcher obs writes: {text!r}")
    value = re.sub(r"\\(.)", r"\1", m.group(3))
    return {"name": m.group(1), "value": value, "matchType": m.group(2)}


def route(native: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in native.items():
        if key == "matchers":
            out["matchers"] = [matcher(m) for m in value]
        elif key == "routes":
            out["routes"] = [route(r) for r in value]
        else:
            out[camel(key)] = value
    return out


def receiver(native: dict[str, Any], secret: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": native["name"]}
    for kind, configs in native.items():
        if kind == "name":
            continue
        out[_RECEIVER_KINDS[kind]] = [
            {_SECRET_FIELDS[k] if k in _SECRET_FIELDS else camel(k):
             secret_key(secret, c.kube_secret_key(v)) if k in _SECRET_FIELDS else v for k, v in cfg.items()}
            for cfg in configs]
    return out


def inhibit_rule(native: dict[str, Any]) -> dict[str, Any]:
    names = {"source_matchers": "sourceMatch", "target_matchers": "targetMatch"}
    return {names.get(k, k): [matcher(m) for m in v] if k in names else v for k, v in native.items()}


def secret_keys(model: Model) -> list[str]:
    """The keys the alerting Secret must hold, for the README's `kubectl create secret` line."""
    config = alertmanager.config(model, network.native(model))
    return sorted({c.kube_secret_key(v) for r in config["receivers"] for kind, cfgs in r.items() if kind != "name"
                   for cfg in cfgs for k, v in cfg.items() if k in _SECRET_FIELDS})


def objects(model: Model) -> dict[str, dict[str, Any]]:
    native = alertmanager.config(model, network.native(model))
    k = model.kubernetes
    spec = {"route": route(native["route"]),
            "inhibitRules": [inhibit_rule(r) for r in native["inhibit_rules"]],
            "receivers": [receiver(r, k.alerting_secret) for r in native["receivers"]]}
    return {c.kube_file("", "alertmanagerconfig"):
            obj(MONITORING_ALPHA, "AlertmanagerConfig", model.project, spec, k.alertmanager_config_labels)}
