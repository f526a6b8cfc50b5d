"""A service's own files, rendered once per shape of service and stamped with each one's name and team.

At a thousand services most of a render is the same work a thousand times: services written from one template differ
only in their words (name and team), and the rules, their tests, the OpenSLO documents, the SDK settings and the
Kubernetes objects of one are those of another with the words changed. So services are grouped by shape (the service
with its words taken out of every string, and each word's family: which marks its skeleton holds, and how YAML and
JSON treat it; without what those files never read, UNREAD, such as its description; `ads-api` and `ads-api-eu` are
of one shape), each shape's files are rendered once for stand-ins, and each member's files are that text with the
stand-ins replaced (joined: obs.generate.stamp_fill.cut()). A native latency threshold is stood in for too, where
others of its class fill the same buckets (obs.generate.stamp_thresholds): a shape keeps its class, and the stamp's
numbers are written as each member's (a Stand is a service's words and thresholds). So are the texts of its SLOs (a
description, a runbook, an annotation) where its shape's members differ in them: each is one more word
(obs.generate.stamp_texts). Where services rarely share a shape, each one's files are a frame and a unit per SLO
(obs.generate.units), and a Stamping stamps the frames, and one the units of each model of one SLO per service.

That is exact only if generation treats the words as opaque text, and a generator may not (a hash of a long name, a
name that reads as YAML's `no`): so a shape is stamped only where its proofs hold byte for byte. The stamp's
stand-ins take the lengths of one member's words (the lead's: obs.generate.stamp_proofs, which holds the search for
the proofs; the one that leaves the fewest proofs to render, of equals the longest), and members rendered in full
(one at least) must equal their stamp. A proof that holds
shows the stand-ins whole in the stamp (one cut, padded or hashed at the stamp's lengths would be in every text made
from it, and in no render), and so proves the stamp's lengths as well as its own; where none holds, the whole shape is
rendered in full. A generator reads a word's length only against a limit (a name cut and hashed past 63
characters, a pad up to a width), and a threshold too (a bucket's bound), so a length or a threshold between two that
pass passes too: what is rendered to prove the stamp reaches the
shape's shortest and longest of each word and of both together, with members, or with stand-ins as short as the
shortest words or as long as the longest where no one member holds as many (each such render reaches every
shortest, or every longest, at once). The proven lengths are the range those that pass span with the stamp's, and a
member outside it is rendered in full. Skeletons (`a-a`, `a-a-a`) have no order for a limit to read, so each of a
shape's is proven by a render of its own (a member's, or stand-ins'), or is the stamp's; a member of a skeleton no
proof that holds has is rendered in full. The stamp's own stand-ins are as long as the lead's words (and a long
stand-in is found faster than a short one in the text it is replaced in). A word standing against other letters
(team `a` in `rate`) is never stood in for, and a shape whose stand-ins a generator refuses (team `rate` makes
`sum(rate(...))` name no function) is rendered in full. Shapes of fewer than MIN_MEMBERS are always rendered in full.
tests/generate/test_stamp.py compares stamped and full renders.

A member rendered in full other than to prove a stamp is rendered when its files are read
(obs.generate.stamp_tree.Deferred), file by file, like a stamped one: the writer reads each, hashes it and lets it
go, so the text of a thousand services rendered in full (every one of its own shape) is never all in memory at once,
and no process sends it to another. The writer reads a member's files one after another in one process
(Tree.units()), so they share the parts its making keeps (its rule groups), which are dropped when another member's
file is made."""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import partial
from typing import Any, cast

from obs.emit import yaml_dump
from obs.generate import stamp_proofs as proofs
from obs.generate import stamp_texts as texts
from obs.generate import stamp_thresholds as thresholds
from obs.generate.common import Later, Maker, made
from obs.generate.stamp_fill import Form, Pairs, Renamer, Stamped, cut, replaced, spellings
from obs.generate.stamp_proofs import RESERVED, Stand, skeleton
from obs.generate.stamp_tree import Deferred, LastMade, Made
from obs.model.domain import Model, Service

