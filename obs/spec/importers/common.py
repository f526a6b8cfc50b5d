"""What both importers share: bounded multi-document YAML with positions, names, and the result.

Foreign specs are untrusted input like obs.yaml, so they are read with the same limits as
obs/spec/loader.py (size, nodes counted across alias expansion, depth, plain tags only).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import DocumentStartEvent, NodeEvent, ScalarEvent

from obs.errors import Problem, SpecError
from obs.spec.loader import MAX_BYTES, TOO_LARGE, locate, parse_events, read_bounded, read_yaml
from obs.spec.paths import join
from obs.spec.yaml_walk import Positions

WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.?window\s*\}\}")
OBS_WINDOW = "{{window}}"
_NOT_NAME = re.compile(r"[^a-z0-9-]+")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Doc:
    data: Any
    positions: Positions
    number: int                       # 1-based position in the file


@dataclass
class Imported:
    """An obs.yaml as plain data, what changed on the way, and where each part came from."""

    spec: dict[str, Any]
    notes: list[str]
    origins: dict[str, tuple[int, int]]


@dataclass
class Context:
    source: str
    reserved_labels: frozenset[str] = frozenset()
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    origins: dict[str, tuple[int, int]] = field(default_factory=dict)

    def problem(self, doc: Doc, path: str, message: str) -> None:
        self.problems.append(locate(Problem(path, message), doc.positions))

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def note_at(self, doc: Doc, path: str, message: str) -> None:
        """A note that says where in the input the thing it talks about is."""
        located = locate(Problem(path, ""), doc.positions)
        self.note(f"line {located.line or 1}: {message}")

    def origin(self, obs_path: str, doc: Doc, path: str) -> None:
        located = locate(Problem(path, ""), doc.positions)
        self.origins[obs_path] = (located.line or 1, located.column or 1)

    def finish(self, spec: dict[str, Any]) -> Imported:
        if self.problems:
            raise SpecError(self.source, sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0, p.path)))
        return Imported(spec, self.notes, self.origins)


def load_documents(path: Path) -> list[Doc]:
    source = str(path)
    try:
        raw = read_bounded(path)   # a device such as /dev/zero never ends
    except FileNotFoundError:
        raise SpecError(source, [Problem("", "no such file")]) from None
    except IsADirectoryError:
        raise SpecError(source, [Problem("", "is a directory; give the path of a YAML file")]) from None
    except OSError as e:
        raise SpecError(source, [Problem("", f"cannot read: {e.strerror or e}")]) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(source, [Problem("", f"the file {TOO_LARGE}", 1, 1)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(source, [Problem("", f"is not UTF-8 text (bad byte at offset {e.start})", 1, 1)]) from None
    return parse_documents(text, source)


def _document_starts(text: str) -> list[int]:
    """0-based first line of every document; the event parser is safe (it builds no objects)."""
    starts = []
    try:
        # The C parser's events where it reads alike: the pure parser's, here and in _empty(), were 18 s of the 21 s
        # that importing a thousand documents took under the profiler.
        for event in parse_events(text):
            if isinstance(event, DocumentStartEvent):
                starts.append(event.start_mark.line)
    except (YAMLError, RecursionError):
        return [0]   # read_yaml below reports the error, located
    return starts or [0]


def parse_documents(text: str, source: str) -> list[Doc]:
    """Every document of a multi-document file, each read exactly as obs.yaml is (same safety and
    bounds), its positions moved down by the lines before it so that they are those of the whole file. (Each was read
    with the lines before it blanked, which made reading a file of a thousand documents take 23 s: each read the
    blank lines of all before it.)"""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecError(source, [Problem("", f"the file {TOO_LARGE}", 1, 1)])
    lines = text.splitlines(keepends=True)
    starts = _document_starts(text)
    docs: list[Doc] = []
    problems: list[Problem] = []
    for number, (first, end) in enumerate(zip(starts, starts[1:] + [len(lines)], strict=True), start=1):
        chunk = "".join(lines[first:end])
        if _empty(chunk):
            continue
        doc = read_yaml(chunk, source)
        positions = {path: (line + first, column) for path, (line, column) in doc.positions.items()}
        problems.extend(_below(locate(p, doc.positions), first) for p in doc.problems)
        docs.append(Doc(doc.data, positions, number))
    if problems:
        raise SpecError(source, problems)
    if not docs:
        raise SpecError(source, [Problem("", "the file holds no YAML document", 1, 1)])
    return docs


def _below(problem: Problem, lines: int) -> Problem:
    """`problem`, located in a document read alone, moved down by the `lines` before that document in its file."""
    line = problem.line
    return problem if line is None else Problem(problem.path, problem.message, line + lines, problem.column)


def _empty(chunk: str) -> bool:
    try:
        events = parse_events(chunk)
    except (YAMLError, RecursionError):
        return False
    content = [e for e in events if isinstance(e, (NodeEvent,))]
    return not content or (len(content) == 1 and isinstance(content[0], ScalarEvent) and content[0].value == ""
                           and content[0].tag is None)


def obs_name(raw: str) -> str:
    """The nearest obs name (lowercase letters, digits, '-'; at most 63): `My_SLO` -> `my-slo`."""
    name = _NOT_NAME.sub("-", raw.strip().lower()).strip("-")
    return re.sub(r"-{2,}", "-", name)[:63].rstrip("-")


def unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate, n = name[:63 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def label_name(raw: str) -> str:
    name = _NOT_LABEL.sub("_", raw)
    return "_" + name if name[:1].isdigit() else name


def imported_label(key: str, value: str, what: str, ctx: Context, where: str = "") -> str | None:
    """The obs name for an imported label, or None when obs sets that label itself; each change is noted,
    prefixed with `where` (e.g. "line 12: ") when the caller knows it."""
    name = label_name(key)
    if name in ctx.reserved_labels:
        ctx.note(f"{where}{what}: label {key}={value!r} is dropped; obs sets {name} itself")
        return None
    if name != key:
        ctx.note(f"{where}{what}: label {key!r} is renamed {name!r} (Prometheus label names)")
    return name


def window_query(query: str) -> str:
    """`{{.window}}` (Sloth, OpenSLO tools) and `{{ window }}` both become obs's `{{window}}`."""
    return WINDOW_TEMPLATE.sub(OBS_WINDOW, query)


