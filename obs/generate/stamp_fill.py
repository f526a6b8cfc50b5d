"""A stamp's text made a member's (obs.generate.stamp): the words renamed in a model, and a text cut at each word.

Renamer makes the stand-ins' service from the lead member's, every string it holds with each word replaced.
spellings() lists each word as the files write it (a name's snake_case, a text as YAML's double quotes and JSON
escape it), the longer first. cut() cuts a stamp's text at each stand-in word and number once, so that a member's
file (a Stamped, made when read) is its pieces joined with the member's own in one pass.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import Enum
from operator import itemgetter
from typing import Any, NamedTuple, cast

from obs.generate import stamp_thresholds as thresholds

Pairs = tuple[tuple[str, str], ...]   # (old, new), applied in order
_OPAQUE = (Enum, int, float, Decimal)   # values that hold no text (bool is an int)
_CONTAINER = object()


class Renamer:
    """Replaces words in every string a frozen dataclass holds. Whether an object holds any string at all is
    remembered by identity (the model is alive meanwhile), so durations, tiers and numbers are looked at once."""

    def __init__(self) -> None:
        self._fields: dict[type, tuple[str, ...]] = {}
        self._has_text: dict[int, bool] = {}
        self._leaves: dict[type, object] = {}   # per type: True (text), False (none), or _CONTAINER (look inside)
        # What _has_text remembers by identity, kept alive meanwhile: a short-lived object (a shape's key is made of
        # services with their thresholds blanked) freed and its identity taken by another would be misread.
        self._kept: list[Any] = []
        self._keys: dict[tuple[int, Pairs], Any] = {}

    def fields(self, kind: type) -> tuple[str, ...]:
        names = self._fields.get(kind)
        if names is None:
            names = self._fields[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.init)
        return names

    def has_text(self, value: Any) -> bool:
        kind = type(value)
        leaf = self._leaves.get(kind)
        if leaf is None:
            leaf = self._leaves[kind] = (True if kind is str else False if issubclass(kind, _OPAQUE) or value is None
                                         else _CONTAINER)
        if leaf is not _CONTAINER:
            return leaf is True
        known = self._has_text.get(id(value))
        if known is None:
            if type(value) is tuple:
                known = any(self.has_text(v) for v in value)
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                known = any(self.has_text(getattr(value, f)) for f in self.fields(type(value)))
            else:
                known = False
            self._has_text[id(value)] = known
            self._kept.append(value)
        return known

    def key(self, value: Any, pairs: Pairs) -> Any:
        """What __call__ would make of `value`, as nested tuples: as exact a key, without building objects."""
        kind = type(value)
        if kind is str:
            return replaced(value, pairs)
        if not self.has_text(value):
            return value
        if kind is tuple:
            return tuple(self.key(v, pairs) for v in value)
        # An SLO is keyed for its service's frame and again for its unit (obs.generate.units), with the same words:
        # each object's key is made once (has_text() keeps the object alive, so its identity is not taken).
        made = self._keys.get((id(value), pairs))
        if made is None:
            made = self._keys[id(value), pairs] = kind, tuple(self.key(getattr(value, f), pairs)
                                                              for f in self.fields(kind))
        return made

    def __call__(self, value: Any, pairs: Pairs) -> Any:
        """`value` with each old word replaced by its new one; what changes nothing is returned as it is."""
        kind = type(value)
        if kind is str:
            return replaced(value, pairs)
        if not self.has_text(value):
            return value
        if kind is tuple:
            items = tuple(self(v, pairs) for v in value)
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        names = self.fields(kind)
        changes = {f: self(getattr(value, f), pairs) for f in names}
        if all(changes[f] is getattr(value, f) for f in names):
            return value
        return kind(**changes)


def renamed(value: Any, old: str, new: str) -> Any:
    """`value` with `old` replaced by `new` in every string it holds."""
    return Renamer()(value, ((old, new),))


def spellings(old: tuple[str, ...], new: tuple[str, ...]) -> Pairs:
    """(old word, new word) for each word, and for a name with dashes its snake_case spelling too, as metric and
    label names spell it (`payments_api_jobs_total`); the longer first."""
    pairs = list(zip(old, new, strict=True))
    if "-" in old[0]:
        pairs.append((old[0].replace("-", "_"), new[0].replace("-", "_")))
    # A text with a quote or a backslash (obs.generate.stamp_texts) is written escaped inside YAML's double quotes and
    # JSON strings: that spelling too. A word's stand-in has its marks, so it is escaped alike.
    pairs += [(spelt, escaped(n)) for o, n in zip(old, new, strict=True) if (spelt := escaped(o)) != o]
    # The longer word first: a team named inside the service's name must not cut the name apart.
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@functools.lru_cache(maxsize=1 << 14)   # of each service's words, read for every key and stamp of its shape
def escaped(word: str) -> str:
    """`word` as YAML's double quotes and JSON write it, without the quotes."""
    return json.dumps(word, ensure_ascii=False)[1:-1]


