"""How the operator's Prometheus scrapes the rest of the pipeline and the services' own endpoints.

Each ServiceMonitor names its scrapes after the local stack's jobs (prometheus, jaeger, alertmanager), so the
pipeline rules and dashboards read the same `job` in a cluster as on one host; every scrape runs at the profile's
interval, on which the detection bounds rest. A service's static scrape targets become a ScrapeConfig holding the
very targets and labels of the local scrape job.
"""
from __future__ import annotations

from typing import Any

from obs.generate.kubernetes.objects import MONITORING, MONITORING_ALPHA, obj, relabel_job
from obs.model import conventions as c
from obs.model.domain import Model

_JOBS = {"jaeger": c.JOB_JAEGER, "prometheus": c.JOB_PROMETHEUS, "alertmanager": c.JOB_ALERTMANAGER}


def _service_monitor(model: Model, component: str) -> dict[str, Any]:
    m = model.kubernetes.monitors[component]
    endpoint = {"port": m.port, "path": m.path, "interval": str(model.stack.timing.scrape_interval),
                "relabelings": relabel_job(_JOBS[component])}
    return obj(MONITORING, "ServiceMonitor", f"{model.project}-{component}",
               {"selector": {"matchLabels": dict(m.selector)}, "endpoints": [endpoint]},
               model.kubernetes.monitor_labels)


def _scrape_configs(model: Model) -> dict[str, dict[str, Any]]:
    out = {}
    for s in model.services:
        for i, target in enumerate(s.scrape):
            name = s.name if i == 0 else f"{s.name}-{i}"
            spec: dict[str, Any] = {"staticConfigs": [{"targets": list(target.targets),
                                                       "labels": {"job": s.name, c.SERVICE_NAME_LABEL: s.name}}],
                                    "metricsPath": target.path,
                                    "scrapeInterval": str(target.interval or model.stack.timing.scrape_interval)}
            out[c.kube_file("monitors", f"service-{name}")] = obj(
                MONITORING_ALPHA, "ScrapeConfig", f"{model.project}-{name}", spec, model.kubernetes.monitor_labels)
    return out


def objects(model: Model) -> dict[str, dict[str, Any]]:
    out = {c.kube_file("monitors", component): _service_monitor(model, component) for component in _JOBS}
    out.update(_scrape_configs(model))
    return out