MIN_MEMBERS = 3      # a shape's proof takes two renders at least: below three members nothing is saved
# A stand-in's letters, one alphabet per word (the service's name, its team), so that one never holds the other.
_ALPHABETS = ("qzxjqzxj", "kvwykvwy")
# The letters of the stand-ins that prove the shortest and longest lengths: the same letters in another cycle, which
# shares no three letters in a row with the first, so that none of these stand-ins (of three letters or more) holds
# one of the stamp's, which stamping it would rename.
_PROOF_ALPHABETS = ("xqjzxqjz", "wkyvwkyv")

# What a service's own files never read (the dashboards and the Prometheus config, which are shared, do): a shape
# leaves these out, so that services unlike only in them share one, and its stand-ins are rendered with them blank,
# so that a member rendered to prove the stamp, holding any, fails its proof if a generator ever reads them.
# tests/generate/test_stamp.py holds every per-service generator to this.
UNREAD: dict[str, Any] = {"owner": None, "description": "", "calls": (), "scrape": ()}


def _pattern(word: str) -> tuple[object, ...]:
    """What of a word a generator may see, besides its length: its skeleton and whether YAML or JSON would quote or
    escape it. A stand-in has its word's."""
    return skeleton(word), word.lower() in RESERVED, yaml_dump.scalar(word) == word, json.dumps(word) == f'"{word}"'


def _family(word: str) -> tuple[object, ...]:
    """What words of one shape share: their pattern, but of the skeleton only which marks it holds. `ads-api` and
    `ads-api-eu` are of one family (a dash, lowercase runs), `api` and `api-v2` are not. Skeletons within a family are
    proven like lengths (Stand.kinds): the snake_case spelling of a name (`ads_api_eu`), which stamping renames too,
    is made alike from any skeleton that holds a dash, and a generator that read a skeleton fails a proof."""
    drawn, *rest = _pattern(word)
    return "".join(sorted(set(cast(str, drawn)))), *rest


def _stand(service: Service, at: tuple[int, ...] = ()) -> Stand:
    """The service's words (its texts at `at` among them: its shape's) and thresholds."""
    return Stand(_words(service, at), thresholds.numbers(service))


def _stand_in(word: str, taken: AbstractSet[str], alphabet: str) -> str | None:
    """A word of the same pattern, unlike any taken, and of the same length: but a word of one or two letters gets
    three (its last run of letters is drawn out), since a stand-in must occur in no other text. The length of a
    stand-in is free: the probes prove the stamp for the members' lengths. None when no such word is found."""
    letters = [i for i, ch in enumerate(word) if ch.isascii() and ch.isalpha()]
    if not letters or word.lower() in RESERVED:
        return None
    pattern, drawn = _pattern(word), word
    if len(letters) < 3:
        last = letters[-1]
        drawn = word[:last + 1] + word[last] * (3 - len(letters)) + word[last + 1:]
        letters = [i for i, ch in enumerate(drawn) if ch.isascii() and ch.isalpha()]
    for shift in range(len(alphabet)):
        out = list(drawn)
        for n, i in enumerate(letters):
            letter = alphabet[(n + shift) % len(alphabet)]
            out[i] = letter.upper() if drawn[i].isupper() else letter
        for i, ch in enumerate(drawn):
            if ch.isascii() and ch.isdigit():
                out[i] = "7"
        candidate = "".join(out)
        if candidate not in taken and candidate.lower() not in RESERVED and _pattern(candidate) == pattern:
            return candidate
    return None


def _words(service: Service, at: tuple[int, ...] = ()) -> tuple[str, ...]:
    """What a service's own files differ by from another's of the same template: its name, and its team (which
    may be part of the name: `payments` of `payments-api`); and its texts at `at` (obs.generate.stamp_texts), where
    its shape's members differ in them."""
    team = service.team
    own = (service.name,) if not team or team == service.name else (service.name, team)
    if not at:
        return own
    values = texts.texts(service)
    return (*own, *(values[i] for i in at))


def _alphabets(words: tuple[str, ...], at: tuple[int, ...], proof: bool = False) -> tuple[str, ...]:
    """An alphabet for each word of _words(service, at): the name's, the team's, then the texts' one for each text."""
    own = (_PROOF_ALPHABETS if proof else _ALPHABETS)[:len(words) - len(at)]
    return (*own, *(texts.PROOF_ALPHABET if proof else texts.ALPHABET,) * len(at))