class Stamped:
    """A member's file, made from its shape's text when read: the tree of a thousand services is not held in
    memory at once, since the writer reads each file, hashes it and lets it go. It is the text's cut() filled
    with the member's words and numbers (`fill`); `numbers` are the member's where the text holds the stand-ins'."""

    __slots__ = ("template", "numbers", "form", "fill")

    def __init__(self, template: str, numbers: thresholds.Pairs, form: Form, fill: tuple[str, ...]) -> None:
        self.template, self.numbers, self.form, self.fill = template, numbers, form, fill

    def text(self) -> str:
        pieces, words = self.form
        if not words:
            return pieces[0]
        made = pieces.copy()
        made[1::2] = words(self.fill)
        return "".join(made)


def replaced(text: str, pairs: Pairs) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


class Form(NamedTuple):
    """A stamp's text cut at each stand-in word and number (text, cut, text, ...), and what takes from a member's
    words and numbers (the fill of obs.generate.stamp's _Shape.made(): its words in the order of Stamping's pairs, then
    its numbers in the order of the stand-ins') those to put in the cuts, in order (None: there are none)."""

    pieces: list[str]
    words: Callable[[tuple[str, ...]], Sequence[str]] | None


def cut(text: str, pairs: Pairs, numbers: tuple[str, ...]) -> Form:
    """`text` cut at each old word of `pairs` (the longer first, as they were replaced) and at each of the stand-in
    thresholds' `numbers` that stands alone (thresholds.spots()): a member's text is then joined in one pass, where
    each replace scanned and copied the whole text (a quarter of a write at a thousand services). No old word holds
    another or a number (a stand-in's digits are 7s, which no stand-in number holds), and none is in a member's word
    (obs.generate.stamp's _back())."""
    # The numbers first, where they stand alone; then each word, in the order the words were replaced, split out of
    # what is left (str.split: a regex of the words was slower than the rest of the stamping's set-up).
    slot_of = {number: len(pairs) + i for i, number in enumerate(numbers)}
    pieces: list[str] = []
    which: list[int] = []
    last = 0
    for start, (end, number) in sorted(thresholds.spots(text, numbers).items()) if numbers else ():
        pieces += (text[last:start], "")   # the cut, filled when a member's text is made
        which.append(slot_of[number])
        last = end
    pieces.append(text[last:])
    for slot, (old, _) in enumerate(pairs):
        if old not in text:   # most files hold one spelling of the name (snake_case is in metric names only)
            continue
        cut_pieces: list[str] = []
        cut_which: list[int] = []
        for k, piece in enumerate(pieces[::2]):   # the texts between the cuts so far, each followed by its cut
            parts = piece.split(old)
            for part in parts[:-1]:
                cut_pieces += (part, "")
                cut_which.append(slot)
            cut_pieces.append(parts[-1])
            if k < len(which):
                cut_pieces.append("")
                cut_which.append(which[k])
        pieces, which = cut_pieces, cut_which
    if not which:
        return Form(pieces, None)
    if len(which) == 1:   # itemgetter of one index gives the item, not a sequence of it
        at = which[0]

        def one(words: tuple[str, ...]) -> Sequence[str]:
            return (words[at],)
        return Form(pieces, one)
    return Form(pieces, cast("Callable[[tuple[str, ...]], Sequence[str]]", itemgetter(*which)))
