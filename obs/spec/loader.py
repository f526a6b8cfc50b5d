"""Reads obs.yaml into plain data and a validated Spec, locating every problem at file:line:col.

The YAML is composed into nodes (never constructed into arbitrary objects) and walked
by hand, so we decide what a tag, a merge key, a duplicate key or a huge number means,
and we record where each path came from; pydantic's errors, and the model's later
semantic errors, are pointed back at the exact node. Input is bounded (size, nodes,
depth) because a spec is untrusted: an alias bomb must fail fast, never hang.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, DocumentStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from obs.errors import Problem, SpecError
from obs.spec.v1 import Spec
from obs.spec.validation import join, validate

MAX_BYTES = 1 << 20
MAX_NODES = 200_000
# Values per character of spec text. An alias-free spec has fewer values than characters; templates
# reused through aliases rarely reach 10. Far beyond that is an alias bomb, stopped long before MAX_NODES.
MAX_EXPANSION = 10
MAX_DEPTH = 64

_T = "tag:yaml.org,2002:"
MAP, SEQ, STR, NULL, BOOL, INT, FLOAT, TIMESTAMP, MERGE = (
    _T + t for t in ("map", "seq", "str", "null", "bool", "int", "float", "timestamp", "merge"))

Positions = dict[str, tuple[int, int]]


@dataclass
class Document:
    """The spec as plain data, with the position of every path and the YAML-level problems."""

    data: dict[str, Any]
    positions: Positions
    problems: list[Problem] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)   # paths whose value was already reported and dropped


class _TooBig(Exception):
    def __init__(self, node: Node, path: str, message: str):
        self.node, self.path, self.message = node, path, message


def _at(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _shown_tag(tag: str) -> str:
    return tag.replace(_T, "!!")


class _Walker:
    """Turns composed nodes into dicts, lists and scalars, counting alias expansions as it goes."""

    def __init__(self, yaml: YAML, text_length: int) -> None:
        self.constructor = yaml.constructor
        self.limit = min(MAX_NODES, 10_000 + MAX_EXPANSION * text_length)
        self.merged: dict[int, list[tuple[Node, Node, bool]]] = {}
        self.positions: Positions = {"": (1, 1)}
        self.problems: list[Problem] = []
        self.dropped: set[str] = set()
        self.nodes = 0

    def value(self, node: Node, path: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limit:
            raise _TooBig(node, path, f"the spec expands to more than {self.limit} values (each use of an alias "
                                "counts again); remove the aliases that multiply it")
        if depth > MAX_DEPTH:
            raise _TooBig(node, path, f"the spec nests deeper than {MAX_DEPTH} levels (or an alias refers to itself); "
                                "flatten it")
        tag = str(node.tag)
        if isinstance(node, MappingNode) and tag == MAP:
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode) and tag == SEQ:
            return [self._item(item, path, i, depth) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            if tag in (STR, TIMESTAMP):   # a date-like string stays the text the user wrote
                return node.value
            if tag == NULL:
                return None
            if tag in (BOOL, INT, FLOAT):
                return self._number(node, path)
        return self._drop(path, f"YAML tags such as {_shown_tag(tag)} are not allowed; remove the tag and write a "
                                "plain value")

    def _item(self, node: Node, path: str, i: int, depth: int) -> Any:
        child = join(path, i)
        self.positions.setdefault(child, _at(node))
        return self.value(node, child, depth + 1)

    def _number(self, node: ScalarNode, path: str) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as e:   # ruamel's constructors raise ValueError, KeyError, IndexError on odd input
            shown = node.value if len(node.value) <= 20 else node.value[:17] + "..."
            if "Exceeds the limit" in str(e):
                return self._drop(path, f"the number {shown} is too large to read; write a smaller number")
            kind = _shown_tag(str(node.tag))
            return self._drop(path, f"{shown!r} is not a valid {kind[2:]}; fix the value or remove the {kind} tag")

    def _drop(self, path: str, message: str) -> None:
        self.dropped.add(path)
        self.problems.append(Problem(path, message))
        return None

    def _mapping(self, node: MappingNode, path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node, merged in self._entries(node, path, depth):
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in out:
                if not merged:
                    self.problems.append(Problem(join(path, key), f"duplicate key `{key}` (first given at line "
                                                 f"{first_line[key]}); each key may appear once in a mapping",
                                                 *_at(key_node)))
                continue
            child = join(path, key)
            first_line[key] = _at(key_node)[0]
            self.positions.setdefault(child, _at(key_node))
            out[key] = self.value(value_node, child, depth + 1)
        return out

    def _entries(self, node: MappingNode, path: str, depth: int) -> list[tuple[Node, Node, bool]]:
        """Own entries first, then those from `<<` merges (YAML merge keys never override own keys).

        Memoized per node and deduplicated by key, so anchors merged into anchors cost their size, not
        their size raised to the number of levels."""
        if id(node) in self.merged:
            return self.merged[id(node)]
        own = [(k, v, False) for k, v in node.value if str(k.tag) != MERGE]
        taken = {k.value for k, _, _ in own if isinstance(k, ScalarNode)}
        merged: list[tuple[Node, Node, bool]] = []
        for key_node, source in ((k, v) for k, v in node.value if str(k.tag) == MERGE):
            for src in source.value if isinstance(source, SequenceNode) else [source]:
                self.nodes += 1
                if depth > MAX_DEPTH or self.nodes > self.limit:
                    raise _TooBig(src, path, f"merge keys (`<<`) expand the spec beyond {self.limit} values or "
                                             f"{MAX_DEPTH} levels; remove them")
                if not (isinstance(src, MappingNode) and str(src.tag) == MAP):
                    self.problems.append(Problem("", "`<<` must merge a mapping or a list of mappings",
                                                 *_at(key_node)))
                    continue
                for k, v, _ in self._entries(src, path, depth + 1):
                    if not (isinstance(k, ScalarNode) and k.value in taken):
                        taken.add(k.value if isinstance(k, ScalarNode) else id(k))
                        merged.append((k, v, True))
        self.merged[id(node)] = own + merged
        return own + merged

    def _key(self, node: Node, path: str) -> str | None:
        if isinstance(node, ScalarNode) and str(node.tag) in (STR, TIMESTAMP):
            return node.value
        if isinstance(node, ScalarNode) and str(node.tag) in (INT, FLOAT, BOOL, NULL):
            what = f"{node.value!r}; quote it" if node.value else "an empty key"
        elif isinstance(node, ScalarNode):
            what = f"a value tagged {_shown_tag(str(node.tag))}"
        else:
            what = "a mapping" if isinstance(node, MappingNode) else "a list"
        self.problems.append(Problem(path, f"keys must be strings (got {what})", *_at(node)))
        return None


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _too_deep_at(text: str) -> tuple[int, int]:
    """Where nesting first exceeds MAX_DEPTH; the event parser is iterative, unlike the composer."""
    depth = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(io.StringIO(text)):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1, event.start_mark.column + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except (YAMLError, RecursionError):
        pass
    return 1, 1


def _second_document_at(text: str, node: Node) -> tuple[int, int]:
    """The `---` that starts the second document; the composed node only knows where its content starts."""
    starts = [e for e in YAML(typ="safe", pure=True).parse(io.StringIO(text)) if isinstance(e, DocumentStartEvent)]
    return _at(starts[1]) if len(starts) > 1 else _at(node)


def _fail(source: str, message: str, line: int | None = 1, column: int | None = 1, path: str = "") -> SpecError:
    return SpecError(source, [Problem(path, message, line, column)])


def _compose(text: str, source: str) -> list[Node]:
    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ruamel warns (on stderr) about reused anchors
            return [n for n in yaml.compose_all(io.StringIO(text))]
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = (e.problem or e.context or "invalid YAML").strip()
        if "'\\t'" in what:
            what = "a tab character where YAML needs spaces; indent with spaces, not tabs"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _fail(source, f"invalid YAML: {what}", line, col) from None
    except ReaderError as e:
        shown = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise _fail(source, f"invalid YAML: the character {shown} is not allowed in YAML text; remove it",
                    *_position(text, e.position)) from None
    except RecursionError:
        raise _fail(source, f"the spec nests deeper than {MAX_DEPTH} levels; flatten it", *_too_deep_at(text)) from None
    except YAMLError as e:
        raise _fail(source, f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def read_yaml(text: str, source: str) -> Document:
    """Plain data and positions. Raises SpecError when nothing sensible can be read at all."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _fail(source, f"the spec is larger than {MAX_BYTES // 1024} KiB; split it or trim it")
    roots = _compose(text, source)
    if len(roots) > 1:
        raise _fail(source, "the spec must be a single YAML document; remove this `---` and what follows, or "
                    "split it into several files", *_second_document_at(text, roots[1]))
    root = roots[0] if roots else None
    if root is None or (isinstance(root, ScalarNode) and str(root.tag) == NULL):
        raise _fail(source, "the spec is empty; run `obs init` for a starter")
    yaml = YAML(typ="safe", pure=True)
    walker = _Walker(yaml, len(text))
    try:
        data = walker.value(root, "", 0)
    except _TooBig as e:
        # With aliases the node sits inside its anchor, far from the use; point at the top-level key instead.
        top = e.path.split(".")[0].split("[")[0]
        raise _fail(source, e.message, *walker.positions.get(top, _at(e.node)), path=top) from None
    if not isinstance(data, dict):
        raise SpecError(source, ordered(walker.problems, walker.positions) or [Problem(
            "", "the spec must be a mapping with `version:`, `project:` and `services:`", *_at(root))])
    return Document(data, walker.positions, walker.problems, walker.dropped)


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


def ordered(problems: list[Problem], positions: Positions) -> list[Problem]:
    """Located, in file order, each reported once."""
    located = {locate(p, positions) for p in problems}
    return sorted(located, key=lambda p: (p.line or 0, p.column or 0, p.path, p.message))


def parse_text(text: str, source: str) -> tuple[Spec, Positions]:
    """Parse and validate spec text against the schema. Raises SpecError listing every schema problem.

    obs.project.load_text goes further: it also runs the semantic checks on every part that
    passed the schema, so one run reports every problem of both kinds.
    """
    doc = read_yaml(text, source)
    spec, problems = validate(doc.data, doc.dropped)
    problems = doc.problems + problems
    if problems or spec is None:
        raise SpecError(source, ordered(problems, doc.positions))
    return spec, doc.positions


def read_file(path: Path) -> str:
    source = str(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)   # bounded: a device such as /dev/zero never ends
    except FileNotFoundError:
        raise _fail(source, "no such file; run `obs init` to write a starter obs.yaml, or give the spec's path",
                    None, None) from None
    except IsADirectoryError:
        raise _fail(source, "is a directory; give the path of an obs.yaml file", None, None) from None
    except OSError as e:
        raise _fail(source, f"cannot read: {e.strerror or e}", None, None) from None
    if len(raw) > MAX_BYTES:
        raise _fail(source, f"the spec is larger than {MAX_BYTES // 1024} KiB; split it or trim it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[:e.start].decode("utf-8", "replace")
        raise _fail(source, f"is not UTF-8 text (byte 0x{raw[e.start]:02X}); save it as UTF-8",
                    *_position(before, len(before))) from None


def load(path: Path) -> tuple[Spec, Positions]:
    return parse_text(read_file(path), str(path))
