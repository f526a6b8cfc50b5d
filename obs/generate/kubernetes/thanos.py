"""Under `topology: ha`: Thanos Query over the operator's Prometheus replicas, as the local stack has it.

The Prometheus patch (prometheus.py) asks the operator for the pair (`replicas`, `replicaExternalLabelName:
replica`) and for a Thanos sidecar in each replica (`thanos`); the operator then lists every sidecar's Store API
as the port named `grpc` of its governing Service, `prometheus-operated`. Thanos Query finds them all by that
Service's SRV records, so a replica that comes or goes needs no change here, and deduplicates them on the
`replica` label: one series per pair, no gap while a replica restarts. It runs two replicas of its own (it is
stateless). Point Grafana's Prometheus datasource and `environments.<name>.prometheus` at its Service.
"""
from __future__ import annotations

from typing import Any

from obs import versions
from obs.generate.kubernetes.objects import APPS, CORE, obj
from obs.model import conventions as c
from obs.model.domain import Model

QUERY = "thanos-query"
QUERY_REPLICAS = 2
# The Thanos image runs as nobody; numeric, so the kubelet can check runAsNonRoot.
NOBODY = 65534


def sidecar_srv(model: Model) -> str:
    """The SRV name listing every sidecar: port `grpc` of the Service `kubernetes.prometheus` names."""
    host = model.kubernetes.prometheus.rpartition(":")[0]
    return f"dnssrv+_grpc._tcp.{host}"


def _container(model: Model) -> dict[str, Any]:
    p = model.stack.ports
    return {
        "name": QUERY,
        "image": versions.IMAGES["thanos"].ref,
        "args": ["query", f"--http-address=0.0.0.0:{p['thanos_query']}",
                 f"--grpc-address=0.0.0.0:{p['thanos_query_grpc']}", f"--endpoint={sidecar_srv(model)}",
                 f"--query.replica-label={c.REPLICA_LABEL}"],
        "ports": [{"name": "http", "containerPort": p["thanos_query"]},
                  {"name": "grpc", "containerPort": p["thanos_query_grpc"]}],
        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/-/healthy", "port": "http"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": NOBODY, "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


def objects(model: Model) -> dict[str, dict[str, Any]]:
    if not model.stack.ha:
        return {}
    name = f"{model.project}-{QUERY}"
    # Selector labels of their own: kustomize's common labels stay out of selectors (kustomization.py).
    selector = {"app.kubernetes.io/name": QUERY, "app.kubernetes.io/instance": model.project}
    deployment = obj(APPS, "Deployment", name, {
        "replicas": QUERY_REPLICAS,
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": selector}, "spec": {"containers": [_container(model)]}},
    })
    service = obj(CORE, "Service", name, {
        "selector": selector,
        "ports": [{"name": "http", "port": model.stack.ports["thanos_query"], "targetPort": "http"}],
    })
    return {c.kube_file("thanos", "query-deployment"): deployment, c.kube_file("thanos", "query-service"): service}
