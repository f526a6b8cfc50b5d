"""PrometheusRule objects: the very groups the single-host rule files hold, one object per service and one for the
pipeline's own alerts (stack, collector, incidents, the Watchdog and the verifier's probe).

One label is added to every alert: `namespace`, the objects' own. The operator routes an AlertmanagerConfig only
the alerts labelled with its namespace; without it every page would fall through to the Alertmanager's default
receiver. A rule's label wins over the series', so a component scraped in another namespace still pages here.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from obs.emit.yaml_dump import Shared
from obs.generate import units
from obs.generate.kubernetes.objects import MONITORING, obj
from obs.generate.pipeline import rules as pipeline
from obs.generate.slo.rules import kept_groups
from obs.generate.units import Part
from obs.model import conventions as c
from obs.model.domain import SLO, Model, Service


def pipeline_rule_set(model: Model) -> tuple[str, list[dict[str, Any]]]:
    return c.PIPELINE_RULES_NAME, pipeline.groups(model)


def _namespaced(groups: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    def rule(r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "labels": {**r.get("labels", {}), "namespace": namespace}} if "alert" in r else r

    def part(p: Shared) -> Shared:
        rs = cast("list[dict[str, Any]]", p)
        return Shared(rule(r) for r in rs) if any("alert" in r for r in rs) else p

    def rules(rs: list[dict[str, Any]] | Shared) -> list[Any]:
        # The parts without alerts are the rule files' very lists, whose text is made once (yaml_dump.Shared).
        return Shared.joined([part(p) for p in rs.parts]) if isinstance(rs, Shared) else [rule(r) for r in rs]
    return [{**g, "rules": rules(g["rules"])} for g in groups]


def _object(model: Model, name: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    return _rule_object(model, name, _namespaced(groups, model.kubernetes.namespace))


def _rule_object(model: Model, name: str, groups: list[Any]) -> dict[str, Any]:
    """The PrometheusRule of `name` holding `groups` as they are (their alerts already labelled, or a mark)."""
    k = model.kubernetes
    return obj(MONITORING, "PrometheusRule", f"{model.project}-{name}", {"groups": groups}, k.rule_labels)


def _frame(model: Model, service: str) -> dict[str, Any]:
    """The service's PrometheusRule with a mark where each SLO's groups go (obs.generate.units)."""
    return _rule_object(model, service, units.marked(Part.KUBERNETES, _INDENT))


_INDENT = "  "   # of the groups, under `spec:`


def slo_part(model: Model, slo: SLO) -> str:
    """The SLO's groups as its service's PrometheusRule holds them."""
    groups = cast("list[dict[str, Any]]", kept_groups(model, slo))
    return Shared(_namespaced(groups, model.kubernetes.namespace)).block(_INDENT)


def service_objects(model: Model, service: Service) -> dict[str, Callable[[], dict[str, Any]]]:
    """path -> the service's PrometheusRule, built when called, if it has SLOs: with a mark where each SLO's
    groups go (slo_part())."""
    return {c.kube_file("rules", service.name): partial(_frame, model, service.name)} if service.slos else {}


def pipeline_objects(model: Model) -> dict[str, dict[str, Any]]:
    name, groups = pipeline_rule_set(model)
    return {c.kube_file("rules", name): _object(model, name, groups)}
