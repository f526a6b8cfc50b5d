"""Native latency thresholds, stood in for like a service's words when its files are stamped (obs.generate.stamp).

Services written from one template often differ in a latency threshold as well as in their names: a thousand
services with a thousand thresholds were a thousand shapes, each rendered in full. A native histogram reads any
threshold, and generators read one in three ways only:
- written out: in seconds (`0.101`, by `{:g}` and by obs.model.build.le_label, `1` and `1.0` for a whole second)
  and in milliseconds (`101`, `101.0`), each a number standing alone in the text;
- through the schema-0 buckets wholly under and over it (obs.generate.slo.series.threshold_buckets), which the
  test series fill;
- whether it is one of OTel's default boundaries (a classic instance beside it is then read at it).
So a shape keeps of each such threshold its class (its buckets, the skeleton of its written seconds, and where it
stands among the service's others), the stamp is rendered at a stand-in threshold of that class, and a member's
files are the stamp with the stand-in's numbers written as the member's. The proofs of obs.generate.stamp judge it
byte for byte, and take each threshold as one more measure, like a word's length: a generator that reads it
against a limit (as the buckets do) would fail at the lowest or the highest threshold of the shape if the limit fell
between them. A threshold that is a default boundary, or alone in its class (a power of two: 125ms, 2s), is left as
it is, a part of the shape; one that every member of a shape shares is its own stand-in, and nothing is renumbered.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from functools import lru_cache
from itertools import islice
from typing import cast

from obs.generate.slo.series import threshold_buckets
from obs.model import conventions as c
from obs.model.build import le_label
from obs.model.domain import SLO, Histogram, Service
from obs.model.durations import Duration
from obs.model.kinds import SliKind

Pairs = tuple[tuple[str, str], ...]   # (the stand-in's number, the member's), as written
_NUMERIC = frozenset("0123456789.")
# How many values of a class are looked at for a stand-in (a class of long thresholds holds thousands), and how
# many without a round digit are enough: a shape's stand-ins need one each, none of its members' own.
_LOOKED_AT = 400
_ENOUGH = 24
# Digits a stand-in's numbers avoid: 7 is what a word's stand-in holds for a digit (obs.generate.stamp), so that
# neither renames the other; 0 and 5 end the round numbers counts and rates are made of, which a stand-in's number
# standing alone in a test's series would be taken for (the proofs would catch it, and render the shape in full).
_AVOIDED = ("7", "05")


def _skeleton(text: str) -> str:
    return re.sub(r"[0-9]+", "9", text)


def forms(ms: int) -> tuple[str, ...]:
    """A threshold as generators write it: seconds by `{:g}` and by le_label, milliseconds bare and by le_label."""
    return f"{ms / 1000:g}", le_label(ms / 1000), str(ms), le_label(ms)


@lru_cache(maxsize=4096)
def _class(ms: int) -> tuple[object, ...]:
    """What of a threshold a generator may see besides its written forms: its schema-0 buckets, the skeleton of its
    written seconds (`0.101` and `1.5` share one, `2` has another), and whether it is a default boundary."""
    seconds = forms(ms)[:2]
    return threshold_buckets(ms / 1000), tuple(map(_skeleton, seconds)), ms / 1000 in c.OTEL_HTTP_BUCKETS


@lru_cache(maxsize=256)
def _candidates(kind: tuple[object, ...]) -> tuple[int, ...]:
    """Thresholds of the class `kind` (_class()) that no digit of a word's stand-in is in (_AVOIDED), from the
    class's lowest, of the first _LOOKED_AT: those without a round digit first (_ENOUGH at most, then the search
    ends); () for a class of one."""
    (low, high), (seconds, _), _ = cast("tuple[tuple[int, int], tuple[str, str], bool]", kind)
    if low == high - 1:   # a power of two: its own class
        return ()
    # Whole seconds (a skeleton without a point) are a thousand milliseconds apart.
    step = 1 if "." in seconds else 1000
    start, end = max(1, int(1000 * 2.0 ** low)), int(1000 * 2.0 ** (low + 1)) + 1
    plain: list[int] = []
    round_: list[int] = []
    for n in islice(range(start - start % step, end + 1, step), _LOOKED_AT):
        if _class(n) == kind and not any(_AVOIDED[0] in f for f in forms(n)):
            (round_ if any(d in str(n) for d in _AVOIDED[1]) else plain).append(n)
            if len(plain) >= _ENOUGH:
                break
    return (*plain, *round_)


def _stood(slo: SLO) -> bool:
    """Whether the SLO's threshold is stood in for: a native latency threshold of a class of more than itself."""
    sli = slo.sli
    return (sli.kind is SliKind.LATENCY and sli.histogram is Histogram.NATIVE and sli.threshold is not None
            and _stood_ms(sli.threshold.ms))


