"""Writes a generated tree all or nothing, touching only files obs itself wrote.

Ownership: `.obs-owned.json` (obs.emit.ownership) names every file obs wrote, with its hash. A file
obs would write that exists with other content is overwritten only if the record names it with the
hash it still has (`force` overrides a user's edit; `adopt` takes over a file obs never wrote); a
file obs no longer generates is deleted only if its hash still matches. Everything else in the
output directory is the user's, whatever folder it sits in.

All or nothing: every obstacle (a user's file, an edited one, a link, a directory where a file
goes, an unwritable folder, a bad state file) is found before anything in the tree changes, and
reported at once. New content is staged in obs's own folder as the plan meets it (the folder is
dropped whole if the plan finds an obstacle), made durable (one syncfs(2) of the filesystem, not
an fsync per file), the journal committed with one rename (obs.emit.journal), and the moves made;
a failure part-way rolls every path back to its old bytes. Unchanged files are not rewritten, so their mtimes
stay and config reloads are not triggered for nothing.
"""
from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, cast, runtime_checkable

from obs.emit import halves, ownership, safepath
from obs.emit import journal as jr
from obs.emit.journal import JOURNAL, STAGING_PREFIX  # noqa: F401 (re-exported for callers and tests)
from obs.emit.ownership import RECORD, Layout
from obs.errors import InputError, WriteFailed


@dataclass
class Drift:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)      # obs's own files it no longer generates: deleted
    kept: list[str] = field(default_factory=list)       # ... but edited since, so left alone ("path: why")
    blocked: list[str] = field(default_factory=list)    # obstacles that stop a write ("path: why")
    pending: bool = False                               # an interrupted write awaits roll-forward

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.blocked or self.pending)


@dataclass(frozen=True)
class Options:
    adopt: frozenset[str] = frozenset()       # existing files obs may take over
    force: bool = False                       # overwrite obs's files even where a user edited them
    protected: frozenset[str] = frozenset()   # never written or deleted (the spec itself)


def tree(files: Mapping[str, str]) -> dict[str, str]:
    """What the output directory holds of obs's after writing `files`: them and their record."""
    return {**files, RECORD: ownership.render({k: v.encode("utf-8") for k, v in files.items()})}


def _state_check(layout: Layout) -> jr.Check:
    return lambda rel: None if rel == RECORD else layout.problem(rel)


def _record(root: Path, shown: Path, layout: Layout) -> ownership.Record:
    try:
        return ownership.read(root, layout)
    except ownership.BadRecord as e:
        raise InputError("\n".join(f"{shown / RECORD}: {p}" for p in e.problems) + "\n" + (
            f"{shown / RECORD} is not a record obs wrote, so obs will not act on it. Restore it from version "
            "control, or delete it: obs then treats every existing file as not its own until you --adopt it.")
        ) from None


def _journal(root: Path, shown: Path, layout: Layout) -> jr.Journal | None:
    try:
        return jr.read(root, _state_check(layout))
    except jr.BadJournal as e:
        raise InputError("\n".join(f"{shown / JOURNAL}: {p}" for p in e.problems) + "\n" + (
            f"{shown / JOURNAL} is not a journal obs wrote, so obs will not act on it. If you did not put it "
            f"there, delete it (and any {STAGING_PREFIX}* folder beside it).")) from None


@runtime_checkable
class Units(Protocol):
    """Files to write that say which of them are best made one after another in one process
    (obs.generate.stamp_tree.Tree: a service's files rendered in full share its rule groups): every path once, in
    groups. Any other mapping's files are made one at a time, in path order."""

    def units(self) -> list[tuple[str, ...]]: ...


@dataclass
class _Plan:
    drift: Drift
    new: dict[str, str]             # the digest of every file to write, the record included
    digests: dict[str, str]         # the recorded digest of each file about to be replaced or deleted


_MISSING, _CHANGED, _SAME, _BLOCKED = "missing", "changed", "same", "blocked"   # a file, to the plan


class _Stager:
    """New content written into obs's own staging folder while the plan is still being made, so each file is made
    (stamped, encoded) once, not once to compare and again to stage. Nothing in the user's tree changes until the
    journal is committed; a plan that finds an obstacle drops the staging folder whole."""

    def __init__(self, root: Path) -> None:
        self.folder = root / jr.new_staging_name()
        self._new = os.path.join(self.folder, "new")
        self._made: set[str] = set()   # folders made below it
        self._flusher: safepath.Flusher | None = None   # once the folder is made: it flushes what is staged there

    def made(self) -> Path:
        """The staging folder, made on first use: a run that changes nothing makes none."""
        if self._flusher is None:
            self.folder.mkdir(mode=0o700)
            self._flusher = safepath.Flusher(self.folder)   # before the first file: see Flusher
        return self.folder

    def flushing(self) -> AbstractContextManager[object]:
        """Puts what is staged on disk while the block stages more (safepath.Flusher), once the folder is made."""
        return nullcontext() if self._flusher is None else self._flusher.flushing()

    def durable(self) -> bool:
        """Everything staged on disk (one syncfs); False where the system cannot flush it at once."""
        return self._flusher.sync() if self._flusher is not None else True

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.close()

    def put(self, rel: str, data: bytes) -> None:
        self.made()
        path = self.path(rel)
        folder = os.path.dirname(path)
        if folder not in self._made:   # the staging tree is obs's own, made just now: one mkdir per folder
            # The modes a folder made in place would have: a new folder moves into the tree whole (journal). The
            # staging folder itself (0700) keeps them private until then.
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        safepath.write_new(path, data, make_parent=False)

    def path(self, rel: str) -> str:
        return os.path.join(self._new, rel)


