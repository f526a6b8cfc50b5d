"""Reads obs.yaml into plain data and a validated Spec, locating every problem at file:line:col.

The YAML is composed into nodes and walked by hand (obs/spec/yaml_walk.py), recording where
each path came from, so pydantic's errors and the model's semantic errors are pointed back
at the exact node. Input is bounded (bytes here; values and depth in the walk) because a
spec is untrusted: a huge file, an endless device or an alias bomb must fail fast.
"""
from __future__ import annotations

import importlib.util
import io
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, Event
from ruamel.yaml.nodes import Node, ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from obs import forked
from obs.errors import Problem, SpecError
from obs.spec import yaml_events
from obs.spec.yaml_walk import MAX_DEPTH, NULL, Positions, TooBig, Walker, at, tag_of

if TYPE_CHECKING:
    from obs.spec.v1 import Spec

# The most a spec may hold: a bound on what untrusted input costs to read (a spec of 6 MB reads in 2.6 s and 170 MB),
# far above what a platform writes. A thousand services written out in block style, three SLOs each with their
# descriptions and runbooks, take 1.2 MB; this is some 14,000 of them.
MAX_BYTES = 16 << 20
TOO_LARGE = f"is larger than {MAX_BYTES >> 20} MiB, the most obs reads (some 14,000 services written out in full)"
# A spec read ahead (read_ahead()): below this size its YAML is read in less time than the fork costs to matter.
MIN_AHEAD_BYTES = 64 << 10

# ruamel.yaml.clib: libyaml's parser, which YAML(pure=False) uses. Without its wheel the pure parser reads the same
# specs, only slower.
_HAS_C_PARSER = importlib.util.find_spec("_ruamel_yaml") is not None
# libyaml folds NEL, LS and PS as line breaks inside scalars where the pure parser keeps them, and ruamel does not
# tell the resolver of a `%YAML 1.1` directive read by the C parser (`yes` stays a string): a spec holding either
# is read by the pure parser alone. (Found by tests/spec/test_loader_fast_path.py.)
_C_READS_OTHERWISE = re.compile("[\x85\u2028\u2029]|^%", re.MULTILINE)


@dataclass
class Document:
    """The spec as plain data, with the position of every path and the YAML-level problems."""

    data: dict[str, Any]
    positions: Positions
    problems: list[Problem] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)   # paths whose value was already reported and dropped


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _too_deepat(text: str) -> tuple[int, int]:
    """Where nesting first exceeds MAX_DEPTH; the event parser is iterative, unlike the composer."""
    depth = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(io.StringIO(text)):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1, event.start_mark.column + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except (YAMLError, RecursionError):
        pass
    return 1, 1


def _second_documentat(text: str, node: Node) -> tuple[int, int]:
    """The `---` that starts the second document; the composed node only knows where its content starts."""
    starts = [e for e in YAML(typ="safe", pure=True).parse(io.StringIO(text)) if isinstance(e, DocumentStartEvent)]
    return at(starts[1]) if len(starts) > 1 else at(node)


def _fail(source: str, message: str, line: int | None = 1, column: int | None = 1, path: str = "") -> SpecError:
    return SpecError(source, [Problem(path, message, line, column)])


class _MemoResolver(VersionedResolver):
    """ruamel's YAML 1.2 resolver, remembering the tag of each plain scalar text: under the C parser it is called
    from Python for every scalar, and a spec of a thousand services repeats its keys and values thousands of times.
    One loader reads one stream, whose version directive comes first, so the tag of a text cannot change."""

    _obs_tags: dict[tuple[str, Any], Any]

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        try:   # the hit, tens of thousands of times, as cheap as a lookup can be
            return self._obs_tags[value, implicit]
        except AttributeError:
            self._obs_tags = {}
        except (KeyError, TypeError):   # TypeError: an implicit given as a list, which is not a key
            pass
        key = (value, tuple(implicit))
        tag = self._obs_tags.get(key)
        if tag is None:
            tag = self._obs_tags[key] = super().resolve(kind, value, implicit)
        return tag


def _c_yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.Resolver = _MemoResolver
    return yaml


