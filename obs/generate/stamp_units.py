"""Every service's own files from its frame and its units, each stamped per shape of its own (obs.generate.units,
obs.generate.stamp), in the steps of stamp.Stamping so that render() maps the renders of all over two processes.

The frames are stamped per shape of service, as the services' whole files were; the units per shape of SLO, in
models of one SLO per service (units.slot_models()), the SLOs of one name in one model where they can be.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from obs.generate import units
from obs.generate.common import Maker
from obs.generate.stamp import Full, Stamping
from obs.generate.stamp_tree import Composed, Made, Piece
from obs.generate.units import Part


class Stampings:
    """A Stamping of the frames and one of the units of each slot model: jobs(), then(done) and files(full) as
    one."""

    def __init__(self, services: Stamping, frames: Sequence[Maker], unit: Sequence[Maker]) -> None:
        """`services`: the model's services' Stamping, whose shapes the frames take (its makers become `frames`).
        The units' Stampings share its Renamer and Blanks: an SLO's key, made for its service's frame, is its
        unit's too."""
        self.model = services.model
        self.frames = services
        self.frames.makers = frames
        self.units = [Stamping(m, unit, services.forget, services.rename, services.blanks)
                      for m in units.slot_models(self.model)]

    @property
    def all(self) -> list[Stamping]:
        return [self.frames, *self.units]

    @property
    def shapes(self) -> tuple[int, int]:
        """How many shapes of service (the frames') and of SLO (the units') the model makes."""
        return self.frames.shapes, sum(s.shapes for s in self.units)

    def jobs(self) -> list[Callable[[], dict[str, str] | None]]:
        return [job for stamping in self.all for job in stamping.jobs()]

    def then(self, done: Sequence[dict[str, str] | None]) -> list[dict[str, dict[str, str]]]:
        out, at = [], 0
        for stamping in self.all:   # each one's results, in the order of jobs()
            count = len(stamping.jobs())
            out.append(stamping.then(done[at:at + count]))
            at += count
        return out

    def made(self, done: Sequence[dict[str, str] | None]) -> dict[str, Made]:
        """Every service's files, from the jobs' results in their order."""
        return self.files(self.then(done))

    def files(self, full: Sequence[Full]) -> dict[str, Made]:
        """Each service's files: its frame's, each composed with its SLOs' parts, and its units' own."""
        parts: dict[str, Piece] = {}
        for stamping, members in zip(self.units, full[1:], strict=True):
            parts.update(cast("dict[str, Piece]", stamping.files(members)))
        out: dict[str, Made] = {}
        for service, frames in self.frames.members(full[0]):
            of: dict[Part, list[Piece]] = {}   # each part, its SLOs' in their order
            for part in Part:
                for slo in service.slos:
                    piece = parts.pop(units.part_path(service.name, slo.name, part), None)
                    if piece is not None:
                        of.setdefault(part, []).append(piece)
            for path, frame in frames.items():   # a frame holds no Composed
                out[path] = Composed(cast(Piece, frame), of, service.name) if of else frame
        for path, piece in parts.items():
            if units.is_part(path):
                raise AssertionError(f"a part of no service's file: {path}")
            out[path] = piece
        return out
