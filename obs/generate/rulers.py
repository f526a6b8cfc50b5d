"""Rule files for the scale-out rulers the spec names (`rulers: [thanos, cortex]`), from the same groups as
alerts/*.rules.yml.

    deploy/rulers/thanos/<name>.rules.yaml      Thanos Ruler: Prometheus rule files, each group with an explicit
                                                partial_response_strategy
    deploy/rulers/cortex/<tenant>/<ns>.yaml     Mimir and Cortex rulers, as cortextool and mimirtool load them
                                                (`rules load`/`sync --id <tenant>`): one rule namespace per file
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from obs.emit.yaml_dump import Shared
from obs.generate import units
from obs.generate.common import Inputs, Later, every_service, made, yaml
from obs.generate.kubernetes.rules import pipeline_rule_set
from obs.generate.slo.rules import kept_groups
from obs.generate.units import Part
from obs.model import conventions as c
from obs.model.domain import SLO, Model, Service
from obs.model.kinds import Ruler

# A group that cannot reach every store fails its evaluation (and shows up in the Ruler's own metrics) instead of
# computing a burn rate from half the data: a quiet alert is worse than a failed one.
PARTIAL_RESPONSE = "abort"


Groups = Callable[[], list[Any]]   # a file's groups, or the mark where each SLO's go (obs.generate.units)


def _thanos(model: Model, groups: Groups) -> str:
    return yaml(model, {"groups": groups()})


def _cortex(model: Model, namespace: str, groups: Groups) -> str:
    return yaml(model, {"namespace": namespace, "groups": groups()})


def _files(model: Model, name: str, thanos: Groups, cortex: Groups) -> dict[str, Later]:
    """Only for the rulers the spec names: each file is another copy of the rule groups `name` holds, the Thanos
    Ruler's (`thanos`) each with its partial_response_strategy."""
    files: dict[str, Later] = {}
    if Ruler.THANOS in model.rulers:
        files[c.thanos_rules_file(name)] = partial(_thanos, model, thanos)
    if Ruler.CORTEX in model.rulers:
        namespace = f"{model.project}-{name}"
        files[c.cortex_rules_file(model.kubernetes.tenant, namespace)] = partial(_cortex, model, namespace, cortex)
    return files


def _strategic(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**g, "partial_response_strategy": PARTIAL_RESPONSE} for g in groups]


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    name, groups = pipeline_rule_set(model)
    return made(_files(model, name, lambda: _strategic(groups), lambda: groups))


def frame(model: Model, service: Service) -> dict[str, Later]:
    """Each ruler's file of the service, with a mark where each SLO's groups go (obs.generate.units)."""
    return _files(model, service.name, lambda: units.marked(Part.THANOS, ""),
                  lambda: units.marked(Part.CORTEX, "")) if service.slos else {}


def unit(model: Model, service: Service) -> dict[str, Later]:
    """The groups of the service's one SLO, as each ruler's file holds them."""
    slo, = service.slos
    parts: dict[str, Later] = {}
    if Ruler.THANOS in model.rulers:
        parts[units.part_path(service.name, slo.name, Part.THANOS)] = partial(_thanos_part, model, slo)
    if Ruler.CORTEX in model.rulers:
        parts[units.part_path(service.name, slo.name, Part.CORTEX)] = partial(_cortex_part, model, slo)
    return parts


def _thanos_part(model: Model, slo: SLO) -> str:
    return Shared(_strategic(cast("list[dict[str, Any]]", kept_groups(model, slo)))).block("")


def _cortex_part(model: Model, slo: SLO) -> str:
    return kept_groups(model, slo).block("")


def files(model: Model, service: Service) -> dict[str, Later]:
    return units.whole(model, service, frame, unit)


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {**every_service(model, files), **shared(model, inputs)}
