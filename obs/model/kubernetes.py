"""The spec's `kubernetes:` section as the domain sees it: where the objects under deploy/kubernetes go."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class CollectorMode(str, Enum):
    DEPLOYMENT = "deployment"      # one collector Deployment every service sends to
    DAEMONSET = "daemonset"        # an agent per node, forwarding to one gateway Deployment


@dataclass(frozen=True)
class Monitor:
    """One of the pipeline's components as Prometheus finds it: its Service's labels and metrics port."""

    selector: tuple[tuple[str, str], ...]
    port: str
    path: str = "/metrics"


@dataclass(frozen=True)
class Kubernetes:
    namespace: str = "observability"
    name_prefix: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    rule_labels: tuple[tuple[str, str], ...] = ()
    monitor_labels: tuple[tuple[str, str], ...] = ()
    alertmanager_config_labels: tuple[tuple[str, str], ...] = ()
    dashboard_labels: tuple[tuple[str, str], ...] = (("grafana_dashboard", "1"),)
    collector_mode: CollectorMode = CollectorMode.DEPLOYMENT
    collector_image: str | None = None
    jaeger: str = "jaeger-collector:4317"
    prometheus: str = "prometheus-operated:9090"
    prometheus_name: str = "k8s"
    alerting_secret: str = "obs-alerting"
    collector_secret: str = "obs-collector"
    monitors: dict[str, Monitor] = field(default_factory=dict, hash=False)
    tenant: str = "anonymous"

    def prometheus_replica(self, index: int) -> str:
        """Replica `index` of the operator's Prometheus (`topology: ha`): its pod, prometheus-<name>-<i>, by the
        governing Service `prometheus` names (a StatefulSet pod's DNS name), on the same port."""
        host, _, port = self.prometheus.rpartition(":")
        return f"prometheus-{self.prometheus_name}-{index}.{host}:{port}"
