"""Grafana provisioning: Prometheus, Jaeger and Alertmanager datasources with stable UIDs, and a dashboards provider.

Grafana runs only under compose (it is AGPL; obs never builds it), so URLs name
the compose services. Grafana expands `$VAR` in provisioning files, hence `$$`
wherever a query needs a literal `$` (Grafana's own `$__tags`).
"""
from __future__ import annotations

from typing import Any

from obs.generate.common import Inputs, yaml
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model
from obs.model.promql import eq, histogram_quantile, rate, sum_, sum_by

DASHBOARDS_PATH = f"{c.COMPOSE_WORKDIR}/{c.DASHBOARDS_DIR}"
TAGS = "$$__tags"   # Grafana's placeholder for the span's tags mapped below, `$` escaped
SPAN_WINDOW = "5m"


def _trace_to_metrics() -> dict[str, Any]:
    error = str(eq(c.SPANMETRICS_STATUS_LABEL, c.SPANMETRICS_ERROR_STATUS))
    # `$__tags` is no matcher: Grafana replaces it with matchers made from the span's tags, so the braces around
    # it are written here rather than by promql.matchers.
    calls, error_calls = f"{c.SPANMETRICS_CALLS}{{{TAGS}}}", f"{c.SPANMETRICS_CALLS}{{{TAGS}, {error}}}"
    buckets = f"{c.SPANMETRICS_DURATION}_bucket{{{TAGS}}}"
    return {
        "datasourceUid": c.DATASOURCE_PROMETHEUS_UID,
        "spanStartTimeShift": "-15m",
        "spanEndTimeShift": "15m",
        "tags": [{"key": "service.name", "value": c.SERVICE_NAME_LABEL}],
        "queries": [
            {"name": "Request rate", "query": sum_(rate(calls, SPAN_WINDOW))},
            {"name": "Error rate", "query": sum_(rate(error_calls, SPAN_WINDOW))},
            {"name": "p95 latency", "query": histogram_quantile("0.95", sum_by(["le"], rate(buckets, SPAN_WINDOW)))},
        ],
    }


def datasources(model: Model, net: network.Net) -> dict[str, Any]:
    p = model.stack.ports
    # Under `topology: ha` the dashboards read Thanos Query: the pair's series deduplicated, answering while either
    # replica does.
    prom = net.peer("thanos-query", p["thanos_query"]) if model.stack.ha else net.peer("prometheus", p["prometheus"])
    return {"apiVersion": 1, "datasources": [
        {"name": "Prometheus", "uid": c.DATASOURCE_PROMETHEUS_UID, "type": "prometheus", "access": "proxy",
         "url": f"http://{prom}", "isDefault": True, "editable": False,
         "jsonData": {"httpMethod": "POST", "timeInterval": str(model.stack.timing.scrape_interval)}},
        {"name": "Jaeger", "uid": c.DATASOURCE_JAEGER_UID, "type": "jaeger", "access": "proxy",
         "url": f"http://{net.peer('jaeger', p['jaeger_query'])}", "editable": False,
         "jsonData": {"tracesToMetrics": _trace_to_metrics()}},
        {"name": "Alertmanager", "uid": c.DATASOURCE_ALERTMANAGER_UID, "type": "alertmanager", "access": "proxy",
         "url": f"http://{net.peer('alertmanager', p['alertmanager'])}", "editable": False,
         "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False}},
    ]}


def dashboard_providers(model: Model) -> dict[str, Any]:
    return {"apiVersion": 1, "providers": [{
        "name": "obs", "orgId": 1, "folder": c.dashboard_folder(model.project), "type": "file",
        # Generated dashboards are edited in the spec, never in the UI.
        "disableDeletion": True, "allowUiUpdates": False, "updateIntervalSeconds": 30,
        "options": {"path": DASHBOARDS_PATH, "foldersFromFilesStructure": False},
    }]}


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    net = network.compose(model)
    return {c.GRAFANA_DATASOURCES: yaml(model, datasources(model, net)),
            c.GRAFANA_DASHBOARD_PROVIDERS: yaml(model, dashboard_providers(model))}
