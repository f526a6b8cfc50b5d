"""The common spec read in one pass over libyaml's events: plain data and positions, with no nodes composed.

Composing nodes and then walking them (obs/spec/yaml_walk.py) reads a spec twice in Python, after a first pass
over the events that guards the C composer's recursion; at a thousand services that was most of the time spent
reading YAML. A spec without anchors, aliases, tags, merge keys, keys that are not text, or duplicate keys (nearly
every spec) reads here to exactly what the walker makes of it: the same values (numbers made by the walker's own
constructor), the same position for every path, the same problems. Anything else is Declined and the walker
decides, so every message and every limit stays the walker's. Iterative: nesting costs no stack.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruamel.yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import BaseResolver

from obs.spec.paths import join
from obs.spec.yaml_walk import BOOL, FLOAT, INT, MAX_DEPTH, NULL, STR, TIMESTAMP, Walker

_TEXT = (STR, TIMESTAMP)        # a date-like string stays the text the user wrote
_NUMBER = (BOOL, INT, FLOAT)
_FRAMING = (StreamStartEvent, DocumentEndEvent, StreamEndEvent)
_UNSET = object()


class Declined(Exception):
    """The walker must read this spec."""


class _Frame:
    __slots__ = ("value", "path", "depth", "key")

    def __init__(self, value: dict[str, Any] | list[Any], path: str, depth: int) -> None:
        self.value, self.path, self.depth = value, path, depth
        self.key: str | None = None   # in a mapping: the key whose value comes next


class _Tags:
    """Each plain or quoted text's tag, resolved once: a spec repeats its keys and values thousands of times."""

    def __init__(self, resolver: BaseResolver) -> None:
        self.resolver = resolver
        self.known: dict[tuple[str, Any], str] = {}

    def __call__(self, event: ScalarEvent) -> str:
        key = (event.value, event.implicit)
        tag = self.known.get(key)
        if tag is None:
            tag = self.known[key] = str(self.resolver.resolve(ScalarNode, event.value, event.implicit))
        return tag


def read(events: Iterable[Any], resolver: BaseResolver, walker: Walker) -> dict[str, Any]:
    """The one document in `events` as a mapping, its positions and problems left in `walker`, as
    walker.value(root) would make them. Raises Declined where the walker must decide."""
    tag_of = _Tags(resolver)
    stack: list[_Frame] = []
    root: Any = _UNSET
    for event in events:
        kind = type(event)
        if kind is ScalarEvent or kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise Declined
            frame = stack[-1] if stack else None
            key = None
            if frame is None:   # the root: a second one comes after a DocumentStartEvent, declined below
                path, depth = "", 0
            elif type(frame.value) is dict:
                if frame.key is None:   # a key: the path's position is the key's, as the walker records it
                    frame.key = _key(event, tag_of, frame.value)
                    walker.positions.setdefault(join(frame.path, frame.key), _at(event))
                    continue
                key = frame.key
                path, depth = join(frame.path, key), frame.depth + 1
            else:
                path, depth = join(frame.path, len(frame.value)), frame.depth + 1
                walker.positions.setdefault(path, _at(event))
            walker.nodes += 1
            if walker.nodes > walker.limit or depth > MAX_DEPTH:
                raise Declined
            value: Any
            if kind is ScalarEvent:
                value = _scalar(event, tag_of, walker, path)
            else:
                value = {} if kind is MappingStartEvent else []
            if frame is None:
                root = value
            elif key is not None:
                frame.value[key] = value   # type: ignore[call-overload]
                frame.key = None
            else:
                frame.value.append(value)   # type: ignore[union-attr]
            if kind is not ScalarEvent:
                stack.append(_Frame(value, path, depth))
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()
        elif kind is DocumentStartEvent:
            if root is not _UNSET:   # a second document: the walker's message points at its `---`
                raise Declined
        elif kind not in _FRAMING:   # an alias
            raise Declined
    if type(root) is not dict:   # empty, or not a mapping: the walker's message
        raise Declined
    return root


def _at(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _key(event: Any, tag_of: _Tags, mapping: dict[str, Any]) -> str:
    if type(event) is not ScalarEvent or tag_of(event) not in _TEXT:   # `<<`, a number, a collection
        raise Declined
    key: str = event.value
    if key in mapping:   # a duplicate: the walker says where both are
        raise Declined
    return key


def _scalar(event: ScalarEvent, tag_of: _Tags, walker: Walker, path: str) -> Any:
    tag = tag_of(event)
    if tag in _TEXT:
        return event.value
    if tag == NULL:
        return None
    if tag in _NUMBER:   # the walker's own construction, and its message for a bad one
        known = walker.numbers.get((tag, event.value))   # its memo, looked up before a node is made for it
        if known is not None:
            return known[0]
        return walker.number(ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style),
                              path)
    raise Declined
