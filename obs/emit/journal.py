"""The write journal: the commit point of a generate, and what finishes or undoes it after a crash.

A write stages new content under `<staging>/new/` and hard-links every file it will replace or
delete under `<staging>/old/`, then renames the journal into place (the commit). Rolling forward
moves the new files in and deletes the old ones; when a move fails part-way (a full disk, a
directory that appeared), the journal flips to `rollback` and every path gets its old bytes back.
Both directions are idempotent, so a kill during either is finished by the next obs command.

The journal sits in the user's tree and may come from anywhere (a clone, a pull request), so it is
validated like any input: paths in normal form inside obs's layout, a staging directory of obs's
own naming that is a real directory, digests well formed. One that fails is never acted on.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obs.emit import halves, safepath

Check = Callable[[str], 'str | None']   # why a path may not be in a journal, or None

JOURNAL = ".obs-journal.json"
STAGING_PREFIX = ".obs-staging-"
VERSION = 1
MAX_BYTES = 64 << 20
STAGING_RE = re.compile(r"^\.obs-staging-\d{1,10}-[0-9a-f]{8}$")
TMP_RE = re.compile(r"^\.obs-journal\.json\.[0-9a-f]{8}\.tmp$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Move:
    path: str
    new: str                 # digest of the staged content
    old: str | None          # digest of what it replaces; None for a new file


@dataclass(frozen=True)
class Journal:
    state: str               # "commit" (roll forward) or "rollback"
    staging: str
    moves: tuple[Move, ...]
    deletes: tuple[Move, ...]   # `old` is the digest the file must still have to be deleted

    def to_json(self) -> bytes:
        return json.dumps({
            "version": VERSION, "state": self.state, "staging": self.staging,
            "moves": [{"path": m.path, "new": m.new, "old": m.old} for m in self.moves],
            "deletes": [{"path": d.path, "old": d.old} for d in self.deletes],
        }).encode()   # no indent: Python's indenting encoder is pure Python, and this file lives for one write


class BadJournal(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def new_staging_name() -> str:
    return f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def commit(out: Path, journal: Journal) -> None:
    """Atomically put `journal` in place: from here on, recovery finishes what it says."""
    tmp = out / f"{JOURNAL}.{uuid.uuid4().hex[:8]}.tmp"
    safepath.write_synced(tmp, journal.to_json())
    os.replace(tmp, out / JOURNAL)
    safepath.fsync_dir(out)


def read(out: Path, check: Check) -> Journal | None:
    try:
        data = safepath.read_json(out, JOURNAL, MAX_BYTES)
    except safepath.BadState as e:
        raise BadJournal([e.problem]) from None
    return None if data is safepath.MISSING else _validated(out, data, check)


def _entries(data: dict[str, Any], key: str, check: Check, problems: list[str], need_new: bool) -> tuple[Move, ...]:
    items = data.get(key)
    if not isinstance(items, list):
        problems.append(f"{key} must be a list")
        return ()
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict) or set(item) - {"path", "new", "old"}:
            problems.append(f"{where}: must be an object with path, new and old")
            continue
        path, new, old = item.get("path"), item.get("new"), item.get("old")
        why = check(path) if isinstance(path, str) else "must be a path"
        if why is not None:
            problems.append(f"{where}.path: {why}")
        if need_new and not (isinstance(new, str) and _DIGEST.fullmatch(new)):
            problems.append(f"{where}.new: must be a sha256 digest")
        if not (old is None and need_new) and not (isinstance(old, str) and _DIGEST.fullmatch(old)):
            problems.append(f"{where}.old: must be a sha256 digest")
        out.append(Move(str(path), str(new) if need_new else "", old))
    return tuple(out)


def _validated(out: Path, data: object, check: Check) -> Journal:
    if not isinstance(data, dict):
        raise BadJournal(["must be a JSON object"])
    problems = [f"unknown key {k!r}" for k in sorted(set(data) - {"version", "state", "staging", "moves", "deletes"})]
    if data.get("version") != VERSION:
        problems.append(f"version must be {VERSION}")
    if data.get("state") not in ("commit", "rollback"):
        problems.append("state must be commit or rollback")
    staging = data.get("staging")
    if not isinstance(staging, str) or not STAGING_RE.fullmatch(staging):
        problems.append("staging must name a directory of obs's own (.obs-staging-<pid>-<8 hex>)")
    elif not _real_dir(out / staging):
        problems.append(f"staging {staging} is not a real directory in the output directory")
    moves = _entries(data, "moves", check, problems, need_new=True)
    deletes = _entries(data, "deletes", check, problems, need_new=False)
    if problems:
        raise BadJournal(problems)
    return Journal(str(data["state"]), str(staging), moves, deletes)


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _matches(out: Path, rel: str, digest: str | None) -> bool:
    try:
        data = safepath.read(out, rel)
    except OSError:
        return False
    return data is not None and safepath.digest(data) == digest


def _held(out: Path, src: str) -> bool:
    """`out/src` is a regular file reached through real directories only (a staging tree may be planted)."""
    return safepath.is_file(out, src)


def _put(out: Path, src: str, rel: str, probe: safepath.Probe | None = None) -> None:
    """Move the staged or backed-up `out/src` to `out/rel`, creating real directories on the way. `probe` (one
    for the whole journal) remembers the directories checked and made."""
    probe = probe or safepath.Probe(out)
    if not probe.is_file(src):
        return   # moved already (an earlier, interrupted pass)
    why = probe.obstacle(rel)
    if why is not None:
        raise OSError(f"cannot write {rel}: {why}")
    folder = rel.rpartition("/")[0]
    if folder and not probe.is_dir(folder):
        (out / folder).mkdir(parents=True, exist_ok=True)
        probe.made(folder)
    os.replace(os.path.join(out, src), os.path.join(out, rel))


def _files_below(folder: str) -> set[str] | None:
    """Every file below `folder`, relative to it; None if anything there is neither a real folder nor a regular
    file (a staging tree may be planted)."""
    found: set[str] = set()
    pending = [("", folder)]
    while pending:
        rel, path = pending.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                name = f"{rel}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{name}/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found.add(name)
                else:
                    return None
    return found


def _move_new_folders(out: Path, j: Journal, probe: safepath.Probe) -> set[str]:
    """A folder the tree does not have yet moves whole, in one rename, where its staged copy holds exactly the
    files the journal moves into it: a fresh tree of 9,000 files is a handful of renames. The rename never replaces
    a folder that appeared meanwhile (safepath.rename_new); where it cannot be made, the files move one by one.
    Returns the folders moved."""
    into: dict[str, set[str]] = {}
    for m in j.moves:
        folder = m.path.rpartition("/")[0]
        top = probe.absent_top(folder) if folder else None
        if top is not None:
            into.setdefault(top, set()).add(m.path[len(top) + 1:])
    moved = set()
    for top, files in into.items():
        staged = os.path.join(out, j.staging, "new", top)
        if _real_dir(Path(staged)) and _files_below(staged) == files and safepath.rename_new(staged,
                                                                                             os.path.join(out, top)):
            probe.made(top)
            moved.add(top)
    return moved


def roll_forward(out: Path, j: Journal) -> None:
    probe = safepath.Probe(out)
    moved = _move_new_folders(out, j, probe)
    prefixes = tuple(f"{top}/" for top in moved)
    rest = [m for m in j.moves if not (prefixes and m.path.startswith(prefixes))]
    # Each move is one rename, independent of the others: at scale half of them run in a second process.
    halves.map_halves(lambda m: _put(out, f"{j.staging}/new/{m.path}", m.path, probe), rest)
    for d in j.deletes:
        if _matches(out, d.path, d.old):
            os.unlink(out / d.path)


def roll_back(out: Path, j: Journal) -> None:
    for m in j.moves:
        backup = f"{j.staging}/old/{m.path}"
        if _held(out, backup):
            _put(out, backup, m.path)
        elif m.old is None and _matches(out, m.path, m.new):
            os.unlink(out / m.path)   # it was new: it goes again
    for d in j.deletes:
        backup = f"{j.staging}/old/{d.path}"
        if _held(out, backup) and not safepath.is_file(out, d.path):
            _put(out, backup, d.path)


def finish(out: Path, j: Journal) -> None:
    """Carry out the journal's direction, then drop the journal, the staging and emptied directories."""
    (roll_forward if j.state == "commit" else roll_back)(out, j)
    safepath.fsync_dir(out)
    os.unlink(out / JOURNAL)
    shutil.rmtree(out / j.staging, ignore_errors=True)
    # Only a deletion can leave a directory empty (a rolled-back new file is one too).
    prune_empty_dirs(out, [m.path for m in (*j.deletes, *(m for m in j.moves if m.old is None))])
    safepath.fsync_dir(out)


def prune_empty_dirs(out: Path, touched: list[str]) -> None:
    """Remove directories emptied by obs's own deletions; never `out`, never through a link."""
    for folder in sorted({os.path.dirname(rel) for rel in touched if "/" in rel}, key=len, reverse=True):
        parent = out / folder
        while parent != out and _real_dir(parent) and not any(os.scandir(parent)):
            parent.rmdir()
            parent = parent.parent


def sweep_leftovers(out: Path) -> None:
    """Staging and journal temp files of runs killed before their commit: only names obs makes, only real ones."""
    for entry in os.scandir(out):
        if STAGING_RE.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        elif TMP_RE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)
