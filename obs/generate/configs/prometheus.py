"""Prometheus 3: scrape jobs for the stack and the services, rules, alerting, and OTLP ingestion.

OTLP-ingested semconv metrics are stored with UnderscoreEscapingWithSuffixes, so
`http.server.request.duration` (unit s) becomes `http_server_request_duration_seconds`
and `http.response.status_code` becomes `http_response_status_code`; `service.name`
is promoted to `service_name`, the label every SLI and dashboard selects on.
"""
from __future__ import annotations

import posixpath
from typing import Any

from obs.generate.common import Inputs, yaml
from obs.generate.configs import otelcol
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model
from obs.model.durations import Duration
from obs.model.kinds import MetricsPath

TRANSLATION = "UnderscoreEscapingWithSuffixes"
# Resource attributes that become labels on every OTLP-ingested series. service.name and
# service.instance.id also set job/instance; deployment.environment(.name) lets dashboards split envs.
PROMOTED = ("service.name", "service.namespace", "service.instance.id", "service.version",
            "deployment.environment", "deployment.environment.name")
# SDK clocks and batching deliver OTLP points slightly out of order; Prometheus's OTLP guide advises this.
OUT_OF_ORDER_WINDOW = "30m"
MAX_SCRAPE_TIMEOUT = Duration.parse("10s")


def required_flags(model: Model) -> list[str]:
    """Flags the generated config relies on; the native runner and compose both pass them."""
    flags = ["--web.enable-otlp-receiver", f"--rules.alert.resend-delay={model.stack.timing.resend_delay}"]
    if model.stack.metrics == MetricsPath.PUSH:
        # SDKs that export delta temporality (e.g. .NET's, or OTEL_..._TEMPORALITY_PREFERENCE=delta)
        # would otherwise be rejected by the OTLP receiver.
        flags.append("--enable-feature=otlp-deltatocumulative")
    return flags


def rule_files_glob(config_path: str) -> str:
    """Prometheus resolves rule_files against the config file's directory."""
    return posixpath.join(posixpath.relpath(c.ALERTS_DIR, posixpath.dirname(config_path)), "*.rules.yml")


def _timeout(interval: Duration) -> str:
    return str(min(interval, MAX_SCRAPE_TIMEOUT))


def _job(name: str, targets: list[str], **extra: object) -> dict[str, Any]:
    return {"job_name": name, **extra, "static_configs": [{"targets": targets}]}


def _replicas(model: Model, net: network.Net, component: str, port_key: str) -> list[str]:
    """Every replica of a component (one under `topology: single`, reached as before)."""
    ports = model.stack.replica_ports(port_key)
    if not model.stack.ha:
        return [net.peer(component, ports[0])]
    return [net.replica(component, i, port) for i, port in enumerate(ports)]


def _service_jobs(model: Model, net: network.Net, taken: set[str]) -> list[dict[str, Any]]:
    jobs = []
    for s in model.services:
        for i, st in enumerate(s.scrape):
            name = s.name if i == 0 and s.name not in taken else f"{s.name}-{i}"
            while name in taken:
                name = f"service-{name}"
            taken.add(name)
            job: dict[str, Any] = {"job_name": name}
            if st.interval is not None:
                job["scrape_interval"] = str(st.interval)
                job["scrape_timeout"] = _timeout(st.interval)
            if st.path != "/metrics":
                job["metrics_path"] = st.path
            # The job label is the service name even when the job needed a distinct name.
            job["static_configs"] = [{"targets": [net.target(t) for t in st.targets],
                                      "labels": {"job": s.name, c.SERVICE_NAME_LABEL: s.name}}]
            jobs.append(job)
    return jobs


def config(model: Model, net: network.Net, config_path: str = c.PROMETHEUS_CONFIG) -> dict[str, Any]:
    t, p = model.stack.timing, model.stack.ports
    st = model.stack
    stack_jobs = [
        _job(c.JOB_PROMETHEUS, _replicas(model, net, "prometheus", "prometheus")),
        _job(c.JOB_OTELCOL, [net.peer("otelcol", p["collector_metrics"])]),
        _job(c.JOB_JAEGER, [net.peer("jaeger", p["jaeger_metrics"])]),
        _job(c.JOB_ALERTMANAGER, _replicas(model, net, "alertmanager", "alertmanager")),
    ]
    if otelcol.has_gateways(model, net):
        stack_jobs.append(_job(c.JOB_OTELCOL_GATEWAY, _replicas(model, net, c.GATEWAY, "gateway_metrics")))
    if model.stack.metrics == MetricsPath.PULL:
        # honor_labels keeps the job/instance the exporter derives from each service's resource.
        stack_jobs.append(_job(c.JOB_OTELCOL_EXPORTER, [net.peer("otelcol", p["collector_prometheus"])],
                               honor_labels=True))
    # Up only while `obs verify --watch` runs; pipeline rules must not page on it being down.
    stack_jobs.append(_job(c.VERIFY_JOB, [network.host_port(net.outside, p["verify_metrics"])]))
    taken = {j["job_name"] for j in stack_jobs}
    external = {c.LABEL_PROJECT: model.project}
    alerting: dict[str, Any] = {"alertmanagers": [{"api_version": "v2", "static_configs": [
        {"targets": _replicas(model, net, "alertmanager", "alertmanager")}]}]}
    if st.ha:
        # One config for every replica: Prometheus 3 expands the variable each process is started with.
        external[c.REPLICA_LABEL] = "${" + c.PROMETHEUS_REPLICA_ENV + "}"
        # Both replicas fire the same alerts; without their replica label Alertmanager sees one alert, not two.
        alerting["alert_relabel_configs"] = [{"action": "labeldrop", "regex": c.REPLICA_LABEL}]
    return {
        "global": {
            "scrape_interval": str(t.scrape_interval),
            "scrape_timeout": _timeout(t.scrape_interval),
            "evaluation_interval": str(t.evaluation_interval),
            "external_labels": external,
        },
        "rule_files": [rule_files_glob(config_path)],
        "alerting": alerting,
        "scrape_configs": stack_jobs + _service_jobs(model, net, taken),
        "otlp": {
            "promote_resource_attributes": list(PROMOTED),
            "translation_strategy": TRANSLATION,
        },
        "storage": {"tsdb": {"out_of_order_time_window": OUT_OF_ORDER_WINDOW}},
    }


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {c.PROMETHEUS_CONFIG: yaml(model, config(model, network.native(model)))}