def has_window(query: str) -> bool:
    return bool(WINDOW_TEMPLATE.search(query))


def percent(value: Any) -> Decimal | None:
    """A number as an exact Decimal (99.9 stays 99.9), or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return Decimal(repr(value))
    except InvalidOperation:
        return None


def yaml_number(d: Decimal) -> int | float:
    n = d.normalize()
    return int(n) if n == n.to_integral_value() else float(n)


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def child(path: str, key: str | int) -> str:
    return join(path, key)


# The SRE workbook tiers obs applies by default (obs.model.windows.WORKBOOK), as (severity, long, short,
# burn rate): an importer must not emit a tier that can never fire at the imported objective.
WORKBOOK_TIERS = (("page", "1h", "5m", Decimal("14.4")), ("page", "6h", "30m", Decimal("6")),
                  ("ticket", "1d", "2h", Decimal("3")), ("ticket", "3d", "6h", Decimal("1")))


def feasible_alerting(objective: Decimal, page: bool, ticket: bool, what: str, ctx: Context) -> dict[str, Any]:
    """obs rejects a burn-rate tier that needs more than 100% errors; drop those tiers, saying so."""
    budget = (Decimal(100) - objective) / Decimal(100)
    wanted = [t for t in WORKBOOK_TIERS if (page and t[0] == "page") or (ticket and t[0] == "ticket")]
    kept = [t for t in wanted if t[3] * budget < 1]
    out: dict[str, Any] = {}
    if not page:
        out["page"] = False
    if not ticket:
        out["ticket"] = False
    if kept == wanted:
        return out
    dropped = ", ".join(f"{s} {long}/{rate}x" for s, long, _, rate in wanted if (s, long, _, rate) not in kept)
    ctx.note(f"{what}: at objective {objective}% the workbook tier(s) {dropped} could never fire, so they are left out")
    if not kept:
        return {"page": False, "ticket": False}
    out["tiers"] = [{"severity": s, "long": long, "short": short, "burn_rate": yaml_number(rate)}
                    for s, long, short, rate in kept]
    out.pop("page", None)
    out.pop("ticket", None)
    return out


def service_entry(svc: dict[str, Any]) -> dict[str, Any]:
    """A service's keys in the order obs.yaml documents them."""
    order = ("name", "team", "description", "slos")
    return {k: svc[k] for k in order if k in svc} | {k: v for k, v in svc.items() if k not in order}
