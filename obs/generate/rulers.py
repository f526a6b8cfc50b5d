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
from typing import Any

from obs.generate.common import Inputs, Later, every_service, made, yaml
from obs.generate.kubernetes.rules import pipeline_rule_set
from obs.generate.slo.rules import service_groups
from obs.model import conventions as c
from obs.model.domain import Model, Service
from obs.model.kinds import Ruler

# A group that cannot reach every store fails its evaluation (and shows up in the Ruler's own metrics) instead of
# computing a burn rate from half the data: a quiet alert is worse than a failed one.
PARTIAL_RESPONSE = "abort"


Groups = Callable[[], list[dict[str, Any]]]


def _thanos(model: Model, groups: Groups) -> str:
    return yaml(model, {"groups": [{**g, "partial_response_strategy": PARTIAL_RESPONSE} for g in groups()]})


def _cortex(model: Model, namespace: str, groups: Groups) -> str:
    return yaml(model, {"namespace": namespace, "groups": groups()})


def _files(model: Model, name: str, groups: Groups) -> dict[str, Later]:
    """Only for the rulers the spec names: each file is another copy of the rule groups `name` holds."""
    files: dict[str, Later] = {}
    if Ruler.THANOS in model.rulers:
        files[c.thanos_rules_file(name)] = partial(_thanos, model, groups)
    if Ruler.CORTEX in model.rulers:
        namespace = f"{model.project}-{name}"
        files[c.cortex_rules_file(model.kubernetes.tenant, namespace)] = partial(_cortex, model, namespace, groups)
    return files


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    name, groups = pipeline_rule_set(model)
    return made(_files(model, name, lambda: groups))


def files(model: Model, service: Service) -> dict[str, Later]:
    return _files(model, service.name, partial(service_groups, model, service.name)) if service.slos else {}


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {**every_service(model, files), **shared(model, inputs)}
