"""Schema validation of plain spec data, with pydantic's errors rewritten for people.

`salvage` keeps every service, SLO, receiver and route that passed the schema on its own,
so the semantic checks can still run on them when some other part is broken: one run
reports every problem, of both kinds.
"""
from __future__ import annotations

import difflib
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from obs.errors import Problem
from obs.spec import fields, v1
from obs.spec.paths import join

# pydantic's wording names Python types ("a valid dictionary or instance of Stack"); users wrote YAML.
_EXPECTED = {
    "string_type": "must be a string", "bool_type": "must be true or false", "int_type": "must be a whole number",
    "int_from_float": "must be a whole number", "float_type": "must be a number", "dict_type": "must be a mapping",
    "model_type": "must be a mapping", "model_attributes_type": "must be a mapping", "list_type": "must be a list",
    "finite_number": "must be a finite number", "none_required": "must be empty",
}
_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return fields.shown(value)


def _path_of(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path = join(path, part)
    return path


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at loc's parent, for did-you-mean."""
    model = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        found = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        if found is None:
            return None
        inner = _inner_model(found.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _unknown_key(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    model = _model_at(root, loc)
    known = [f.alias or n for n, f in model.model_fields.items()] if model else []
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    return f"unknown key; known keys here: {', '.join(known)}" if known else "unknown key; remove it"


def _message(root: type[BaseModel], err: dict[str, Any]) -> str:
    kind: str = err["type"]
    loc: tuple[Any, ...] = err["loc"]
    if kind == "extra_forbidden":
        return _unknown_key(root, loc)
    if kind == "missing":
        return f"is required; add `{loc[-1]}:`"
    if kind == "too_short":
        return "must not be empty"
    msg: str = err["msg"]
    got = err.get("input")
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    msg = msg[0].lower() + msg[1:]
    if kind in _EXPECTED:
        hint = "; remove the quotes" if isinstance(got, str) and kind in ("float_type", "int_type") else ""
        hint = "; quote it" if kind == "string_type" and isinstance(got, (int, float)) else hint
        return f"{_EXPECTED[kind]}{hint} (got {shown(got)})"
    if kind in _BOUND_ERRORS or kind == "literal_error":
        return f"must be {msg.removeprefix('input should be ')} (got {shown(got)})"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{msg} (got {shown(got)})"
    return msg


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's internal steps (validator names, `[key]` for dict keys) from a location."""
    internal = ("function-after[", "function-before[", "function-wrap[", "function-plain[")
    return tuple(p for p in loc if not (isinstance(p, str) and (p.startswith(internal) or p == "[key]")))


def problems_of(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"])
        out.append(Problem(_path_of(loc), _message(root, {**err, "loc": loc})))
    return out


def prepare() -> None:
    """Build the schema's validator now (pydantic defers it to the first validation): a spec read ahead in a second
    process (obs.spec.loader.read_ahead) is still being read meanwhile."""
    v1.Spec.model_rebuild()


def validate(data: dict[str, Any], dropped: AbstractSet[str] = frozenset()) -> tuple[v1.Spec | None, list[Problem]]:
    """The Spec, if the data passes the schema, and every schema problem not under an already `dropped` path."""
    try:
        return v1.Spec.model_validate(data), []
    except ValidationError as e:
        return None, [p for p in problems_of(e, v1.Spec) if not _under(p.path, dropped)]


def _under(path: str, dropped: AbstractSet[str]) -> bool:
    return any(path == d or path.startswith(d + ".") or path.startswith(d + "[") for d in dropped)


@dataclass
class Salvage:
    """The parts of a broken spec that passed the schema, and where each came from."""

    spec: v1.Spec
    services: list[int] = field(default_factory=list)          # salvaged position -> index in the file
    slos: list[list[int]] = field(default_factory=list)        # per salvaged service: SLO indexes in the file
    receivers: list[int] = field(default_factory=list)
    routes: list[int] = field(default_factory=list)
    dropped_names: set[str] = field(default_factory=set)       # names of services and receivers left out


def _valid(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _name(raw: Any) -> str | None:
    return raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None


def _stub(model: type[BaseModel], raw: Any, **fields: Any) -> Any:
    """A broken service or receiver reduced to its name, so names stay declared: duplicates are still
    found, and routes to it are not reported as unknown. Its other checks wait until it passes the schema."""
    name = _name(raw)
    return _valid(model, {"name": name, **fields}) if name is not None else None


def _stack(raw: Any) -> v1.Stack:
    """The stack's settings that pass the schema on their own (each version too), so that a bad port
    or version does not hide what the semantic checks would say about the others."""
    stack = _valid(v1.Stack, raw)
    if stack is not None or not isinstance(raw, dict):
        return stack or v1.Stack()
    kept = {k: v for k, v in raw.items() if _valid(v1.Stack, {k: v}) is not None}
    if isinstance(raw.get("versions"), dict):
        kept["versions"] = {k: v for k, v in raw["versions"].items() if _valid(v1.Versions, {k: v}) is not None}
    return _valid(v1.Stack, kept) or v1.Stack()


def salvage(data: dict[str, Any]) -> Salvage:
    # A placeholder spec: the real one is built last, from what was kept.
    out = Salvage(spec=v1.Spec.model_construct(version="obs/v1", project="unnamed", services=[]))
    services: list[v1.Service] = []
    raw_services = data.get("services")
    for i, raw in enumerate(raw_services if isinstance(raw_services, list) else []):
        raw_slos: Any = raw.get("slos", []) if isinstance(raw, dict) else None
        kept = [j for j, s in enumerate(raw_slos) if _valid(v1.SLO, s)] if isinstance(raw_slos, list) else []
        service = _valid(v1.Service, {**raw, "slos": [raw_slos[j] for j in kept]}) if isinstance(raw, dict) else None
        if service is None:
            kept, service = [], _stub(v1.Service, raw)
        if service is None:
            out.dropped_names.add(_name(raw) or "")
            continue
        services.append(service)
        out.services.append(i)
        out.slos.append(kept)
    raw_alerting = data.get("alerting")
    alerting: dict[Any, Any] = raw_alerting if isinstance(raw_alerting, dict) else {}
    receivers: list[v1.Receiver] = []
    routes: list[v1.Route] = []
    raw_receivers = alerting.get("receivers")
    for i, raw in enumerate(raw_receivers if isinstance(raw_receivers, list) else []):
        receiver = _valid(v1.Receiver, raw) or _stub(v1.Receiver, raw, webhook={"url": "http://stub"})
        if receiver is None:
            out.dropped_names.add(_name(raw) or "")
        else:
            receivers.append(receiver)
            out.receivers.append(i)
    raw_routes = alerting.get("routes")
    for i, raw in enumerate(raw_routes if isinstance(raw_routes, list) else []):
        route = _valid(v1.Route, raw)
        if route is not None:
            routes.append(route)
            out.routes.append(i)
    default = alerting.get("default_receiver")
    project = data.get("project")
    out.spec = v1.Spec.model_construct(
        version="obs/v1",
        project=project if isinstance(project, str) else "unnamed",
        stack=_stack(data.get("stack", {})),
        services=services,
        alerting=v1.AlertRouting.model_construct(receivers=receivers, routes=routes,
                                                 default_receiver=default if isinstance(default, str) else None),
    )
    return out
