"""Loads a spec all the way to the validated Model, every problem located at file:line:col.

One run reports every problem: YAML-level ones, schema ones, and the semantic checks of
obs.model.build run on every part that passed the schema, even when other parts did not.
"""
from __future__ import annotations

import re
from pathlib import Path

from obs.errors import Problem, SpecError
from obs.model.build import ModelProblems, build
from obs.model.domain import Model
from obs.spec.loader import ordered, read_file, read_yaml
from obs.spec.validation import Salvage, prepare, salvage, validate

_SERVICE = re.compile(r"^services\[(\d+)\](?:\.slos\[(\d+)\])?")
_ALERTING = re.compile(r"^alerting\.(receivers|routes)\[(\d+)\]")
# Semantic checks that name another part of the spec: when that part was left out because
# it failed the schema, the reference is not wrong, the other part is (and is reported).
_REFERENCES = (re.compile(r"^alerting\.routes\[\d+\]\.receiver$"), re.compile(r"^alerting\.default_receiver$"),
               re.compile(r"^alerting\.routes\[\d+\]\.match\.service$"))


def _remap(path: str, s: Salvage) -> str:
    """A salvaged spec's path, as the path of the same part in the user's file."""
    m = _SERVICE.match(path)
    if m:
        i = int(m.group(1))
        head = f"services[{s.services[i]}]"
        if m.group(2) is not None:
            head += f".slos[{s.slos[i][int(m.group(2))]}]"
        return head + path[m.end():]
    m = _ALERTING.match(path)
    if m:
        index = (s.receivers if m.group(1) == "receivers" else s.routes)[int(m.group(2))]
        return f"alerting.{m.group(1)}[{index}]" + path[m.end():]
    return path


def _referenced(path: str, s: Salvage) -> str | None:
    alerting = s.spec.alerting
    if path == "alerting.default_receiver":
        return alerting.default_receiver
    route = alerting.routes[int(path.split("[")[1].split("]")[0])]
    return route.receiver if path.endswith(".receiver") else route.match.service


def _semantic_problems_of_salvage(s: Salvage, name: str) -> list[Problem]:
    try:
        build(s.spec, source=name)
    except ModelProblems as e:
        kept = [p for p in e.problems
                if not (any(r.match(p.path) for r in _REFERENCES) and _referenced(p.path, s) in s.dropped_names)]
        return [Problem(_remap(p.path, s), p.message, p.line, p.column) for p in kept]
    return []


def load_text(text: str, source: str, name: str | None = None) -> Model:
    """The Model of spec text; `source` is how problems name the file, `name` how headers do."""
    name = name or Path(source).name
    prepare()
    doc = read_yaml(text, source)
    spec, problems = validate(doc.data, doc.dropped)
    problems = doc.problems + problems
    if spec is None:
        problems += _semantic_problems_of_salvage(salvage(doc.data), name)
        raise SpecError(source, ordered(problems, doc.positions))
    try:
        model = build(spec, source=name)
    except ModelProblems as e:
        problems += e.problems
    if problems:
        raise SpecError(source, ordered(problems, doc.positions))
    return model


def load_model(path: Path) -> Model:
    return load_text(read_file(path), str(path), path.name)