def _plan(root: Path, shown: Path, files: Mapping[str, str], layout: Layout, opts: Options,
          stager: _Stager | None = None) -> _Plan:
    """What writing `files` changes, and every obstacle to it; with a stager, the new content is staged as found."""
    record = _record(root, shown, layout)
    drift = Drift(pending=safepath.is_file(root, JOURNAL))
    digests: dict[str, str] = {}
    problems: list[tuple[str, str]] = []   # (path, why), put in path order below
    probe = safepath.Probe(root)

    def visit(rel: str, data: bytes) -> tuple[str, str | None, str | None]:
        """(what the file is to the plan, the digest it has now if it is replaced, the problem if any)."""
        why, current = probe.examine(rel)
        why = why or probe.unwritable(rel)
        if why is None and rel in opts.protected:
            why = f"{rel}: is the spec obs reads, which generate never writes; move the spec or use another --out"
        if why is not None:
            return _BLOCKED, None, why
        if current is None:
            if stager is not None:
                stager.put(rel, data)
            return _MISSING, None, None
        if current == data:
            return _SAME, None, None
        digest = safepath.digest(current)
        ours = record.files.get(rel) == digest or (opts.force and rel in record.files)
        if rel == RECORD or ours or rel in opts.adopt:
            if stager is not None:
                stager.put(rel, data)
            return _CHANGED, digest, None
        if rel in record.files:   # drifted for --check; and generate will not overwrite it unasked
            return _CHANGED, None, (f"{rel}: refusing to overwrite: edited since obs wrote it; make the change in "
                                    "the spec (obs regenerates this file from it), or pass --force to overwrite "
                                    "the edit")
        return _BLOCKED, None, f"{rel}: refusing to overwrite: not written by obs; move it or pass --adopt {rel}"

    def one(rel: str) -> tuple[str, tuple[str, str | None, str | None]]:
        data = files[rel].encode("utf-8")   # made (stamped) and encoded once, then dropped
        return safepath.digest(data), visit(rel, data)

    def take(rel: str, outcome: tuple[str, str | None, str | None]) -> None:
        kind, digest, why = outcome
        if kind == _MISSING:
            drift.missing.append(rel)
        elif kind == _CHANGED:
            drift.changed.append(rel)
            if why is None:
                digests[rel] = cast(str, digest)
        if why is not None:
            problems.append((rel, why))

    # One pass over the files, half of it in a second process at scale (obs.emit.halves), a unit of files (Units) at
    # a time; the record, which holds every digest, comes last.
    split = halves.can_split(len(files))
    if stager is not None and split:
        stager.made()   # before the fork: both processes stage into it
    units = files.units() if isinstance(files, Units) else [(rel,) for rel in sorted(files)]
    new: dict[str, str] = {}
    done = halves.map_halves(lambda unit: [one(rel) for rel in unit], units, split=split,
                             beside=nullcontext if stager is None else stager.flushing)
    for unit, outcomes in zip(units, done, strict=True):
        for rel, (digest, outcome) in zip(unit, outcomes, strict=True):
            new[rel] = digest
            take(rel, outcome)
    record_text = ownership.render_digests(new).encode("utf-8")
    new[RECORD] = safepath.digest(record_text)
    take(RECORD, visit(RECORD, record_text))
    drift.missing.sort()
    drift.changed.sort()
    problems.sort(key=lambda p: p[0])   # stable: each path's own problems keep their order
    blocked: dict[str, None] = dict.fromkeys(why for _, why in problems)   # one link in the way blocks many files
    for rel in sorted(set(record.files) - set(new) - opts.protected):
        why, current = probe.examine(rel)
        if why:
            drift.kept.append(f"{rel}: no longer generated, but {why.split(': ', 1)[0]} is in the way; left alone")
        elif current is None:
            continue
        elif safepath.digest(current) == record.files[rel] and layout.marked(current):
            drift.extra.append(rel)
            digests[rel] = record.files[rel]
        else:
            why = ("edited since obs wrote it" if layout.marked(current)
                   else "it does not carry obs's generated-file marker")
            drift.kept.append(f"{rel}: no longer generated, but {why}; left in place, and no longer obs's: delete it "
                              "yourself if it is not needed")
    for rel in sorted(opts.adopt - set(new)):
        blocked[f"{rel}: --adopt names a file obs does not generate; drop the option"] = None
    drift.blocked = list(blocked)
    return _Plan(drift, new, digests)


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


