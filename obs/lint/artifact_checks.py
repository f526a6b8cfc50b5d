"""Checks on the artifacts, read the way the components read them: probe routing, secrets, binds, Grafana."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from obs.emit import yaml_read
from obs.lint import NOTE, WARNING, Finding
from obs.lint.routing import routes_for
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.durations import Duration
from obs.model.kinds import MetricsPath
from obs.model.network import is_loopback

ALERTMANAGER_FILES = (c.ALERTMANAGER_CONFIG, c.COMPOSE_ALERTMANAGER_CONFIG, c.ALERTMANAGER_LOCAL_CONFIG)
# Where `obs verify` runs its probes: production routes probe alerts to nobody instead.
PROBE_FILES = (c.COMPOSE_ALERTMANAGER_CONFIG, c.ALERTMANAGER_LOCAL_CONFIG)
COLLECTOR_FILES = (c.OTELCOL_CONFIG, c.COMPOSE_OTELCOL_CONFIG)
NATIVE_LISTENER_FILES = (c.OTELCOL_CONFIG, c.JAEGER_CONFIG)
# Keys whose value is a secret in Alertmanager, the collector, Prometheus and Grafana provisioning.
SECRET_KEYS = {"routing_key", "service_key", "api_url", "auth_password", "auth_secret", "password", "token",
               "bearer_token", "credentials", "api_key", "client_secret", "secret", "secret_key", "basicauthpassword"}
# Each with what a match must hold: the pattern runs only over a text that holds it all (at a thousand services,
# searching every file of 120 MiB took seconds).
SECRET_PATTERNS = (
    ("a Slack webhook URL", re.compile(r"https://hooks\.slack\.com/services/\S+"), ("hooks.slack.com/services/",)),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), ("-----BEGIN ", "PRIVATE KEY-----")),
    ("an AWS access key", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), ("AKIA",)),
    ("a bearer token", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/-]{16,}"), ("Bearer",)),
    ("credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:[^/\s@\"']+@"), ("://", "@")),
)
MIN_SECRET_LENGTH = 6   # shorter env values would match by accident
# A key that inline_secrets flags is in the text as it is read, in any case (its names, or `GF_`), unless a quoted
# scalar spells it with an escape (`\x`, `\u`, `\U`) or an escaped line break: a file holding none of these is not
# parsed for such keys. At a thousand services that leaves nearly every file unparsed.
_KEY_MARKS = (*sorted(SECRET_KEYS), "gf_")
_SPELLING_ESCAPE = re.compile(r"\\[xuU]|\\\r?\n")


def _may_hold_secret_key(text: str) -> bool:
    lowered = text.lower()
    return any(mark in lowered for mark in _KEY_MARKS) or ("\\" in text and bool(_SPELLING_ESCAPE.search(text)))


def _load(text: str) -> object:
    try:
        return yaml_read.load(text)
    except yaml_read.ArtifactError:
        return None


def _walk(node: object, path: str = "") -> Iterator[tuple[str, str, object]]:
    """(path, key, value) for every mapping entry."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}.{k}" if path else str(k)
            yield here, str(k), v
            yield from _walk(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def probe_grouping(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    probe = {"alertname": c.PROBE_ALERT, c.PROBE_LABEL: "true", c.PROBE_ID_LABEL: "lint-probe",
             c.LABEL_PROJECT: model.project}
    for path in PROBE_FILES:
        doc = _load(files[path]) if path in files else None
        if not isinstance(doc, dict) or not isinstance(doc.get("route"), dict):
            continue
        for m in routes_for(doc["route"], probe):
            s = m.settings
            if s.get("receiver") != c.PROBE_RECEIVER:
                yield Finding("probe-routing", file=path, where=m.where, message=(
                    f"probe alerts ({c.PROBE_LABEL}=\"true\") reach receiver {s.get('receiver')!r}, not "
                    f"{c.PROBE_RECEIVER!r}: `obs verify` never sees them and someone else gets paged"))
            group_by = list(s.get("group_by") or [])
            if c.PROBE_ID_LABEL not in group_by and "..." not in group_by:
                yield Finding("probe-grouping", file=path, where=m.where, message=(
                    f"probe alerts are grouped by {group_by or 'nothing'}, not by {c.PROBE_ID_LABEL}: a probe that "
                    f"joins a group which already notified waits group_interval ({s.get('group_interval')}) "
                    f"before Alertmanager sends it; add {c.PROBE_ID_LABEL} to group_by"))
            if Duration.parse(str(s.get("group_wait"))).ms > 0:
                yield Finding("probe-grouping", file=path, where=m.where, message=(
                    f"probe alerts wait group_wait {s.get('group_wait')} before their first notification; "
                    "the probe route should use group_wait: 0s"))


def inline_secrets(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    values = {env: environ.get(env, "") for env in _env_secrets(model)}
    for path, text in sorted(files.items()):
        for name, pattern, needs in SECRET_PATTERNS:
            if not all(part in text for part in needs):
                continue
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                yield Finding("inline-secret", file=path, line=line, message=(
                    f"looks like {name}; reference secrets by file (`{{file: ...}}` or `{{env: ...}}` in the spec)"))
        for env, secret in values.items():
            if len(secret) >= MIN_SECRET_LENGTH and secret in text:
                yield Finding("inline-secret", file=path, line=text.count("\n", 0, text.index(secret)) + 1,
                              message=f"holds the value of ${env}: the secret was inlined instead of read from a file")
        if not path.endswith((".yml", ".yaml")) or not _may_hold_secret_key(text):
            continue
        for where, key, value in _walk(_load(text)):
            if key.lower() in SECRET_KEYS and isinstance(value, (str, int)) and str(value).strip():
                yield Finding("inline-secret", file=path, where=where, message=(
                    f"`{key}` is written inline; use `{key}_file` (generated from a `{{file:}}` or `{{env:}}` secret)"))
            if key.startswith("GF_") and re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)$", key) and value:
                yield Finding("inline-secret", file=path, where=where, message=(
                    f"{key} is set inline; use {key}__FILE with a compose secret"))


def _env_secrets(model: Model) -> list[str]:
    from obs.stack.secrets import env_secrets
    return sorted(env_secrets(model))


def grafana_access(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    doc = _load(files.get(c.COMPOSE_FILE, ""))
    grafana = ((doc or {}).get("services") or {}).get("grafana") if isinstance(doc, dict) else None
    if not isinstance(grafana, dict):
        return
    env = grafana.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env if "=" in item)
    where = "services.grafana.environment"
    if str(env.get("GF_AUTH_ANONYMOUS_ENABLED", "")).lower() != "false":
        yield Finding("grafana-anonymous", file=c.COMPOSE_FILE, where=where, message=(
            "Grafana must set GF_AUTH_ANONYMOUS_ENABLED=false: anonymous users can otherwise read every dashboard"))
    if "GF_SECURITY_ADMIN_PASSWORD__FILE" not in env:
        yield Finding("grafana-default-credentials", file=c.COMPOSE_FILE, where=where, message=(
            "Grafana has no GF_SECURITY_ADMIN_PASSWORD__FILE, so its admin password is the default admin/admin"))


def loopback_binds(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    allowed = {model.stack.bind, model.stack.receivers_bind}
    doc = _load(files.get(c.COMPOSE_FILE, ""))
    services = (doc.get("services") or {}) if isinstance(doc, dict) else {}
    for name, svc in services.items():
        for i, port in enumerate((svc or {}).get("ports") or []):
            host = _published_host(str(port))
            if host is None or (not is_loopback(host) and host not in allowed):
                yield Finding("listener-beyond-loopback", file=c.COMPOSE_FILE, where=f"services.{name}.ports[{i}]",
                              message=f"{port!r} publishes the port on {host or 'every interface'}; "
                                      f"write it as \"{model.stack.bind}:PORT:PORT\"")
    for path in NATIVE_LISTENER_FILES:
        for where, key, value in _walk(_load(files.get(path, "")) or {}):
            if key == "endpoint" and isinstance(value, str) and "://" not in value and ":" in value:
                host = value.rsplit(":", 1)[0].strip("[]")
                if not is_loopback(host) and host not in allowed:
                    yield Finding("listener-beyond-loopback", file=path, where=where,
                                  message=f"listens on {value}, beyond loopback and the spec's bind addresses")


def _published_host(port: str) -> str | None:
    """The host IP of a compose port mapping, None when it publishes on every interface."""
    if port.startswith("["):
        return port[1:port.index("]")]
    parts = port.split(":")
    return parts[0] if len(parts) == 3 else None


def delta_conversion(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    for path in COLLECTOR_FILES:
        doc = _load(files.get(path, ""))
        for name in ((doc or {}).get("exporters") or {}) if isinstance(doc, dict) else {}:
            if name.split("/")[0] == "prometheusremotewrite":
                yield Finding("delta-temporality", file=path, where=f"exporters.{name}", message=(
                    "remote write carries no temporality: the prometheusremotewrite exporter drops delta sums "
                    "and histograms; put a deltatocumulative processor before it or push OTLP to Prometheus"))
    doc = _load(files.get(c.COMPOSE_FILE, ""))
    prom = ((doc.get("services") or {}).get("prometheus") or {}) if isinstance(doc, dict) else {}
    command = " ".join(map(str, prom.get("command") or []))
    if model.stack.metrics == MetricsPath.PUSH and prom and "otlp-deltatocumulative" not in command:
        yield Finding("delta-temporality", file=c.COMPOSE_FILE, where="services.prometheus.command", message=(
            "Prometheus receives OTLP without --enable-feature=otlp-deltatocumulative, so delta metrics "
            "from SDKs are rejected"))


# Series a Prometheus holds comfortably for one SLO; past it the estimate is a warning, below it a note.
GROUPED_SERIES_WARNING = 10_000


def grouped_slo_series(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    """A grouped SLO records each of its rules once per group: the series it may write, at its limit."""
    for i, s in enumerate(model.services):
        grouped = [(j, slo, slo.max_groups) for j, slo in enumerate(s.slos) if slo.group_by and slo.max_groups]
        if not grouped:
            continue   # its rules file is not read (reading every one took lint seconds at a thousand services)
        doc = _load(files.get(c.rules_file(s.name), ""))
        groups = (doc or {}).get("groups") or [] if isinstance(doc, dict) else []
        for j, slo, max_groups in grouped:
            names = {c.rule_group(s.name, slo.name, kind) for kind in ("short", "long")}
            records = sum(1 for g in groups if g.get("name") in names for r in g.get("rules") or [] if "record" in r)
            alerts = sum(1 for g in groups if g.get("name") in names for r in g.get("rules") or [] if "alert" in r)
            estimate = records * max_groups
            heavy = estimate > GROUPED_SERIES_WARNING
            yield Finding(
                "grouped-slo-series", severity=WARNING if heavy else NOTE,
                spec_path=f"services[{i}].slos[{j}].max_groups", message=(
                    f"{s.name}/{slo.name} is evaluated per {', '.join(slo.group_by)}: {records} recorded series and "
                    f"up to {alerts} alerts per group, so up to {estimate:,} series at its limit of {max_groups} "
                    "groups; past the limit each of its rules fails to evaluate (Prometheus's rule group `limit`) "
                    "and its no-data ticket fires" + ("; lower max_groups, or group by a label with fewer values"
                                                     if heavy else "")))


CHECKS = (probe_grouping, inline_secrets, grafana_access, loopback_binds, delta_conversion, grouped_slo_series)
