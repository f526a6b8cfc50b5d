"""Rule files for the scale-out rulers the spec names (`rulers: [thanos, cortex]`), from the same groups as
alerts/*.rules.yml.

    deploy/rulers/thanos/<name>.rules.yaml      Thanos Ruler: Prometheus rule files, each group with an explicit
                                                partial_response_strategy
    deploy/rulers/cortex/<tenant>/<ns>.yaml     Mimir and Cortex rulers, as cortextool and mimirtool load them
                                                (`rules load`/`sync --id <tenant>`): one rule namespace per file
"""
from __future__ import annotations

from typing import Any

from obs.generate.common import Inputs, every_service, yaml
from obs.generate.kubernetes.rules import pipeline_rule_set, service_rule_sets
from obs.model import conventions as c
from obs.model.domain import Model, Service
from obs.model.kinds import Ruler

# A group that cannot reach every store fails its evaluation (and shows up in the Ruler's own metrics) instead of
# computing a burn rate from half the data: a quiet alert is worse than a failed one.
PARTIAL_RESPONSE = "abort"


def _files(model: Model, sets: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, str]:
    """Only for the rulers the spec names: each file is another copy of every rule group."""
    tenant = model.kubernetes.tenant
    files: dict[str, str] = {}
    for name, groups in sets:
        if Ruler.THANOS in model.rulers:
            thanos = [{**g, "partial_response_strategy": PARTIAL_RESPONSE} for g in groups]
            files[c.thanos_rules_file(name)] = yaml(model, {"groups": thanos})
        if Ruler.CORTEX in model.rulers:
            namespace = f"{model.project}-{name}"
            files[c.cortex_rules_file(tenant, namespace)] = yaml(model, {"namespace": namespace, "groups": groups})
    return files


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    return _files(model, [pipeline_rule_set(model)])


def per_service(model: Model, service: Service) -> dict[str, str]:
    return _files(model, service_rule_sets(model, service))


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {**every_service(model, per_service), **shared(model, inputs)}
