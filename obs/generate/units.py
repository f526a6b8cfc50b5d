"""A service's own files as its frame and a unit per SLO, each stamped on its own (obs.generate.stamp_units).

Services written by a script that draws each SLO's settings at random rarely share a shape: an objective of four
values, a threshold of five, a window of three, for each of three SLOs, make most services a shape of their own,
rendered in full. Their SLOs, taken one at a time, share shapes. So a service's files are made of two kinds of
piece, each stamped per shape of its own (obs.generate.stamp):
- its frame, made from the service: the files that hold no SLO's part (its SDK settings), and those that hold every
  SLO's part, with a mark where those parts go (marked(): the rule files, the rulers', the PrometheusRule, the
  promtool suite, whose no-data test and evaluation order name every SLO);
- a unit per SLO, made from the service with that SLO alone (alone()): that SLO's part of each such file, and its
  own files (its OpenSLO document).
render() stamps them so where stamping services whole would render many in full (obs.generate.UNITS_FROM).
compose() writes each SLO's part at its mark, in the service's order of SLOs. A part is the block text of its items
(yaml_dump.Shared), and a list's block is its items' one after the other, so a file is byte for byte the one dumped
whole; whole() makes a service's files that way without stamping, and every generator's files() is whole().

A unit reads of its service nothing but that SLO and what is not an SLO: what one SLO's part reads of the others
(whether another has the same kind of SLI) is worked out with the model (SLO.kind_shared), so it is part of the
SLO, and of the unit's shape. tests/generate/test_units.py holds every unit to this.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from functools import partial

from obs.emit.yaml_dump import Shared
from obs.generate.common import Later, Maker
from obs.model.domain import SLO, Model, Service


class Part(Enum):
    """An SLO's part of one of its service's files."""

    RULES = "rules"               # alerts/<service>.rules.yml
    CORTEX = "cortex"             # the Mimir and Cortex rulers' file: the same groups
    THANOS = "thanos"             # the Thanos Ruler's file: each group with its partial_response_strategy
    KUBERNETES = "kubernetes"     # the PrometheusRule: each alert with the objects' namespace
    TESTS = "tests"               # the promtool suite's test groups
    NOTES = "notes"               # the promtool suite's header: what its tests leave out and why


# Under this folder a unit's parts are named while they are stamped; no file is written there.
PARTS_DIR = ".units"


def mark(part: Part) -> str:
    """What a frame holds where `part` goes: a NUL, which the dumper always escapes, is never in a file's text."""
    return f"\0{part.value}\0"


def marked(part: Part, indent: str) -> Shared:
    """The list a frame holds in place of its SLOs' parts, whose block at `indent` is the mark."""
    return Shared.written(mark(part), indent)


def part_path(service: str, slo: str, part: Part) -> str:
    return f"{PARTS_DIR}/{service}/{slo}.{part.value}"


def is_part(path: str) -> bool:
    return path.startswith(PARTS_DIR + "/")


def alone(service: Service, slo: SLO) -> Service:
    """The service with one of its SLOs: the unit of that SLO."""
    return dataclasses.replace(service, slos=(slo,))


_PARTS = {part.value: part for part in Part}


def compose(frame: str, parts: Callable[[Part], Iterable[str]]) -> str:
    """The frame's text with each mark it holds replaced by its SLOs' parts (`parts(part)`, in their order): each
    on a line of its own where the mark's line was (a header's line starts with `# `), none where there are none."""
    at = frame.find("\0")
    if at < 0:
        return frame
    out: list[str] = []
    done = 0
    while at >= 0:
        end = frame.index("\0", at + 1)
        part = _PARTS[frame[at + 1:end]]
        out.append(frame[done:at - (3 if part is Part.NOTES else 1)])   # the line break (and `# `) before it
        for text in parts(part):
            if text:
                out += ("\n", text)
        done = end + 1
        at = frame.find("\0", done)
    out.append(frame[done:])
    return "".join(out)


def slot_models(model: Model) -> list[Model]:
    """Models of units, whose services each hold one SLO, every SLO of one name in one model: shapes are found
    within a model, and SLOs named alike are mostly of one shape. A model names a service once, so two names that
    share a service go to two models: each name takes the first model none of those it shares a service with has,
    the names most SLOs bear first (a greedy colouring, as few models as a service has SLOs where names recur)."""
    count: Counter[str] = Counter()
    beside: dict[str, set[str]] = {}
    for service in model.services:
        names = [slo.name for slo in service.slos]
        count.update(names)
        for name in names:
            beside.setdefault(name, set()).update(names)
    slot: dict[str, int] = {}
    for name in sorted(count, key=lambda n: (-count[n], n)):
        taken = {slot[other] for other in beside[name] if other in slot}
        slot[name] = next(i for i in range(len(taken) + 1) if i not in taken)
    slots: list[list[Service]] = [[] for _ in range(max(slot.values(), default=-1) + 1)]
    for service in model.services:
        for slo in service.slos:
            slots[slot[slo.name]].append(alone(service, slo))
    return [dataclasses.replace(model, services=tuple(services)) for services in slots]


def whole(model: Model, service: Service, frame: Maker, unit: Maker) -> dict[str, Later]:
    """The service's files made whole here, without stamping: its frame's, each with its SLOs' parts, and its
    units' own files."""
    units = [unit(model, alone(service, slo)) for slo in service.slos]
    out: dict[str, Later] = {path: partial(_whole, make, service, units)
                             for path, make in frame(model, service).items()}
    out.update((path, make) for made in units for path, make in made.items() if not is_part(path))
    return out


def _whole(frame: Later, service: Service, units: Sequence[Mapping[str, Later]]) -> str:
    def parts(part: Part) -> Iterable[str]:
        for slo, made in zip(service.slos, units, strict=True):
            make = made.get(part_path(service.name, slo.name, part))
            if make is not None:
                yield make()
    return compose(frame(), parts)
