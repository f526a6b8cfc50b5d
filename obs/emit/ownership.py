"""The ownership record: which files in an output directory obs wrote, and with what content.

obs overwrites or deletes a file only when this record names it with the hash the file still has.
The record is committed beside the artifacts (a fresh clone and CI need it), so it is also input
from the repository: it is read as untrusted, bounded in size, and every entry is checked. A record
that fails is reported with every problem at once and never acted on.

    {"version": 1, "files": {"alerts/api.rules.yml": "sha256:<64 hex>", ...}}
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from obs.emit import safepath

RECORD = ".obs-owned.json"
VERSION = 1
MAX_BYTES = 64 << 20
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Layout:
    """Which paths obs may own at all: under these tops, never the user's own kinds of file."""

    tops: tuple[str, ...]
    user_suffixes: tuple[str, ...] = ()
    reserved: frozenset[str] = field(default_factory=frozenset)   # the writer's own state files
    # Text every generated file carries near its top. A file is deleted only if it carries it too, so a record
    # edited to claim a user's file (say, in a pull request) cannot make obs delete that file.
    marker: bytes = b""

    def marked(self, data: bytes) -> bool:
        return self.marker in data[:4096]

    def problem(self, rel: str) -> str | None:
        why = safepath.rel_problem(rel)
        if why is not None:
            return why
        if rel.partition("/")[0] not in self.tops:
            return f"is outside the paths obs generates ({', '.join(self.tops)})"
        if self.user_suffixes and rel.endswith(self.user_suffixes):
            return "is a file users write, which obs never owns"
        if rel in self.reserved:
            return "is one of obs's own state files"
        return None


@dataclass(frozen=True)
class Record:
    files: dict[str, str]    # path -> "sha256:..."


class BadRecord(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def render(files: dict[str, bytes]) -> str:
    """The record of exactly these files, deterministic so that `--check` can compare it."""
    return render_digests({rel: safepath.digest(data) for rel, data in files.items()})


def render_digests(digests: dict[str, str]) -> str:
    """The record of files with these digests (path -> "sha256:..."), as render() writes it: the text of
    `json.dumps(body, indent=1, sort_keys=True)`, written a line per file with the C encoder's strings, since
    the indenting encoder is pure Python (a fifth of a second at a thousand services)."""
    if not digests:
        return json.dumps({"files": {}, "version": VERSION}, indent=1, sort_keys=True) + "\n"
    lines = ",\n".join(f"  {json.dumps(rel)}: {json.dumps(digests[rel])}" for rel in sorted(digests))
    return f'{{\n "files": {{\n{lines}\n }},\n "version": {json.dumps(VERSION)}\n}}\n'


def read(out: Path, layout: Layout) -> Record:
    """The record in `out`, empty when there is none; BadRecord lists every problem with it."""
    try:
        data = safepath.read_json(out, RECORD, MAX_BYTES)
    except safepath.BadState as e:
        raise BadRecord([e.problem]) from None
    return Record({}) if data is safepath.MISSING else Record(_validated(data, layout))


def _validated(data: object, layout: Layout) -> dict[str, str]:
    if not isinstance(data, dict):
        raise BadRecord(["must be a JSON object with `version` and `files`"])
    problems = [f"unknown key {k!r}" for k in sorted(set(data) - {"version", "files"})]
    if data.get("version") != VERSION:
        problems.append(f"version must be {VERSION} (got {data.get('version')!r})")
    files = data.get("files")
    if not isinstance(files, dict):
        raise BadRecord([*problems, "files must be an object of path -> sha256 digest"])
    for rel, digest in files.items():
        why = layout.problem(rel)
        if why is not None:
            problems.append(f"files[{json.dumps(rel)[:80]}]: {why}")
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            problems.append(f"files[{json.dumps(rel)[:80]}]: must be `sha256:` and 64 hex digits")
    if problems:
        raise BadRecord(problems)
    return dict(files)
