"""`obs lint`: known pitfalls of the pipeline's components checked against a spec and the artifacts generated from it.

Spec checks point at the spec line (bind addresses, verify budget, job names);
artifact checks read the generated (or committed) files the way the components
will (probe routing in alertmanager.yml, secrets and binds everywhere), so a
hand edit or a stale artifact is caught too. A finding is a `warning` (fails
`--strict`) or a `note` (a trade-off the user chose and should know about).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from obs.model.domain import Model

WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    severity: str = WARNING
    spec_path: str | None = None     # dotted path in the spec, e.g. stack.bind
    file: str | None = None          # artifact path relative to the output directory
    where: str | None = None         # location inside the artifact, e.g. route.routes[0]
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


Check = Callable[[Model, Mapping[str, str], Mapping[str, str]], Iterable[Finding]]


def checks() -> tuple[Check, ...]:
    from obs.lint import artifact_checks, spec_checks
    return spec_checks.CHECKS + artifact_checks.CHECKS


def run(model: Model, files: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> list[Finding]:
    """Every finding for `model` and its artifacts `files` ({relative path: text})."""
    found: list[Finding] = []
    for check in checks():
        found.extend(check(model, files, environ))
    return found