def _one(model: Model, service: Service, makers: Sequence[Maker]) -> dict[str, Later]:
    """`service`'s files in full, each made when called."""
    out: dict[str, Later] = {}
    for make in makers:
        out.update(make(model, service))
    return out


def _shapes(model: Model, rename: Renamer, blanks: thresholds.Blanks | None = None,
            ) -> Iterator[tuple[list[Service], tuple[int, ...]]]:
    """The services by shape, each with the places of the texts its members differ in (obs.generate.stamp_texts):
    first by their words and thresholds alone; then those of shapes too small to stamp by their texts as well, which
    a script that numbers its runbooks makes every service's own."""
    read = [f for f in rename.fields(Service) if f not in UNREAD]
    blanks = blanks or thresholds.Blanks()

    def key(service: Service, at: tuple[int, ...]) -> tuple[object, ...]:
        own = _words(service, at)
        numbers = thresholds.numbers(service)
        blank = blanks(service)   # the thresholds' classes stand for them
        placeholders = spellings(own, _placeholders(len(own)))
        return (tuple(map(_family, own)), at, thresholds.pattern(numbers),
                tuple(rename.key(getattr(blank, f), placeholders) for f in read))

    groups: dict[tuple[object, ...], list[Service]] = {}
    for service in model.services:
        groups.setdefault(key(service, ()), []).append(service)
    few: dict[tuple[object, ...], list[Service]] = {}
    for members in groups.values():
        if len(members) >= MIN_MEMBERS:
            yield members, ()
            continue
        for service in members:
            few.setdefault(key(service, texts.wordlike(texts.texts(service))), []).append(service)
    for held, members in few.items():
        at = cast("tuple[int, ...]", held[1])   # the texts that can be stood in for, as key() holds them
        differ = texts.differing(members, at, _written) if at and len(members) >= MIN_MEMBERS else ()
        if differ and len(differ) <= texts.MAX_TEXTS:
            yield members, differ
        else:   # as they were: by their texts as they are
            split: dict[tuple[str, ...], list[Service]] = {}
            for m in members:
                split.setdefault(_written(m, texts.texts(m)), []).append(m)
            yield from ((part, ()) for part in split.values())


def _written(service: Service, values: tuple[str, ...]) -> tuple[str, ...]:
    """`values` (the service's texts) with its name and team as placeholders: what of them is alike between
    members."""
    words = _words(service)
    placeholders = spellings(words, _placeholders(len(words)))
    return tuple(replaced(text, placeholders) for text in values)


@functools.lru_cache(maxsize=256)
def _placeholders(count: int) -> tuple[str, ...]:
    """A placeholder for each of `count` words: a service's name and team, and as many texts as its SLOs hold."""
    return tuple(f"\0-{i}" for i in range(count))


def _stands_apart(first: Service, at: tuple[int, ...] = ()) -> bool:
    """Whether each of the lead member's words (`first` without what UNREAD leaves out) stands apart wherever it is
    written: one that stands against a letter or a digit somewhere (team `a` in `rate`) would rename the text around
    it, not the word."""
    words, text = _words(first, at), repr(first)
    if at and not texts.apart(text, words, words[len(words) - len(at):]):
        return False
    for word, _ in spellings(words, words):   # as they are renamed: the longer first
        if _against(text, word):
            return False
        text = text.replace(word, "\0")
    return True


def _against(text: str, word: str) -> bool:
    """Whether `word` stands against a letter or a digit anywhere in `text` (a search, not a regex: one compiled for
    each word of each shape cost more than the search)."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at and text[at - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
            return True
        at = text.find(word, at + 1)
    return False


def _names(model: Model) -> frozenset[str]:
    """The names a stand-in must be unlike: the services', the receivers' and the project's."""
    return frozenset({s.name for s in model.services} | {r.name for r in model.receivers} | {model.project})


def _stand_ins(model: Model, first: Service, like: tuple[str, ...], alphabets: tuple[str, ...],
               taken: frozenset[str], at: tuple[int, ...] = ()) -> tuple[str, ...] | None:
    """A stand-in for each of the lead member's words (`first`), of the pattern and length of the word `like` holds
    in its place, unlike any of `taken` (_names(model), and the stamp's stand-ins for a proof's); None when one
    cannot be made."""
    out: list[str] = []
    for word, alphabet in zip(like, alphabets, strict=False):
        stand_in = _stand_in(word, taken | set(out), alphabet)   # texts share an alphabet: each its own stand-in
        if stand_in is None:
            return None
        out.append(stand_in)
    if any(new in model.source or new in model.project for _, new in spellings(_words(first, at), tuple(out))):
        return None
    return tuple(out)


