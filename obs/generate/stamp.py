"""A service's own files, rendered once per shape of service and stamped with each one's name.

At a thousand services most of a render is the same work a thousand times: services written from one template
differ only in their names, and the rules, their tests, the OpenSLO documents, the SDK settings and the
Kubernetes objects of one are those of another with the name changed. So services are grouped by shape (the
service with its name taken out of every string, and the name's pattern of letters, digits and dashes), each
shape's files are rendered once for a stand-in name of the same pattern and length, and each member's files are
that text with the stand-in replaced.

That is exact only if generation treats the name as opaque text, and a generator may not (a hash of a long name,
a name that reads as YAML's `no`): so a shape is stamped only when two of its members, rendered in full, equal
their stamps byte for byte; otherwise every member is rendered in full. Shapes of fewer than MIN_MEMBERS are
always rendered in full. tests/generate/test_stamp.py compares stamped and full renders.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from obs.model.domain import Model, Service

PerService = Callable[[Model, Service], dict[str, str]]

MIN_MEMBERS = 3      # two members verify a shape's stamp: below three nothing is saved
_VERIFIED = 2
# Names a YAML reader could take for something else are quoted where a stand-in is not: never stamped.
_RESERVED = frozenset("y n yes no on off true false null".split())
_STAND_IN_LETTERS = "qzxjkvwq"


def _pattern(name: str) -> str:
    return re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "a", name))


def _stand_in(name: str, taken: set[str]) -> str | None:
    """A name of the same pattern and length, unlike any in the model; None when the name has too few letters."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 3 or name in _RESERVED or not re.fullmatch(r"[a-z0-9-]+", name):
        return None
    for shift in range(len(_STAND_IN_LETTERS)):
        out = list(name)
        for n, i in enumerate(letters):
            out[i] = _STAND_IN_LETTERS[(n + shift) % len(_STAND_IN_LETTERS)]
        for i, ch in enumerate(name):
            if ch.isdigit():
                out[i] = "7"
        candidate = "".join(out)
        if candidate not in taken and candidate not in _RESERVED:
            return candidate
    return None


_FIELDS: dict[type, tuple[str, ...]] = {}


def renamed(value: Any, old: str, new: str) -> Any:
    """`value` with `old` replaced by `new` in every string it holds: frozen dataclasses, tuples, strings. What
    holds no `old` is returned as it is (the same object), so a shape's key is cheap to make and to hash."""
    kind = type(value)
    if kind is str:
        return value.replace(old, new) if old in value else value
    if kind is tuple:
        items = tuple(renamed(v, old, new) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, (Enum, int, float, Decimal)) or value is None:
        return value
    fields = _FIELDS.get(kind)
    if fields is None:
        if not dataclasses.is_dataclass(value):
            return value
        fields = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value) if f.init)
    changes = {f: renamed(getattr(value, f), old, new) for f in fields}
    if all(changes[f] is getattr(value, f) for f in fields):
        return value
    return kind(**changes)


def _shape(service: Service) -> tuple[str, Service]:
    return _pattern(service.name), renamed(service, service.name, "\0")


class Stamped:
    """A member's file, made from its shape's text when read: the tree of a thousand services is not held in
    memory at once, since the writer reads each file, hashes it and lets it go."""

    __slots__ = ("template", "stand_in", "name")

    def __init__(self, template: str, stand_in: str, name: str) -> None:
        self.template, self.stand_in, self.name = template, stand_in, name

    def text(self) -> str:
        return self.template.replace(self.stand_in, self.name)


def _stamped(files: dict[str, str], stand_in: str, name: str) -> dict[str, str]:
    return {path.replace(stand_in, name): text.replace(stand_in, name) for path, text in files.items()}


def _lazy(files: dict[str, str], stand_in: str, name: str) -> dict[str, Stamped]:
    return {path.replace(stand_in, name): Stamped(text, stand_in, name) for path, text in files.items()}


def _one(model: Model, service: Service, makers: Sequence[PerService]) -> dict[str, str]:
    out: dict[str, str] = {}
    for make in makers:
        out.update(make(model, service))
    return out


def _shapes(model: Model) -> Iterator[list[Service]]:
    groups: dict[tuple[str, Service], list[Service]] = {}
    for service in model.services:
        groups.setdefault(_shape(service), []).append(service)
    yield from groups.values()


def per_service(model: Model, makers: Sequence[PerService],
                forget: Callable[[Model], None]) -> dict[str, str | Stamped]:
    """Every service's own files from `makers`, stamped per shape where that is proven exact (a Stamped, whose
    text() is the file). `forget` drops what the generators kept for the stand-in's model."""
    out: dict[str, str | Stamped] = {}
    taken = {s.name for s in model.services} | {r.name for r in model.receivers} | {model.project}
    for members in _shapes(model):
        first = members[0]
        stand_in = _stand_in(first.name, taken) if len(members) >= MIN_MEMBERS else None
        stamp: dict[str, str] | None = None
        if stand_in is not None:
            proto = renamed(first, first.name, stand_in)
            proto_model = dataclasses.replace(model, services=(*model.services, proto))
            stamp = _one(proto_model, proto, makers)
            forget(proto_model)
            if any(stand_in in s for s in (model.source, model.project)):
                stamp = None
        full = {m.name: _one(model, m, makers) for m in members[:_VERIFIED]} if stamp is not None else {}
        if stamp is None or any(_stamped(stamp, stand_in or "", name) != files for name, files in full.items()):
            for m in members:
                out.update(full.get(m.name) or _one(model, m, makers))
            continue
        for m in members:
            out.update(full.get(m.name) or _lazy(stamp, stand_in or "", m.name))
    return out


class Tree(Mapping[str, str]):
    """A rendered tree, in path order: text for most files, a Stamped for a stamped member's, made when read."""

    def __init__(self, files: dict[str, str | Stamped]) -> None:
        self._files = dict(sorted(files.items()))

    def __getitem__(self, path: str) -> str:
        value = self._files[path]
        return value if type(value) is str else cast(Stamped, value).text()

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)
