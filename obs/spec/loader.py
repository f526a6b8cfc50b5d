"""Reads obs.yaml into a validated Spec, locating every problem at file:line:col.

The YAML is turned into plain data while we record where each path came from,
so pydantic's errors, and the model's later semantic errors, can be pointed
back at the exact node. Input is bounded (size, nodes, depth) because a spec
is untrusted: an alias bomb must fail fast, never hang or exhaust memory.
"""
from __future__ import annotations

import difflib
import io
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from obs.errors import Problem, SpecError
from obs.spec.v1 import Spec

MAX_BYTES = 1 << 20
MAX_NODES = 200_000
MAX_DEPTH = 64
STANDARD_TAGS = {None, "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
                 "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                 "tag:yaml.org,2002:null"}

Positions = dict[str, tuple[int, int]]


class _TooBig(Exception):
    pass


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class _Plain:
    """Converts ruamel's round-trip nodes to dicts and lists, remembering positions."""

    def __init__(self) -> None:
        self.positions: Positions = {}
        self.problems: list[Problem] = []
        self.tagged: set[str] = set()
        self.nodes = 0

    def convert(self, node: Any, path: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _TooBig(path)
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag not in STANDARD_TAGS:
            self._tag_problem(node, path, tag)
            return None
        if isinstance(node, CommentedMap):
            out = {}
            for key, value in node.items():
                if not isinstance(key, str):
                    self._at(node, key, path, f"keys must be strings (got {key!r})")
                    continue
                child = join(path, key)
                line, col = node.lc.key(key)
                self.positions.setdefault(child, (line + 1, col + 1))
                out[key] = self.convert(value, child, depth + 1)
            return out
        if isinstance(node, CommentedSeq):
            out_list = []
            for i, value in enumerate(node):
                child = join(path, i)
                line, col = node.lc.item(i)
                self.positions.setdefault(child, (line + 1, col + 1))
                out_list.append(self.convert(value, child, depth + 1))
            return out_list
        if isinstance(node, str):
            return str(node)
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        self._tag_problem(node, path, type(node).__name__)
        return None

    def _tag_problem(self, node: Any, path: str, tag: Any) -> None:
        shown = str(tag).replace("tag:yaml.org,2002:", "!!")
        self.tagged.add(path)
        self.problems.append(Problem(path, f"YAML tags such as {shown} are not allowed; write a plain value"))

    def _at(self, node: CommentedMap, key: Any, path: str, message: str) -> None:
        line, col = node.lc.key(key)
        self.problems.append(Problem(path, message, line + 1, col + 1))


def locate(problem: Problem, positions: Positions) -> Problem:
    """Attach the position of the deepest known ancestor of the problem's path."""
    if problem.line is not None:
        return problem
    path = problem.path
    while path:
        if path in positions:
            line, col = positions[path]
            return Problem(problem.path, problem.message, line, col)
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return Problem(problem.path, problem.message, 1, 1)


def _path_of(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path = join(path, part)
    return path


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at loc's parent, for did-you-mean."""
    model: Any = Spec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _message(err: dict[str, Any]) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = [f.alias or n for n, f in model.model_fields.items()] if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else (f"; known keys: {', '.join(known)}" if known else "")
        return f"unknown key{hint}"
    if kind == "missing":
        return "is required"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("string_type", "int_type", "float_type", "bool_type", "dict_type", "list_type", "model_type",
                "literal_error", "int_from_float", "finite_number") or "type" in kind:
        got = err.get("input")
        shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg[0].lower()}{msg[1:]} (got {shown})"
    return msg


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
        problems.append(Problem(_path_of(loc), _message(err)))
    return problems


def parse_text(text: str, source: str) -> tuple[Spec, Positions]:
    """Parse and validate spec text. Raises SpecError listing every problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecError(source, [Problem("", f"the spec is larger than {MAX_BYTES // 1024} KiB; split it or trim it")])
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        docs = list(yaml.load_all(io.StringIO(text)))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = (e.problem or e.context or "invalid YAML").strip()
        if "found duplicate key" in str(e):
            what = "duplicate key; each key may appear once in a mapping"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError(source, [Problem("", f"invalid YAML: {what}", line, col)]) from None
    except (YAMLError, RecursionError, ValueError) as e:
        raise SpecError(source, [Problem("", f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}", 1, 1)]) from None
    if len(docs) != 1 or docs[0] is None:
        msg = "the spec is empty; run `obs init` for a starter" if not docs or docs[0] is None else \
            "the spec must be a single YAML document (found several separated by ---)"
        raise SpecError(source, [Problem("", msg, 1, 1)])
    plain = _Plain()
    try:
        data = plain.convert(docs[0], "", 0)
    except _TooBig as e:
        raise SpecError(source, [locate(Problem(str(e.args[0]),
                        f"the spec is too large or too deeply nested (over {MAX_NODES} nodes or {MAX_DEPTH} levels, "
                        "counting alias expansions)"), plain.positions)]) from None
    if not isinstance(data, dict):
        raise SpecError(source, [Problem("", "the spec must be a mapping with `version:`, `project:` and `services:`", 1, 1)])
    problems = list(plain.problems)
    spec = None
    try:
        spec = Spec.model_validate(data)
    except ValidationError as e:
        problems.extend(p for p in _pydantic_problems(e) if p.path not in plain.tagged)
    if problems:
        raise SpecError(source, sorted((locate(p, plain.positions) for p in problems),
                                       key=lambda p: (p.line or 0, p.column or 0, p.path)))
    assert spec is not None
    return spec, plain.positions


def load(path: Path) -> tuple[Spec, Positions]:
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(source, [Problem("", "no such file; run `obs init` to write a starter obs.yaml")]) from None
    except IsADirectoryError:
        raise SpecError(source, [Problem("", "is a directory; give the path of an obs.yaml file")]) from None
    except OSError as e:
        raise SpecError(source, [Problem("", f"cannot read: {e.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(source, [Problem("", f"the spec is larger than {MAX_BYTES // 1024} KiB; split it or trim it")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(source, [Problem("", f"is not UTF-8 text (bad byte at offset {e.start})")]) from None
    return parse_text(text, source)
