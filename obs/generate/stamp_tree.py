"""A rendered tree whose files are made when read (obs.generate.stamp): a stamped member's from its shape's text
(Stamped), a member rendered in full file by file (Deferred), a file of a service's frame and its SLOs' parts
(Composed: obs.generate.units), the rest as text.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import cast

from obs.generate.common import Later
from obs.generate.stamp_fill import Stamped
from obs.generate.units import Part, compose
from obs.model.domain import Model


class LastMade:
    """The member whose Deferred file was made last, of one Stamping's: per_model may still hold its parts."""

    __slots__ = ("member",)

    def __init__(self) -> None:
        self.member: str | None = None


class Deferred:
    """A file of a member rendered in full, made when read. What its making keeps for the model (per_model: the
    service's rule groups, which its rules, their tests, its PrometheusRule and the rulers' copies all read) is kept
    until a file of another member is made, and dropped then: reading every file keeps no more than one member's
    parts, and a member's files read one after another (Tree.units()) build them once."""

    __slots__ = ("make", "model", "forget", "owner", "last")

    def __init__(self, make: Later, model: Model, forget: Callable[[Model], None], owner: str,
                 last: LastMade) -> None:
        self.make, self.model, self.forget, self.owner, self.last = make, model, forget, owner, last

    def text(self) -> str:
        if self.last.member != self.owner:
            self.forget(self.model)
            self.last.member = self.owner
        return self.make()


Piece = str | Stamped | Deferred


def _text(piece: Piece) -> str:
    return piece if type(piece) is str else cast("Stamped | Deferred", piece).text()


class Composed:
    """A service's file that holds each SLO's part (obs.generate.units), made when read: its frame's text with the
    parts of its SLOs, each stamped or rendered in full on its own (only those of the marks the frame holds)."""

    __slots__ = ("frame", "parts", "owner")

    def __init__(self, frame: Piece, parts: dict[Part, list[Piece]], owner: str) -> None:
        self.frame, self.parts, self.owner = frame, parts, owner

    def text(self) -> str:
        return compose(_text(self.frame), lambda part: map(_text, self.parts.get(part, ())))

    def key(self) -> tuple[object, ...] | None:
        """Alike for two files whose frames and parts are each stamped from the same text, with the same
        thresholds: one is the other with the service's words changed (Tree.alike()). None where any is not
        stamped."""
        pieces = [self.frame, *(p for part in Part for p in self.parts.get(part, ()))]
        if any(type(p) is not Stamped for p in pieces):
            return None
        return tuple((id(cast(Stamped, p).template), cast(Stamped, p).numbers) for p in pieces)


Made = str | Stamped | Deferred | Composed


class Tree(Mapping[str, str]):
    """A rendered tree, in path order: text for most files, a Stamped for a stamped member's, made when read."""

    def __init__(self, files: dict[str, Made]) -> None:
        self._files = dict(sorted(files.items()))

    def __getitem__(self, path: str) -> str:
        value = self._files[path]
        return value if type(value) is str else cast("Stamped | Deferred | Composed", value).text()

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def units(self) -> list[tuple[str, ...]]:
        """Every path once, in groups best made one after another in one process: each service's files made of
        pieces rendered in full (Deferred) or of its SLOs' parts (Composed), since the parts of one SLO share its
        rule groups; every other file alone. In path order of each group's first."""
        units: list[tuple[str, ...] | list[str]] = []
        members: dict[str, list[str]] = {}
        for path, value in self._files.items():
            if type(value) is Deferred or type(value) is Composed:
                owner = value.owner
                if (files := members.get(owner)) is None:
                    files = members[owner] = []
                    units.append(files)
                files.append(path)
            else:
                units.append((path,))
        return [tuple(unit) for unit in units]

    def alike(self) -> dict[str, str]:
        """Each stamped file, by path, with the first (in path order) stamped from the same text and written with
        the same thresholds: its shape's for the same generator, so the two are that text with other names (a
        threshold is not a name: what a test computes at it may differ); a composed file whose frame and parts are
        each so (Composed.key()). A file rendered in full is in neither."""
        first: dict[object, str] = {}
        out: dict[str, str] = {}
        for path, value in self._files.items():
            key = ((id(value.template), value.numbers) if type(value) is Stamped
                   else value.key() if type(value) is Composed else None)
            if key is not None:
                out[path] = first.setdefault(key, path)
        return out

    def __len__(self) -> int:
        return len(self._files)