Back = tuple[Pairs, thresholds.Pairs]   # (stand-in, word) pairs, and (stand-in's number, member's) pairs


def _back(stand_ins: Stand, member: Stand) -> Back | None:
    """(stand-in, word) for each word, and the stand-in thresholds' numbers as the member's; None when a word
    holds a stand-in, which a later replacement would then change, or a stand-in's number would be two of the
    member's."""
    pairs = spellings(stand_ins.words, member.words)
    if any(stand_in in word for _, word in pairs for stand_in, _ in pairs):
        return None
    numbers = thresholds.pairs(stand_ins.numbers, member.numbers)
    return None if numbers is None else (pairs, numbers)


Full = Mapping[str, dict[str, str]]   # a member's name: its files rendered in full


@dataclasses.dataclass
class _Shape:
    members: list[Service]
    at: tuple[int, ...] = ()                     # the texts its members differ in, stood in for (stamp_texts)
    stand_ins: Stand | None = None               # None: every member is rendered in full
    stamp: dict[str, str] = dataclasses.field(default_factory=dict)   # their files
    probes: list[Service] = dataclasses.field(default_factory=list)   # the members rendered to prove it
    whole: bool = False                          # a proof failed for no length of its own: all in full
    proven: list[range] = dataclasses.field(default_factory=list)   # per measure (Stand), those proven exact
    kinds: list[frozenset[str]] = dataclasses.field(default_factory=list)   # per word, the skeletons proven exact
    # Per file of the stamp, its cut() (Stamping's pairs are in one order for every member), and whether it holds
    # any of the stand-in thresholds' numbers.
    forms: dict[str, tuple[Form, bool]] = dataclasses.field(default_factory=dict)

    def back(self, member: Stand) -> Back | None:
        """What makes the files of a service of these words and thresholds from the stamp; None when it cannot."""
        return None if self.stand_ins is None else _back(self.stand_ins, member)

    def holds(self, member: Stand, files: dict[str, str] | None) -> bool:
        """Whether the stamp, made for `member`, is `files` (their render in full; None: refused) byte for byte."""
        if files is None or (back := self.back(member)) is None:
            return False
        return {path: made.text() for path, made in self.made(back).items()} == files

    def made(self, back: Back) -> dict[str, Stamped]:
        """The files of the service `back` gives the words and thresholds of, by path, each made from the stamp
        when read."""
        words, numbers = back
        stood, new_of = self.stood, dict(numbers)   # a member's numbers are the stand-ins' where numbers is empty
        fill = (*(new for _, new in words), *(new_of.get(n, n) for n in stood))
        out: dict[str, Stamped] = {}
        for path, text in self.stamp.items():
            made = self.forms.get(path)
            if made is None:
                made = self.forms[path] = (cut(text, words, stood), any(n in text for n in stood))
            form, numbered = made
            out[replaced(path, words)] = Stamped(text, numbers if numbered else (), form, fill)
        return out

    @functools.cached_property
    def stood(self) -> tuple[str, ...]:
        """The stand-in thresholds' numbers as written, each once, in order: the same for every member."""
        return tuple(dict.fromkeys(f for n in cast("Stand", self.stand_ins).numbers for f in thresholds.forms(n)))

    def proves(self, stand: Stand) -> bool:
        """Whether the proofs that held span these measures and hold these skeletons."""
        return (all(n in self.proven[i] for i, n in enumerate(stand.measures))
                and all(kind in self.kinds[k] for k, kind in enumerate(stand.kinds)))

    def stamped(self, m: Service) -> Back | None:
        """What makes `m`'s files from the stamp; None when `m` is rendered in full."""
        if self.stand_ins is None or self.whole:
            return None
        stand = _stand(m, self.at)
        return self.back(stand) if self.proves(stand) else None


