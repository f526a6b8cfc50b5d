"""Kubernetes objects as plain data: apiVersion, kind, metadata, spec. Namespace, name prefix and common labels are
kustomize's to set (deploy/kubernetes/kustomization.yaml), so no object here carries them."""
from __future__ import annotations

from typing import Any

MONITORING = "monitoring.coreos.com/v1"
MONITORING_ALPHA = "monitoring.coreos.com/v1alpha1"
OTEL = "opentelemetry.io/v1beta1"
OTEL_ALPHA = "opentelemetry.io/v1alpha1"
CORE = "v1"
APPS = "apps/v1"


def obj(api: str, kind: str, name: str, spec: dict[str, Any] | None = None,
        labels: tuple[tuple[str, str], ...] = (), **fields: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    out: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": metadata}
    if spec is not None:
        out["spec"] = spec
    out.update(fields)
    return out


def secret_key(secret: str, key: str) -> dict[str, str]:
    """A SecretKeySelector: the value stays in the team's Secret; the object names where it is."""
    return {"name": secret, "key": key}


def relabel_job(job: str) -> list[dict[str, str]]:
    """Set the scrape's `job` to the name obs's pipeline rules and dashboards expect (as the local stack's jobs)."""
    return [{"targetLabel": "job", "replacement": job, "action": "replace"}]