@lru_cache(maxsize=4096)
def _stood_ms(ms: int) -> bool:
    kind = _class(ms)
    return not kind[2] and any(n != ms for n in _candidates(kind))


def numbers(service: Service) -> tuple[int, ...]:
    """The service's thresholds stood in for, in milliseconds, in the order of its SLOs."""
    return tuple(_ms(slo) for slo in service.slos if _stood(slo))


def _ms(slo: SLO) -> int:
    assert slo.sli.threshold is not None
    return slo.sli.threshold.ms


def with_numbers(service: Service, values: tuple[int, ...]) -> Service:
    """`service` with the thresholds numbers() gives replaced by `values`, in order, as the model would hold them."""
    if not values:
        return service
    given: Iterator[int] = iter(values)
    return dataclasses.replace(service, slos=tuple(_at(slo, next(given)) if _stood(slo) else slo
                                                   for slo in service.slos))


def _at(slo: SLO, ms: int) -> SLO:
    return dataclasses.replace(slo, sli=dataclasses.replace(slo.sli, threshold=Duration(ms),
                                                            threshold_le=le_label(ms / 1000)))


class Blanks:
    """Services with every threshold numbers() gives at 0, what a shape keys them by (their classes are in
    pattern()): each SLO is blanked once, since a service's SLOs are keyed for its frame and again for their units
    (obs.generate.units), and objects keyed before key at once (stamp_fill.Renamer.key())."""

    def __init__(self) -> None:
        self._slos: dict[int, tuple[SLO, SLO]] = {}   # by the SLO's identity: it and its blank, kept alive

    def __call__(self, service: Service) -> Service:
        if not any(_stood(slo) for slo in service.slos):
            return service
        return dataclasses.replace(service, slos=tuple(self._blank(slo) if _stood(slo) else slo
                                                       for slo in service.slos))

    def _blank(self, slo: SLO) -> SLO:
        kept = self._slos.get(id(slo))
        if kept is None or kept[0] is not slo:
            kept = self._slos[id(slo)] = slo, _at(slo, 0)
        return kept[1]


def pattern(values: tuple[int, ...]) -> tuple[object, ...]:
    """What a shape keeps of a service's thresholds: each one's class, and their order (equals alike)."""
    order = sorted(set(values))
    return tuple(_class(v) for v in values), tuple(order.index(v) for v in values)


def stand_ins(values: tuple[int, ...], taken: AbstractSet[int]) -> tuple[int, ...] | None:
    """A threshold of each one's class for each of `values`, in the same order among them, none of `taken` (the
    members' own: a member's proof must write a number unlike the stamp's, or a number of the stamp's that is not
    the threshold, renamed with it, would go unseen); None where a class has no other."""
    chosen: dict[int, int] = {}
    below = 0
    for v in sorted(set(values)):
        pick = next((n for n in _candidates(_class(v)) if n > below and n not in taken), None)
        if pick is None:
            return None
        chosen[v] = below = pick
    return tuple(chosen[v] for v in values)


def pairs(stand_in: tuple[int, ...], member: tuple[int, ...]) -> Pairs | None:
    """(the stand-in's number, the member's) for every form of every threshold; None where one number of the
    stand-in's would be written as two of the member's; () for a member whose thresholds are the stand-ins' own."""
    if stand_in == member:
        return ()
    out: dict[str, str] = {}
    for old, new in zip(stand_in, member, strict=True):
        for before, after in zip(forms(old), forms(new), strict=True):
            if out.setdefault(before, after) != after:
                return None
    return tuple(out.items())


def spots(text: str, olds: tuple[str, ...]) -> dict[int, tuple[int, str]]:
    """Where each number of `olds` stands alone in `text`: its start, and its end and the number."""
    known = frozenset(olds)
    hits: dict[int, tuple[int, str]] = {}
    size = len(text)
    for needle in _needles(olds):
        at = text.find(needle)
        while at >= 0:
            # The number standing where it is found: the run of digits and points around it, less a point that
            # ends it (`101.` ends a sentence).
            start, end = at, at + len(needle)
            while start and text[start - 1] in _NUMERIC:
                start -= 1
            while end < size and text[end] in _NUMERIC:
                end += 1
            run_end = end
            while text[end - 1] == ".":
                end -= 1
            if (number := text[start:end]) in known:
                hits[start] = (end, number)
            at = text.find(needle, run_end)
    return hits


@lru_cache(maxsize=256)
def _needles(olds: tuple[str, ...]) -> tuple[str, ...]:
    """The fewest of `olds` that every one holds one of (`101` is in `0.101` and `101.0`): each text is searched
    once per needle, not once per number."""
    needles: list[str] = []
    for old in sorted(olds, key=len):
        if not any(n in old for n in needles):
            needles.append(old)
    return tuple(needles)