class Stamping:
    """Every service's own files from `makers`, stamped per shape where that is proven exact, in steps so that the
    renders made before deciding can be made anywhere (obs.generate.render maps them over two processes): `jobs()`,
    the renders of each shape's stand-ins, of those that prove its shortest or longest lengths, and of its probes,
    whose results go to `then(done)`, which returns the probes' files; then `files(full)`, each file as text (a
    probe's), a Stamped, or a Deferred (a member rendered in full, the shape's stamp refused or unproven for it),
    whose text() is the file. `forget` drops what the generators kept for a model: the stand-ins', and the model's
    own after each Deferred is read."""

    def __init__(self, model: Model, makers: Sequence[Maker], forget: Callable[[Model], None],
                 rename: Renamer | None = None, blanks: thresholds.Blanks | None = None) -> None:
        self.model, self.makers, self.forget = model, makers, forget
        self._shapes: list[_Shape] = []
        # Per stamped shape: the shape, its stand-ins' model and service; and the stand-ins that prove a shape's
        # shortest or longest lengths, with the shape, their model and service.
        self._stamps: list[tuple[_Shape, Model, Service]] = []
        self._extremes: list[tuple[_Shape, Stand, Model, Service]] = []
        # One Renamer and one Blanks for several Stampings of one model's services remember more (stamp_units).
        self.rename, self.blanks = rename or Renamer(), blanks or thresholds.Blanks()
        rename = self.rename
        names = _names(model)

        def proto(first: Service, stand: Stand, at: tuple[int, ...]) -> tuple[Model, Service]:
            service = thresholds.with_numbers(rename(first, spellings(_words(first, at), stand.words)), stand.numbers)
            return model.with_service(service), service

        for members, at in _shapes(model, rename, self.blanks):
            shape = _Shape(members, at=at)
            self._shapes.append(shape)
            if len(members) < MIN_MEMBERS:
                continue
            stands = [_stand(m, at) for m in members]
            short, long = proofs.extremes(stands)
            lead = proofs.lead(stands, [short, long])
            first = dataclasses.replace(members[lead], **UNREAD)   # the lead, as the stand-ins are made from it
            if not _stands_apart(first, at):
                continue
            own_words = _words(first, at)
            words = _stand_ins(model, first, own_words, _alphabets(own_words, at), names, at)
            # A threshold all members share is its own stand-in: their texts hold it as the stamp does.
            own = [s.numbers for s in stands]
            numbers = (own[lead] if own.count(own[lead]) == len(own)
                       else thresholds.stand_ins(own[lead], {n for o in own for n in o}))
            if words is None or numbers is None:
                continue
            shape.stand_ins = Stand(words, numbers)
            extremes = [Stand(w, like.numbers) for like in (short, long)
                        if (w := _stand_ins(model, first, like.words, _alphabets(own_words, at, proof=True),
                                            names | set(words), at))]
            chosen, taken = proofs.probes(stands, lead, shape.stand_ins, extremes)
            shape.probes = [members[j] for j in chosen]
            self._stamps.append((shape, *proto(first, shape.stand_ins, at)))
            self._extremes += [(shape, extremes[j], *proto(first, extremes[j], at)) for j in taken]

    @property
    def shapes(self) -> int:
        """How many shapes of service the model's services make (the benchmarks print it)."""
        return len(self._shapes)

    def jobs(self) -> list[Callable[[], dict[str, str] | None]]:
        """The renders to make before deciding, in the order then() takes their results."""
        return [*(partial(self._stand_ins_files, m, p) for _, m, p in self._stamps),
                *(partial(self._stand_ins_files, m, p) for _, _, m, p in self._extremes),
                *(partial(self.render, m) for m in self.first())]

    def _stand_ins_files(self, proto_model: Model, proto: Service) -> dict[str, str] | None:
        """The stand-ins' files; None when a generator refused them. A stand-in renamed text around its word too
        (a team `rate` inside `sum(rate(...))` makes a query that names no function): the members themselves are
        then rendered in full, where any error of theirs is raised as it would be without stamping."""
        try:
            return made(_one(proto_model, proto, self.makers))
        except Exception:   # noqa: BLE001 - any refusal of a stand-in's model means: no stamp, render in full
            return None
        finally:
            self.forget(proto_model)

    def render(self, service: Service) -> dict[str, str]:
        """`service`'s files in full, made now."""
        return made(_one(self.model, service, self.makers))

    def renders(self) -> int:
        """How many renders in full its stamping takes as it stands: the stand-ins', the probes', and the members of
        shapes too small to stamp (a proof that fails adds its shape's)."""
        return len(self.jobs()) + sum(len(shape.members) for shape in self._shapes if shape.stand_ins is None)

    def first(self) -> list[Service]:
        """The members rendered to prove a stamp, in the order of their jobs."""
        return [m for shape, _, _ in self._stamps for m in shape.probes]

    def then(self, done: Sequence[dict[str, str] | None]) -> dict[str, dict[str, str]]:
        """The probes' files, by name, from the jobs' results in their order. Each shape is judged by its proofs (its
        members', and those of stand-ins of the shortest or longest lengths). One that holds shows the stamp's
        stand-ins whole (a generator that read the words, or cut or padded them at the stamp's lengths, would have
        changed them), and so proves the stamp's lengths with its own. A proof that differs: every member with a
        length beyond those the passing proofs and the stamp span, or a skeleton none of them holds, in full; and
        the shape in full if the failing one has neither, if none holds, or if the stand-ins were refused."""
        stamps, extremes = len(self._stamps), len(self._extremes)
        full = {m.name: cast("dict[str, str]", files)
                for m, files in zip(self.first(), done[stamps + extremes:], strict=True)}
        made_of: dict[int, list[tuple[Stand, dict[str, str] | None]]] = {}   # a shape's extremes' renders
        for (shape, stand, _, _), files in zip(self._extremes, done[stamps:stamps + extremes], strict=True):
            made_of.setdefault(id(shape), []).append((stand, files))
        for (shape, _, _), stamp in zip(self._stamps, done[:stamps], strict=True):
            shape.whole = stamp is None   # its stand-ins refused
            if shape.whole:
                continue
            shape.stamp = cast("dict[str, str]", stamp)
            stand_ins = cast("Stand", shape.stand_ins)   # a shape with a stamp's job has them
            proofs = [(_stand(m, shape.at), full[m.name]) for m in shape.probes] + made_of.get(id(shape), [])
            judged = [(stand, shape.holds(stand, files)) for stand, files in proofs]
            passed = [stand for stand, held in judged if held]
            shape.whole = not passed
            if shape.whole:
                continue
            passed.append(stand_ins)
            measures = [s.measures for s in passed]
            shape.proven = [range(min(n[i] for n in measures), max(n[i] for n in measures) + 1)
                            for i in range(len(measures[0]))]
            shape.kinds = [frozenset(s.kinds[k] for s in passed) for k in range(len(stand_ins.kinds))]
            # A length within what passing proofs span, or a skeleton one holds, is not the cause; a proof that fails
            # with no other is.
            shape.whole = any(shape.proves(stand) for stand, held in judged if not held)
        return full

    def files(self, full: Full) -> dict[str, Made]:
        return {path: made for _, files in self.members(full) for path, made in files.items()}

    def made(self, done: Sequence[dict[str, str] | None]) -> dict[str, Made]:
        """Every member's files, from the jobs' results in their order."""
        return self.files(self.then(done))

    def members(self, full: Full) -> Iterator[tuple[Service, dict[str, Made]]]:
        """Each member and its files. A probe whose proof held is stamped like the rest (its render was that text,
        byte for byte), so that Tree.alike() pairs it too and its render is not kept."""
        last = LastMade()
        for shape in self._shapes:
            for m in shape.members:
                if (back := shape.stamped(m)) is not None:
                    yield m, dict(shape.made(back))
                elif m.name in full:
                    yield m, dict(full[m.name])
                else:
                    yield m, {path: Deferred(make, self.model, self.forget, m.name, last)
                              for path, make in _one(self.model, m, self.makers).items()}


def per_service(model: Model, makers: Sequence[Maker], forget: Callable[[Model], None]) -> dict[str, Made]:
    """Every service's own files from `makers`, stamped per shape where that is proven exact (Stamping), the
    proofs rendered here, in this process (obs.generate.render maps them over two)."""
    stamping = Stamping(model, makers, forget)
    return stamping.files(stamping.then([job() for job in stamping.jobs()]))
