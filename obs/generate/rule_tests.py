"""PLACEHOLDER: being written; replace this module entirely."""
from __future__ import annotations

from obs.generate.common import Inputs
from obs.model.domain import Model


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {}
