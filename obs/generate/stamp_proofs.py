"""The proofs of a stamp (obs.generate.stamp): which renders in full prove a shape's stamp exact for its members.

A Stand is what a member's files differ by from another's of its shape: its words and its native thresholds. A
generator reads a word's length, or a threshold, only against a limit (a name cut and hashed past 63 characters, a
pad up to a width, a bucket's bound), so what holds at the lowest and the highest of a measure holds between them;
and it may read a word's skeleton (`a-a`, `a-a-a`), which no limit orders, so each is proven by a render of its own.
lead() picks the member whose lengths the stamp's stand-ins take, probes() the fewest renders that, with the stamp,
reach every shortest and longest measure and every skeleton: members, or stand-ins like the shortest or the longest
words where no one member holds as many (extremes()).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import combinations
from typing import NamedTuple

# Members rendered to prove a stamp, at least: one proof that holds shows the stamp's stand-ins whole (a stand-in
# cut, padded or hashed at the stamp's lengths would be in every text made from it, and in no render), and so proves
# the stamp's lengths as well as its own; it is a member's, since stand-ins alone could pass where a generator reads
# what real words hold and stand-ins do not.
VERIFIED = 1
# Words a YAML reader could take for something else, quoted where a stand-in is not: a name, a team or a text of
# these is never stood in for (obs.generate.stamp, obs.generate.stamp_texts).
RESERVED = frozenset("y n yes no on off true false null".split())


@lru_cache(maxsize=1 << 14)   # of each member's words, read again by each proof search of its shape
def skeleton(word: str) -> str:
    """Each run of lowercase letters, of capitals, of digits as one mark; every other character as it is:
    `payments-api` and `ads-worker` are `a-a`, `ads-api-eu` is `a-a-a`, `api-v2` is `a-a9`."""
    return re.sub(r"[0-9]+", "9", re.sub(r"[A-Z]+", "A", re.sub(r"[a-z]+", "a", word)))


def _lengths(words: tuple[str, ...]) -> tuple[int, ...]:
    """What a generator's limits may read of a service's words: each one's length, and with two, their total (a
    text holding both, cut at a limit, is cut by the sum)."""
    lengths = tuple(len(w) for w in words)
    return lengths if len(lengths) == 1 else (*lengths, sum(lengths))


class Stand(NamedTuple):
    """What a service's own files differ by from another's of its shape: its words (its name, and its team where it
    has its own), and its native latency thresholds in milliseconds (obs.generate.stamp_thresholds); a member's, or
    the stand-ins'."""

    words: tuple[str, ...]
    numbers: tuple[int, ...] = ()

    @property
    def measures(self) -> tuple[int, ...]:
        """What a generator's limits may read: the words' _lengths(), and each threshold. Where the proofs below
        reach a shape's "shortest and longest lengths", these are the measures: a threshold's lowest and highest."""
        return (*_lengths(self.words), *self.numbers)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Each word's skeleton, which members of a shape may differ in (obs.generate.stamp._family()): a generator
        may read one otherwise than another (as many parts, a region at the end), so each is proven apart, as no
        limit orders them."""
        return tuple(map(skeleton, self.words))


def extremes(stands: Sequence[Stand]) -> tuple[Stand, Stand]:
    """The shortest of each word among the members (`stands`, theirs) and the lowest of each threshold, and the
    longest and the highest (the first of equals): stand-ins that prove those measures are made from them. Members of
    a shape have as many words, of one family each, and as many thresholds, of one class each and in one order (so
    the lowest of each are in that order too)."""
    at, numbered = range(len(stands[0].words)), range(len(stands[0].numbers))
    return (Stand(tuple(min((s.words[i] for s in stands), key=len) for i in at),
                  tuple(min(s.numbers[i] for s in stands) for i in numbered)),
            Stand(tuple(max((s.words[i] for s in stands), key=len) for i in at),
                  tuple(max(s.numbers[i] for s in stands) for i in numbered)))


# By measure (its index), which of its shortest (False) and longest (True) a render reaches; by word (-1 less its
# index), its skeleton.
Reach = frozenset[tuple[int, object]]


def _reach(stands: Sequence[Stand]) -> tuple[Callable[[Stand], Reach], Reach]:
    """Which of the shortest and the longest of each measure among the members (`stands`, theirs) a render of
    some words and thresholds reaches, and the skeletons of its words; and all of those that members hold, which
    the proofs must reach together."""
    lengths = [s.measures for s in stands]
    measures = range(len(lengths[0]))
    low = [min(ns[i] for ns in lengths) for i in measures]
    high = [max(ns[i] for ns in lengths) for i in measures]

    def reach(stand: Stand) -> Reach:
        ns = stand.measures
        return frozenset([*((i, False) for i in measures if ns[i] <= low[i]),
                          *((i, True) for i in measures if ns[i] >= high[i]),
                          *((-1 - k, kind) for k, kind in enumerate(stand.kinds))])
    return reach, frozenset().union(*map(reach, stands))


def _cover(missing: Reach, options: Sequence[Reach], members: int) -> tuple[int, ...]:
    """The fewest of `options` (by index: members' reaches, then from `members` on, stand-ins') that together reach
    all of `missing`: of equals, those with the fewest stand-ins (a member's render is its own files, stand-ins' are
    proof only), then the first. A member that reaches no more than another member is left out, so that the search
    stays small (what is missing is six, and the skeletons but the stamp's: a handful)."""
    useful: dict[Reach, int] = {}
    for j, r in enumerate(options):
        if (r := r & missing) and r not in useful:
            useful[r] = j
    kept = [j for r, j in useful.items()
            if j >= members or not any(r < other and k < members for other, k in useful.items())]
    for size in range(len(missing) + 1):
        found = [c for c in combinations(kept, size) if missing <= frozenset().union(*(options[j] for j in c))]
        if found:
            return min(found, key=lambda c: (sum(j >= members for j in c), c))
    raise AssertionError("every shortest and longest length is some member's")


def lead(stands: Sequence[Stand], extremes: Sequence[Stand]) -> int:
    """The member whose lengths the stamp's stand-ins take: one whose lengths leave the fewest proofs to render (of
    the members, and of stand-ins like `extremes`) to reach every shortest and longest length and skeleton, VERIFIED
    members at least (itself, where none is needed), then the fewest stand-ins; of equals, the one of the longest
    words (the stamp's stand-ins are then long, and a long word is found faster in the text it is replaced in), then
    the first."""
    reach, every = _reach(stands)
    options = [*map(reach, stands), *map(reach, extremes)]
    costs: dict[Reach, tuple[int, int]] = {}

    def cost(j: int) -> tuple[int, ...]:
        if options[j] not in costs:
            others = _cover(every - options[j], options, len(stands))
            added = max(0, VERIFIED - sum(k < len(stands) for k in others))   # the lead itself, then
            costs[options[j]] = (len(others) + added, sum(k >= len(stands) for k in others))
        return *costs[options[j]], -sum(map(len, stands[j].words)), j
    return min(range(len(stands)), key=cost)


def probes(stands: Sequence[Stand], lead: int, stamp: Stand,
            extremes: Sequence[Stand]) -> tuple[list[int], list[int]]:
    """The members (by index) a shape's proof renders in full, and which of the stand-ins `extremes` (the shortest,
    the longest) are rendered too: the fewest that reach what the stamp's stand-ins (`stamp`) do not of every
    member's shortest and longest of each measure (Stand.measures) and skeleton of each word (Stand.kinds,
    _cover()); and the lead (lead()) where no member is among them, since VERIFIED members at least are
    rendered."""
    reach, every = _reach(stands)
    others = _cover(every - reach(stamp), [*map(reach, stands), *map(reach, extremes)], len(stands))
    chosen = [j for j in others if j < len(stands)]
    taken = [j - len(stands) for j in others if j >= len(stands)]
    if len(chosen) < VERIFIED:
        chosen.append(lead)
    return chosen, taken
