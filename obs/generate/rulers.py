"""Rule files for the scale-out rulers, from the same groups as alerts/*.rules.yml.

    deploy/rulers/thanos/<name>.rules.yaml      Thanos Ruler: Prometheus rule files, each group with an explicit
                                                partial_response_strategy
    deploy/rulers/cortex/<tenant>/<ns>.yaml     Mimir and Cortex rulers, as cortextool and mimirtool load them
                                                (`rules load`/`sync --id <tenant>`): one rule namespace per file
"""
from __future__ import annotations

from obs.generate.common import Inputs, yaml
from obs.generate.kubernetes.rules import rule_sets
from obs.model import conventions as c
from obs.model.domain import Model

# A group that cannot reach every store fails its evaluation (and shows up in the Ruler's own metrics) instead of
# computing a burn rate from half the data: a quiet alert is worse than a failed one.
PARTIAL_RESPONSE = "abort"


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    tenant = model.kubernetes.tenant
    files: dict[str, str] = {}
    for name, groups in rule_sets(model):
        thanos = [{**g, "partial_response_strategy": PARTIAL_RESPONSE} for g in groups]
        files[c.thanos_rules_file(name)] = yaml(model, {"groups": thanos})
        namespace = f"{model.project}-{name}"
        files[c.cortex_rules_file(tenant, namespace)] = yaml(model, {"namespace": namespace, "groups": groups})
    return files
