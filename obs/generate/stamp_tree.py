"""A rendered tree whose files are made when read (obs.generate.stamp): a stamped member's from its shape's text
(Stamped), a member rendered in full file by file (Deferred), the rest as text.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import cast

from obs.generate.common import Later
from obs.generate.stamp_fill import Stamped
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


Made = str | Stamped | Deferred


class Tree(Mapping[str, str]):
    """A rendered tree, in path order: text for most files, a Stamped for a stamped member's, made when read."""

    def __init__(self, files: dict[str, Made]) -> None:
        self._files = dict(sorted(files.items()))

    def __getitem__(self, path: str) -> str:
        value = self._files[path]
        return value if type(value) is str else cast("Stamped | Deferred", value).text()

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def units(self) -> list[tuple[str, ...]]:
        """Every path once, in groups best made one after another in one process: each member rendered in full
        (Deferred) with all its files, since they share its rule groups; every other file alone. In path order of
        each group's first."""
        units: list[tuple[str, ...] | list[str]] = []
        members: dict[str, list[str]] = {}
        for path, value in self._files.items():
            if type(value) is Deferred:
                if (files := members.get(value.owner)) is None:
                    files = members[value.owner] = []
                    units.append(files)
                files.append(path)
            else:
                units.append((path,))
        return [tuple(unit) for unit in units]

    def alike(self) -> dict[str, str]:
        """Each stamped file, by path, with the first (in path order) stamped from the same text and written with
        the same thresholds: its shape's for the same generator, so the two are that text with other names (a
        threshold is not a name: what a test computes at it may differ). A file rendered in full is in neither."""
        first: dict[tuple[int, tuple[tuple[str, str], ...]], str] = {}
        return {path: first.setdefault((id(value.template), value.numbers), path)
                for path, value in self._files.items() if type(value) is Stamped}

    def __len__(self) -> int:
        return len(self._files)