def diff(out: Path, files: Mapping[str, str], layout: Layout, options: Options = Options()) -> Drift:
    """What write() would do, without doing it: `obs generate --check`."""
    if not out.is_dir():
        return Drift(missing=sorted([*files, RECORD]))
    with _filesystem_errors(out, "nothing was changed"):
        return _plan(out.resolve(), out, files, layout, options).drift


def recover(out: Path, layout: Layout) -> bool:
    """Finish an interrupted write (or its rollback). Returns True if a journal was carried out."""
    root = out.resolve()
    j = _journal(root, out, layout)
    if j is not None:
        jr.finish(root, j)
    jr.sweep_leftovers(root)
    return j is not None


def write(out: Path, files: Mapping[str, str], layout: Layout, options: Options = Options()) -> Drift:
    """Make `out` hold `files` in obs's part of the tree. Returns what changed; raises before changing anything."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{out}: cannot be the output directory: {e.strerror or e}") from None
    root = out.resolve()
    with _filesystem_errors(out, "nothing was changed"), _exclusive(root):
        recover(out, layout)
        with closing(_Stager(root)) as stager:
            try:
                plan = _plan(root, out, files, layout, options, stager)
                drift = plan.drift
                if drift.blocked:
                    raise InputError("\n".join(f"{out / b}" for b in drift.blocked) + "\nnothing was written")
            except BaseException:
                shutil.rmtree(stager.folder, ignore_errors=True)
                raise
            if drift.changed or drift.missing or drift.extra:
                _commit(root, out, plan, stager)
        return drift


@contextmanager
def _filesystem_errors(shown: Path, outcome: str) -> Iterator[None]:
    """An OSError before the commit (a folder that cannot be read, locked or listed) names its path."""
    try:
        yield
    except OSError as e:
        raise WriteFailed(f"{_cause(e, shown)}; {outcome}") from None


def _stage(root: Path, plan: _Plan, stager: _Stager) -> jr.Journal:
    d = plan.drift
    staging = stager.made().name
    # Durable before the journal names them: one flush of the filesystem, else an fsync per file.
    if not stager.durable():
        for rel in (*d.changed, *d.missing):
            safepath.fsync_file(stager.path(rel))
    for rel in (*d.changed, *d.extra):   # backups, so a failure part-way can restore every byte
        backup = root / staging / "old" / rel
        backup.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(root / rel, backup, follow_symlinks=False)
        except OSError:
            shutil.copyfile(root / rel, backup, follow_symlinks=False)
    moves = tuple(jr.Move(rel, plan.new[rel], plan.digests.get(rel))
                  for rel in (*d.changed, *d.missing))
    deletes = tuple(jr.Move(rel, "", plan.digests[rel]) for rel in d.extra)
    return jr.Journal("commit", staging, moves, deletes)


def _commit(root: Path, shown: Path, plan: _Plan, stager: _Stager) -> None:
    try:
        journal = _stage(root, plan, stager)
    except OSError as e:
        jr.sweep_leftovers(root)
        raise WriteFailed(f"{_cause(e, shown)}; nothing was changed") from None
    jr.commit(root, journal)
    try:
        jr.finish(root, journal)
    except OSError as e:
        _roll_back(root, shown, journal, e)


def _roll_back(root: Path, shown: Path, journal: jr.Journal, cause: OSError) -> None:
    what = _cause(cause, shown)
    try:
        back = replace(journal, state="rollback")
        jr.commit(root, back)
        jr.finish(root, back)
    except OSError as e:
        raise WriteFailed(f"{what}; restoring the old files failed too ({_cause(e, shown)}). "
                          f"The restore is recorded in {shown / JOURNAL}: fix the cause and run any obs command "
                          "to finish it") from None
    raise WriteFailed(f"{what}; every file was put back as it was, nothing changed") from None


def _cause(e: OSError, shown: Path) -> str:
    """`path: what the system said`, the path the error names or else the output directory."""
    return f"{e.filename or shown}: {e.strerror or e}"


def read_owned(out: Path, layout: Layout, max_bytes: int) -> dict[str, bytes]:
    """The files the record in `out` names, as they are now (edits included), never through a link."""
    root = out.resolve()
    record = _record(root, out, layout)
    return {rel: data for rel in sorted(record.files) if safepath.is_file(root, rel)
            and (root / rel).stat().st_size <= max_bytes and (data := safepath.read(root, rel)) is not None}


def relative_to(out: Path, paths: Iterable[Path]) -> frozenset[str]:
    """User-given paths (relative to the current directory or to `out`) as paths inside `out`."""
    base = os.path.abspath(out)
    found = set()
    for p in paths:
        rel = os.path.relpath(os.path.abspath(p), base)
        if rel.startswith(".."):
            rel = Path(p).as_posix()
        found.add(rel.replace(os.sep, "/"))
    return frozenset(found)
