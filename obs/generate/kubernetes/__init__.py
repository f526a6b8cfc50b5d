"""deploy/kubernetes: the stack's artifacts as objects for the Prometheus Operator, the OpenTelemetry Operator and
Grafana's dashboard sidecar, built from the same rule groups, configs and dashboards as the single-host files.

    kubectl apply -k deploy/kubernetes      (or: kustomize build deploy/kubernetes)

kustomization.yaml sets the namespace, the name prefix and the common labels; no object carries them itself. No
object carries a secret either: they name keys of Secrets the team creates (the README says how).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from obs.emit import yaml_dump
from obs.generate import units
from obs.generate.common import Later, every_service, header, yaml
from obs.generate.kubernetes import (
    alerting,
    collector,
    dashboards,
    instrumentation,
    monitors,
    prometheus,
    rules,
    thanos,
)
from obs.generate.units import Part
from obs.model import conventions as c
from obs.model.domain import Model, Service

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


def kustomization(model: Model, resources: list[str]) -> dict[str, Any]:
    k = model.kubernetes
    out: dict[str, Any] = {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namespace": k.namespace}
    if k.name_prefix:
        out["namePrefix"] = k.name_prefix
    labels = {"app.kubernetes.io/part-of": model.project, "app.kubernetes.io/managed-by": "obs", **dict(k.labels)}
    # Not into selectors: the monitors select other objects' pods, whose labels kustomize does not set.
    out["labels"] = [{"pairs": labels, "includeSelectors": False}]
    out["resources"] = resources
    return out


def _text(model: Model, make: Callable[[], dict[str, Any]]) -> str:
    return yaml(model, make())


def _noted(model: Model, make: Callable[[], tuple[dict[str, Any], list[str]]]) -> str:
    # An Instrumentation carries notes: what the team does beyond applying it (annotate pods, copy a Secret).
    o, notes = make()
    return yaml_dump.dump(o, header="\n".join([header(model), *(f"note: {n}" for n in notes)]))


def frame(model: Model, service: Service) -> dict[str, Later]:
    """The service's own objects: its PrometheusRule (with a mark where each SLO's groups go: obs.generate.units)
    and its Instrumentation. Each is a resource of the kustomization."""
    out: dict[str, Later] = {path: partial(_text, model, make)
                             for path, make in rules.service_objects(model, service).items()}
    out.update((path, partial(_noted, model, make))
               for path, make in instrumentation.service_objects(model, service).items())
    return out


def unit(model: Model, service: Service) -> dict[str, Later]:
    """The groups of the service's one SLO, as its PrometheusRule holds them."""
    slo, = service.slos
    return {units.part_path(service.name, slo.name, Part.KUBERNETES): partial(rules.slo_part, model, slo)}


def files(model: Model, service: Service) -> dict[str, Later]:
    return units.whole(model, service, frame, unit)


def shared(model: Model, files: dict[str, str], service_objects: list[str]) -> dict[str, str]:
    """Every other object's file and the kustomization, whose resources are those and `service_objects` (the paths
    files() gives); `files` are the other generators' (the dashboards among them)."""
    objects: dict[str, dict[str, Any]] = {}
    for part in (rules.pipeline_objects(model), alerting.objects(model), collector.objects(model),
                 monitors.objects(model), dashboards.objects(model, files), thanos.objects(model)):
        objects.update(part)
    patches = prometheus.objects(model)
    out = {path: yaml(model, o) for path, o in {**objects, **patches}.items()}
    resources = sorted(p.removeprefix(c.KUBERNETES_DIR + "/") for p in [*objects, *service_objects])
    out[c.KUSTOMIZATION] = yaml(model, kustomization(model, resources))
    return out


def derive(model: Model, others: dict[str, str]) -> dict[str, str]:
    """Every object's file and the kustomization; `others` are the other generators' files (the dashboards among
    them)."""
    own = every_service(model, files)
    return {**own, **shared(model, others, list(own))}
