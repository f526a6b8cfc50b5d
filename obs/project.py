"""Loads a spec file all the way to the validated Model, every problem located at file:line:col."""
from __future__ import annotations

from pathlib import Path

from obs.errors import SpecError
from obs.model.build import ModelProblems, build
from obs.model.domain import Model
from obs.spec.loader import load, locate


def load_model(path: Path) -> Model:
    spec, positions = load(path)
    try:
        return build(spec, source=path.name)
    except ModelProblems as e:
        located = sorted((locate(p, positions) for p in e.problems), key=lambda p: (p.line or 0, p.column or 0))
        raise SpecError(str(path), located) from None