def parse_events(text: str) -> list[Event]:
    """The YAML events of `text` (no objects are built), from libyaml's C parser where it reads `text` as the pure
    one does, else from the pure parser, which raises YAMLError or RecursionError on what it refuses."""
    if _HAS_C_PARSER and not _C_READS_OTHERWISE.search(text):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return list(_c_yaml().parse(io.StringIO(text)))
        except Exception:   # noqa: BLE001 - whatever the C parser refuses, the pure one explains or reads
            pass
    return list(YAML(typ="safe", pure=True).parse(io.StringIO(text)))


def fast_compose(text: str) -> list[Node] | None:
    """The nodes from libyaml's C parser (ruamel.yaml.clib), about 4x the pure-Python scanner's speed, or None when
    the pure path must decide: no C parser, invalid YAML (its messages are the pure parser's), or nesting past
    MAX_DEPTH, which the C composer would follow down the C stack until the process crashed. The depth is
    checked first on the C parser's events, which are made iteratively. The nodes are the same classes with the
    same tags, values, styles and start marks as the pure composer's (tests/spec/test_loader_fast_path.py)."""
    if not _HAS_C_PARSER or _C_READS_OTHERWISE.search(text):
        return None
    depth = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for event in _c_yaml().parse(io.StringIO(text)):
                if isinstance(event, CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        return None
                elif isinstance(event, CollectionEndEvent):
                    depth -= 1
            return [n for n in _c_yaml().compose_all(io.StringIO(text))]
    except Exception:   # whatever the C parser refuses, the pure one explains in its own words
        return None


def _read_events(text: str) -> Document | None:
    """The spec read in one pass over the C parser's events (obs/spec/yaml_events.py), or None when the nodes
    must decide: no C parser, YAML it reads otherwise or refuses, or a spec with anchors, tags, merge keys, odd or
    duplicate keys, or past a limit."""
    if not _HAS_C_PARSER or _C_READS_OTHERWISE.search(text):
        return None
    walker = Walker(YAML(typ="safe", pure=True), len(text))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = yaml_events.read(_c_yaml().parse(io.StringIO(text)), VersionedResolver(), walker)   # it memoizes
    except Exception:   # Declined, or whatever the C parser refuses: the pure parser explains in its own words
        return None
    return Document(data, walker.positions, walker.problems, walker.dropped)


def _compose(text: str, source: str) -> list[Node]:
    fast = fast_compose(text)
    if fast is not None:
        return fast
    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ruamel warns (on stderr) about reused anchors
            return [n for n in yaml.compose_all(io.StringIO(text))]
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = (e.problem or e.context or "invalid YAML").strip()
        if "'\\t'" in what:
            what = "a tab character where YAML needs spaces; indent with spaces, not tabs"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _fail(source, f"invalid YAML: {what}", line, col) from None
    except ReaderError as e:
        shown = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise _fail(source, f"invalid YAML: the character {shown} is not allowed in YAML text; remove it",
                    *_position(text, e.position)) from None
    except RecursionError:
        raise _fail(source, f"the spec nests deeper than {MAX_DEPTH} levels; flatten it", *_too_deepat(text)) from None
    except YAMLError as e:
        raise _fail(source, f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


# The spec text being read ahead, and the child reading it: one at a time.
_ahead: tuple[str, forked.Ahead[tuple[Document | None]]] | None = None


def read_ahead(path: Path) -> None:
    """Begin reading the spec at `path` in a second process (obs.forked.Ahead), for read_yaml() of that same text
    to take: `obs generate` starts it before it imports the generators and pydantic, which then load on this core
    while the YAML is read on the other. Only the fast path (_read_events) runs there; where it declines, fails or
    cannot run, or the text read later differs, read_yaml() reads as always. A spec that cannot be read, or one
    under MIN_AHEAD_BYTES, is left to be read as always."""
    global _ahead
    drop_ahead()
    try:   # a regular file only: a pipe read here would be read empty later
        if not stat.S_ISREG(path.stat().st_mode):
            return
        text = read_file(path)
    except (OSError, SpecError):
        return
    if len(text) >= MIN_AHEAD_BYTES:
        reading = forked.Ahead(lambda: (_read_events(text),))
        if reading.running:
            _ahead = (text, reading)


def drop_ahead() -> None:
    """End a read ahead that is not wanted."""
    global _ahead
    if _ahead is not None:
        _ahead[1].cancel()
        _ahead = None


def _taken(text: str) -> tuple[Document | None] | None:
    """What the read ahead made of `text`, (None,) where it declined; None if there is none for this text."""
    global _ahead
    if _ahead is None or _ahead[0] != text:
        drop_ahead()
        return None
    reading, _ahead = _ahead[1], None
    return reading.result()


def read_yaml(text: str, source: str) -> Document:
    """Plain data and positions. Raises SpecError when nothing sensible can be read at all."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _fail(source, f"the spec {TOO_LARGE}; trim it")
    ahead = _taken(text)
    read = ahead[0] if ahead is not None else _read_events(text)
    if read is not None:
        return read
    roots = _compose(text, source)
    if len(roots) > 1:
        raise _fail(source, "the spec must be a single YAML document; remove this `---` and what follows, or "
                    "split it into several files", *_second_documentat(text, roots[1]))
    root = roots[0] if roots else None
    if root is None or (isinstance(root, ScalarNode) and tag_of(root) == NULL):
        raise _fail(source, "the spec is empty; run `obs init` for a starter")
    yaml = YAML(typ="safe", pure=True)
    walker = Walker(yaml, len(text))
    try:
        data = walker.value(root, "", 0)
    except TooBig as e:
        # With aliases the node sits inside its anchor, far from the use; point at the top-level key instead.
        top = e.path.split(".")[0].split("[")[0]
        raise _fail(source, e.message, *walker.positions.get(top, at(e.node)), path=top) from None
    if not isinstance(data, dict):
        raise SpecError(source, ordered(walker.problems, walker.positions) or [Problem(
            "", "the spec must be a mapping with `version:`, `project:` and `services:`", *at(root))])
    return Document(data, walker.positions, walker.problems, walker.dropped)


def locate(problem: Problem, positions: Positions) -> Problem:
    """Attach the position of the deepest known ancestor of the problem's path."""
    if problem.line is not None:
        return problem
    path = problem.path
    while path:
        if path in positions:
            line, col = positions[path]
            return Problem(problem.path, problem.message, line, col)
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return Problem(problem.path, problem.message, 1, 1)


def ordered(problems: list[Problem], positions: Positions) -> list[Problem]:
    """Located, in file order, each reported once."""
    located = {locate(p, positions) for p in problems}
    return sorted(located, key=lambda p: (p.line or 0, p.column or 0, p.path, p.message))


def parse_text(text: str, source: str) -> tuple[Spec, Positions]:
    """Parse and validate spec text against the schema. Raises SpecError listing every schema problem.

    obs.project.load_text goes further: it also runs the semantic checks on every part that
    passed the schema, so one run reports every problem of both kinds.
    """
    from obs.spec.validation import validate  # here: reading YAML alone needs no pydantic (read_ahead)

    doc = read_yaml(text, source)
    spec, problems = validate(doc.data, doc.dropped)
    problems = doc.problems + problems
    if problems or spec is None:
        raise SpecError(source, ordered(problems, doc.positions))
    return spec, doc.positions


def read_bounded(path: Path) -> bytes:
    """The file's bytes, but no more than MAX_BYTES + 1 of them: a device such as /dev/zero never ends. Read a
    mebibyte at a time, since read(MAX_BYTES + 1) sets the whole 16 MiB aside before it reads a byte."""
    chunks: list[bytes] = []
    left = MAX_BYTES + 1
    with path.open("rb") as f:
        while left > 0 and (chunk := f.read(min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    return b"".join(chunks)


def read_file(path: Path) -> str:
    source = str(path)
    try:
        raw = read_bounded(path)
    except FileNotFoundError:
        raise _fail(source, "no such file; run `obs init` to write a starter obs.yaml, or give the spec's path",
                    None, None) from None
    except IsADirectoryError:
        raise _fail(source, "is a directory; give the path of an obs.yaml file", None, None) from None
    except OSError as e:
        raise _fail(source, f"cannot read: {e.strerror or e}", None, None) from None
    if len(raw) > MAX_BYTES:
        raise _fail(source, f"the spec {TOO_LARGE}; trim it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[:e.start].decode("utf-8", "replace")
        raise _fail(source, f"is not UTF-8 text (byte 0x{raw[e.start]:02X}); save it as UTF-8",
                    *_position(before, len(before))) from None


def load(path: Path) -> tuple[Spec, Positions]:
    return parse_text(read_file(path), str(path))
