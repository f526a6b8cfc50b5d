"""YAML nodes to plain data: dicts, lists and scalars, with the position of every path.

Composed nodes are walked by hand, never constructed into arbitrary objects, so obs decides
what a tag, a merge key, a duplicate key or a huge number means. Alias expansion and depth
are counted as the walk goes, so an alias bomb stops early instead of exhausting memory.
"""
from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.events import Event
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from obs.errors import Problem
from obs.spec.paths import join

# Values in a spec, at most: a thousand services written out in full make 34,000 (flow style, 40,000), so a spec of
# loader.MAX_BYTES holds fewer than this unless it is mostly punctuation.
MAX_NODES = 2_000_000
# Values per character of spec text. An alias-free spec has fewer values than characters; templates
# reused through aliases rarely reach 10. Far beyond that is an alias bomb, stopped long before MAX_NODES.
MAX_EXPANSION = 10
MAX_DEPTH = 64

_T = "tag:yaml.org,2002:"
MAP, SEQ, STR, NULL, BOOL, INT, FLOAT, TIMESTAMP, MERGE = (
    _T + t for t in ("map", "seq", "str", "null", "bool", "int", "float", "timestamp", "merge"))

Positions = dict[str, tuple[int, int]]


class TooBig(Exception):
    def __init__(self, node: Node, path: str, message: str):
        self.node, self.path, self.message = node, path, message


def at(node: Node | Event) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def tag_of(node: Node) -> str:
    """str(node.tag), read where ruamel keeps it: the property and Tag.__str__ cost more than the rest of the walk,
    called some 80,000 times for a spec of a thousand services."""
    trval = node.ctag.trval if node.ctag is not None else None
    return str(node.tag) if trval is None else trval


def _shown_tag(tag: str) -> str:
    return tag.replace(_T, "!!")


class Walker:
    """Turns composed nodes into dicts, lists and scalars, counting alias expansions as it goes."""

    def __init__(self, yaml: YAML, text_length: int) -> None:
        self.constructor = yaml.constructor
        self.limit = min(MAX_NODES, 10_000 + MAX_EXPANSION * text_length)
        self.merged: dict[int, list[tuple[Node, Node, bool]]] = {}
        self.positions: Positions = {"": (1, 1)}
        self.problems: list[Problem] = []
        self.dropped: set[str] = set()
        self.nodes = 0
        self.numbers: dict[tuple[str, str], tuple[Any]] = {}

    def value(self, node: Node, path: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limit:
            raise TooBig(node, path, f"the spec expands to more than {self.limit} values (each use of an alias "
                                "counts again); remove the aliases that multiply it")
        if depth > MAX_DEPTH:
            raise TooBig(node, path, f"the spec nests deeper than {MAX_DEPTH} levels (or an alias refers to itself); "
                                "flatten it")
        tag = tag_of(node)
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
                return self.number(node, path)
        return self._drop(path, f"YAML tags such as {_shown_tag(tag)} are not allowed; remove the tag and write a "
                                "plain value")

    def _item(self, node: Node, path: str, i: int, depth: int) -> Any:
        child = join(path, i)
        self.positions.setdefault(child, at(node))
        return self.value(node, child, depth + 1)

    def number(self, node: ScalarNode, path: str) -> Any:
        """A bool, int or float scalar's value; a bad one is dropped with a problem."""
        # A spec repeats its objectives and flags thousands of times: each text is constructed once.
        known = self.numbers.get((tag_of(node), node.value))
        if known is not None:
            return known[0]
        try:
            number = self.constructor.construct_object(node, deep=True)
            self.numbers[tag_of(node), node.value] = (number,)
            return number
        except Exception as e:   # ruamel's constructors raise ValueError, KeyError, IndexError on odd input
            shown = node.value if len(node.value) <= 20 else node.value[:17] + "..."
            if "Exceeds the limit" in str(e):
                return self._drop(path, f"the number {shown} is too large to read; write a smaller number")
            kind = _shown_tag(tag_of(node))
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
                                                 *at(key_node)))
                continue
            child = join(path, key)
            first_line[key] = at(key_node)[0]
            self.positions.setdefault(child, at(key_node))
            out[key] = self.value(value_node, child, depth + 1)
        return out

    def _entries(self, node: MappingNode, path: str, depth: int) -> list[tuple[Node, Node, bool]]:
        """Own entries first, then those from `<<` merges (YAML merge keys never override own keys).

        Memoized per node and deduplicated by key, so anchors merged into anchors cost their size, not
        their size raised to the number of levels."""
        if id(node) in self.merged:
            return self.merged[id(node)]
        own = [(k, v, False) for k, v in node.value if tag_of(k) != MERGE]
        taken = {k.value for k, _, _ in own if isinstance(k, ScalarNode)}
        merged: list[tuple[Node, Node, bool]] = []
        for key_node, source in ((k, v) for k, v in node.value if tag_of(k) == MERGE):
            for src in source.value if isinstance(source, SequenceNode) else [source]:
                self.nodes += 1
                if depth > MAX_DEPTH or self.nodes > self.limit:
                    raise TooBig(src, path, f"merge keys (`<<`) expand the spec beyond {self.limit} values or "
                                             f"{MAX_DEPTH} levels; remove them")
                if not (isinstance(src, MappingNode) and tag_of(src) == MAP):
                    self.problems.append(Problem("", "`<<` must merge a mapping or a list of mappings",
                                                 *at(key_node)))
                    continue
                for k, v, _ in self._entries(src, path, depth + 1):
                    if not (isinstance(k, ScalarNode) and k.value in taken):
                        taken.add(k.value if isinstance(k, ScalarNode) else id(k))
                        merged.append((k, v, True))
        self.merged[id(node)] = own + merged
        return own + merged

    def _key(self, node: Node, path: str) -> str | None:
        if isinstance(node, ScalarNode) and tag_of(node) in (STR, TIMESTAMP):
            key: str = node.value
            return key
        if isinstance(node, ScalarNode) and tag_of(node) in (INT, FLOAT, BOOL, NULL):
            what = f"{node.value!r}; quote it" if node.value else "an empty key"
        elif isinstance(node, ScalarNode):
            what = f"a value tagged {_shown_tag(tag_of(node))}"
        else:
            what = "a mapping" if isinstance(node, MappingNode) else "a list"
        self.problems.append(Problem(path, f"keys must be strings (got {what})", *at(node)))
        return None
