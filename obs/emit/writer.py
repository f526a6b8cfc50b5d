"""Writes a generated tree so that a kill at any moment leaves it wholly old or wholly new.

New content is staged beside the tree, then a journal naming every move is committed
with one atomic rename. Before the journal exists the old tree is untouched; after,
any obs command rolls the moves forward before reading or writing. Unchanged files are
not rewritten, so their mtimes stay and config reloads are not triggered for nothing.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from obs.model import conventions as c

JOURNAL = ".obs-journal.json"
STAGING_PREFIX = ".obs-staging-"


@dataclass
class Drift:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    pending: bool = False          # an interrupted write awaits roll-forward

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.pending)


def owned_files(out: Path) -> set[str]:
    """Files in obs's part of the tree; user dashboards written in Python are the user's."""
    found: set[str] = set()
    for top in c.OWNED:
        base = out / top
        if base.is_file():
            found.add(top)
        elif base.is_dir():
            for p in base.rglob("*"):
                if p.is_file() and not p.name.endswith(c.USER_DASHBOARD_SUFFIX) and "__pycache__" not in p.parts:
                    found.add(p.relative_to(out).as_posix())
    return found


def diff(out: Path, files: dict[str, str]) -> Drift:
    drift = Drift(pending=(out / JOURNAL).exists())
    for rel, content in sorted(files.items()):
        target = out / rel
        if not target.is_file():
            drift.missing.append(rel)
        elif target.read_bytes() != content.encode("utf-8"):
            drift.changed.append(rel)
    drift.extra = sorted(owned_files(out) - set(files))
    return drift


def _fsync_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(out: Path) -> bool:
    """Finish an interrupted write, or drop an uncommitted one. Returns True if it rolled forward."""
    journal = out / JOURNAL
    rolled = False
    if journal.exists():
        plan = json.loads(journal.read_text())
        staging = out / plan["staging"]
        for rel in plan["files"]:
            src = staging / rel
            if src.exists():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, out / rel)
        for rel in plan["delete"]:
            (out / rel).unlink(missing_ok=True)
        _prune_empty_dirs(out, plan["delete"])
        shutil.rmtree(staging, ignore_errors=True)
        journal.unlink()
        _fsync_dir(out)
        rolled = True
    for leftover in out.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.glob(JOURNAL + ".*.tmp"):   # a journal killed before its commit rename
        leftover.unlink(missing_ok=True)
    return rolled


def _prune_empty_dirs(out: Path, removed: list[str]) -> None:
    for rel in removed:
        parent = (out / rel).parent
        while parent != out and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One writer per tree: a second generate's recovery would otherwise delete the first's staging.

    The lock is taken on the directory itself, so it leaves no file in the user's tree."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write(out: Path, files: dict[str, str]) -> Drift:
    """Make `out` hold exactly `files` in obs's part of the tree. Returns what changed."""
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        return _write_locked(out, files)


def _write_locked(out: Path, files: dict[str, str]) -> Drift:
    recover(out)
    drift = diff(out, files)
    if drift.clean:
        return drift
    staging_name = f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = out / staging_name
    moves = drift.changed + drift.missing
    for rel in moves:
        _fsync_write(staging / rel, files[rel].encode("utf-8"))
    tmp = out / f"{JOURNAL}.{uuid.uuid4().hex[:8]}.tmp"
    _fsync_write(tmp, json.dumps({"staging": staging_name, "files": moves, "delete": drift.extra}).encode())
    os.replace(tmp, out / JOURNAL)   # the commit point
    _fsync_dir(out)
    recover(out)
    return drift
