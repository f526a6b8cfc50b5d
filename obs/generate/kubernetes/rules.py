"""PrometheusRule objects: the very groups the single-host rule files hold, one object per service and one for the
pipeline's own alerts (stack, collector, incidents, the Watchdog and the verifier's probe).

One label is added to every alert: `namespace`, the objects' own. The operator routes an AlertmanagerConfig only
the alerts labelled with its namespace; without it every page would fall through to the Alertmanager's default
receiver. A rule's label wins over the series', so a component scraped in another namespace still pages here.
"""
from __future__ import annotations

from typing import Any

from obs.generate.kubernetes.objects import MONITORING, obj
from obs.generate.pipeline import rules as pipeline
from obs.generate.slo.rules import service_groups
from obs.model import conventions as c
from obs.model.domain import Model


def rule_sets(model: Model) -> list[tuple[str, list[dict[str, Any]]]]:
    """(name, groups) for every rule file: each service with SLOs, then the pipeline's."""
    sets: list[tuple[str, list[dict[str, Any]]]] = [(s.name, service_groups(model, s.name))
                                                    for s in model.services if s.slos]
    return [*sets, (c.PIPELINE_RULES_NAME, pipeline.groups(model))]


def _namespaced(groups: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    def rule(r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "labels": {**r.get("labels", {}), "namespace": namespace}} if "alert" in r else r
    return [{**g, "rules": [rule(r) for r in g["rules"]]} for g in groups]


def objects(model: Model) -> dict[str, dict[str, Any]]:
    k = model.kubernetes
    return {c.kube_file("rules", name): obj(MONITORING, "PrometheusRule", f"{model.project}-{name}",
                                            {"groups": _namespaced(groups, k.namespace)}, k.rule_labels)
            for name, groups in rule_sets(model)}
