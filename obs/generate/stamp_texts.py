"""A service's own texts, stood in for like its words when its files are stamped (obs.generate.stamp).

Services written by a script often differ in a text as well as in their names: a runbook by number
(`https://wiki.example.com/runbooks/17`), a description that counts (`SLO 17 of the platform`). Each such service was a
shape of its own, rendered in full, and a thousand of them took three times as long as those whose texts hold only
their names. So a text is a word of the service's, like its name: where the members of one shape hold different texts
in one place, the stamp is rendered with a stand-in of the lead's text there (its letters drawn from an alphabet of its
own, its digits 7s, every other mark as it is, so that YAML and JSON write it as they write the text), and a member's
files are the stamp with its own text written in. The proofs of obs.generate.stamp judge that byte for byte, and take
each text's length as one more measure and its skeleton as one more kind.

The texts are each SLO's description, runbook URL and annotation values, in that order (texts()). One without a
letter, or one that YAML reads as a word of its own (`yes`), stays a part of the shape. Services are first grouped
without standing in for texts, as before; those of shapes too small to stamp are grouped again with every other text
as a placeholder and its family in their key (obs.generate.stamp._shapes()), and the texts that differ between the
members of such a key are stood in for (differing()), MAX_TEXTS at most, each as written and as JSON escapes it (a
quote inside YAML's double quotes: obs.generate.stamp_fill.spellings()). A key of more such texts is split by its texts,
as shapes were before. A shape whose lead writes one of its texts anywhere but in its own places (apart(), which
reads the service's repr: a text with a backslash, or with both quotes, is never found whole there) is rendered in
full, as its members were before.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from obs.generate.stamp_proofs import RESERVED
from obs.model.domain import Service

# The texts' stand-ins: other cycles of the words' letters (obs.generate.stamp._ALPHABETS), none of which shares three
# letters in a row with another, so that no text's stand-in holds a word's, nor a proof's the stamp's.
ALPHABET = "xjzqxjzq"
PROOF_ALPHABET = "zjqxzjqx"
# Texts stood in for in one shape, at most: each is a measure and a kind more for the proofs to reach, and a service
# of three SLOs has three runbooks.
MAX_TEXTS = 3


def texts(service: Service) -> tuple[str, ...]:
    """Every text of the service's own that its files may write: each SLO's description, runbook URL ("" for none) and
    annotation values, in order."""
    return tuple(text for slo in service.slos
                 for text in (slo.description, slo.runbook_url or "", *(value for _, value in slo.annotations)))


def wordlike(values: tuple[str, ...]) -> tuple[int, ...]:
    """Where `values` (texts()) hold a text that can be stood in for: one with a letter, not a word YAML reads as
    something else."""
    return tuple(i for i, text in enumerate(values)
                 if any(ch.isascii() and ch.isalpha() for ch in text) and text.lower() not in RESERVED)


def differing(members: Sequence[Service], at: tuple[int, ...],
              written: Callable[[Service, tuple[str, ...]], tuple[str, ...]]) -> tuple[int, ...]:
    """Of the places `at` (wordlike() of each member's texts, which a shape's key holds alike), those whose text
    differs between `members` once `written` has put placeholders for each member's other words in them (a runbook
    that holds the service's name, and no more, is the same for all)."""
    seen: list[set[str]] = [set() for _ in at]
    for member in members:
        own = written(member, tuple(texts(member)[i] for i in at))
        for k, text in enumerate(own):
            seen[k].add(text)
    return tuple(i for k, i in enumerate(at) if len(seen[k]) > 1)


def apart(service_text: str, words: tuple[str, ...], stood: tuple[str, ...]) -> bool:
    """Whether each text of `stood` (of the service's words, `words`, the longer first as they are renamed) is written
    only as itself in the service's text (its repr, without what the files never read): once, and not inside another
    string, where renaming it would rename that string too. Texts stood in for are unlike each other and the
    service's other words."""
    if len(set(stood)) < len(stood) or len(set(words)) < len(words):
        return False
    text = service_text
    for word in sorted(words, key=len, reverse=True):
        if word in stood and not text.count(word) == text.count(repr(word)) == 1:
            return False
        text = text.replace(word, "\0")
    return True
