"""Paths inside an output directory, checked so that nothing obs reads, writes or deletes escapes it.

Every relative path comes either from a generator or from a state file in the user's tree, and the
latter is untrusted: a path is accepted only in normal form (no `..`, no `.`, not absolute). Every
component below the output directory is checked with lstat, so a symbolic link anywhere on the way
(a linked `dashboards/`, a linked file) is an obstacle that is reported, never followed.
"""
from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

MAX_PATH = 1024


_CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x1f\\]")


def rel_problem(rel: object) -> str | None:
    """Why `rel` is not a plain relative path inside the output directory, or None when it is.

    It runs for every entry of the ownership record (9,000 at a thousand services) before any --check: a search
    and list lookups, not a Python step per character. A relative path with no empty, `.` or `..` component is
    already in normal form (tests/emit/test_rel_problem.py holds this to PurePosixPath's)."""
    if not isinstance(rel, str) or not rel:
        return "must be a non-empty relative path"
    if len(rel) > MAX_PATH or _CONTROL_OR_BACKSLASH.search(rel):
        return "must be a short path without control characters or backslashes"
    if rel.startswith("/"):
        return "must be relative to the output directory, not absolute"
    parts = rel.split("/")
    if "" in parts or "." in parts or ".." in parts:
        return "must be in normal form, without `..`, `.` or empty components"
    return None


def obstacle(out: Path, rel: str, *, leaf_may_be_dir: bool = False) -> str | None:
    """`path: why` obs may not read or replace the file `out/rel`, naming the path in the way; None if none is.

    Missing components are fine (they will be created); links and non-directories on the way are not."""
    parts = rel.split("/")
    current = os.fspath(out)
    for i, part in enumerate(parts):
        current = os.path.join(current, part)   # strings, not Path: this runs for every file of every write
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return f"{'/'.join(parts[:i])}: is not a directory, but {rel} must go inside it"
        shown = "/".join(parts[: i + 1])
        if stat.S_ISLNK(st.st_mode):
            return (f"{shown}: is a symbolic link (to {os.readlink(current)}); obs never follows links out of its "
                    "output directory: replace the link with a real directory or file")
        last = i == len(parts) - 1
        if not last and not stat.S_ISDIR(st.st_mode):
            return f"{shown}: is not a directory, but {rel} must go inside it; move {shown} away"
        if last and stat.S_ISDIR(st.st_mode) and not leaf_may_be_dir:
            return f"{rel}: is a directory where obs writes a file; move it away"
        if last and not stat.S_ISDIR(st.st_mode) and not stat.S_ISREG(st.st_mode):
            return f"{rel}: is not a regular file; move it away"
    return None


class Probe:
    """obstacle(), unwritable(), read() and is_file() for the many paths of one tree, with what each directory is
    remembered: one lstat per directory instead of one per component of every path (at a thousand services, most
    of planning a write). Anything but a real directory or a missing one is handed to the functions above, so the
    verdicts and their messages are theirs. A directory obs creates is told with made()."""

    _DIR, _ABSENT, _OTHER = "dir", "absent", "other"

    def __init__(self, out: Path) -> None:
        self.out = out
        self._root = os.fspath(out)
        self._dirs: dict[str, str] = {"": self._DIR}
        self._writable: dict[str, Path | None] = {}

    def _dir(self, rel: str) -> str:
        state = self._dirs.get(rel)
        if state is None:
            parent = rel.rpartition("/")[0]
            state = self._dir(parent)
            if state == self._DIR:
                try:
                    mode = os.lstat(os.path.join(self._root, rel)).st_mode
                    state = self._DIR if stat.S_ISDIR(mode) else self._OTHER
                except FileNotFoundError:
                    state = self._ABSENT
                except OSError:
                    state = self._OTHER
            self._dirs[rel] = state
        return state

    def is_dir(self, rel_dir: str) -> bool:
        """`out/rel_dir` is a real directory reached through real directories."""
        return self._dir(rel_dir) == self._DIR

    def absent_top(self, rel_dir: str) -> str | None:
        """The outermost folder on the way to `rel_dir` (itself included) that does not exist, under real
        directories only; None when all exist, or when something other than a directory is in the way."""
        parts = rel_dir.split("/")
        for k in range(1, len(parts) + 1):
            prefix = "/".join(parts[:k])
            state = self._dir(prefix)
            if state == self._ABSENT:
                return prefix
            if state != self._DIR:
                return None
        return None

    def made(self, rel_dir: str) -> None:
        """`rel_dir` and its parents are now real directories obs created."""
        while rel_dir and self._dirs.get(rel_dir) != self._DIR:
            self._dirs[rel_dir] = self._DIR
            rel_dir = rel_dir.rpartition("/")[0]

    def _leaf(self, rel: str) -> int | None:
        """The mode of `out/rel` when every directory on the way is real; None when something is missing."""
        state = self._dir(rel.rpartition("/")[0])
        if state == self._ABSENT:
            return None
        if state == self._OTHER:
            return -1
        try:
            return os.lstat(os.path.join(self._root, rel)).st_mode
        except FileNotFoundError:
            return None
        except OSError:
            return -1

    def obstacle(self, rel: str) -> str | None:
        mode = self._leaf(rel)
        if mode is None or (mode >= 0 and stat.S_ISREG(mode)):
            return None
        return obstacle(self.out, rel)

    def unwritable(self, rel: str) -> str | None:
        parent = rel.rpartition("/")[0]
        if parent not in self._writable:
            self._writable[parent] = _unwritable_folder(self.out, self.out / parent if parent else self.out)
        folder = self._writable[parent]
        return None if folder is None else _unwritable_message(self.out, folder, rel)

    def is_file(self, rel: str) -> bool:
        mode = self._leaf(rel)
        return mode is not None and (stat.S_ISREG(mode) if mode >= 0 else is_file(self.out, rel))

    def read(self, rel: str) -> bytes | None:
        """read(out, rel), with the way already checked by obstacle()."""
        mode = self._leaf(rel)
        if mode is None:
            return None
        if mode < 0 or not stat.S_ISREG(mode):
            return read(self.out, rel)   # raises where something is in the way
        return _read_file(os.path.join(self._root, rel))

    def examine(self, rel: str) -> tuple[str | None, bytes | None]:
        """(obstacle(rel), and read(rel) where there is none) with one lstat of the file, not one for each: a
        plan asks both of every file it writes."""
        mode = self._leaf(rel)
        if mode is None:
            return None, None
        if mode < 0 or not stat.S_ISREG(mode):
            why = obstacle(self.out, rel)
            return why, None if why else read(self.out, rel)
        return None, _read_file(os.path.join(self._root, rel))


def unwritable(out: Path, rel: str) -> str | None:
    """`folder: why` the directory that will hold `out/rel` cannot take a new entry, or None."""
    folder = _unwritable_folder(out, (out / rel).parent)
    return None if folder is None else _unwritable_message(out, folder, rel)


def _unwritable_folder(out: Path, folder: Path) -> Path | None:
    """The folder that would refuse a new entry below `folder` (itself or the nearest that exists), or None."""
    while not folder.exists() and folder != out:
        folder = folder.parent
    return None if os.access(folder, os.W_OK | os.X_OK) else folder


def _unwritable_message(out: Path, folder: Path, rel: str) -> str:
    return (f"{folder.relative_to(out).as_posix() or '.'}: is not writable, so {rel} cannot be written; "
            "fix its permissions")


def read(out: Path, rel: str) -> bytes | None:
    """The bytes of `out/rel` without following any link, or None when it does not exist.

    Raises OSError with errno ELOOP when a link is in the way: call obstacle() first to say why."""
    problem = obstacle(out, rel)
    if problem is not None:
        raise OSError(errno.ELOOP, problem, str(out / rel))
    return _read_file(out / rel)


def _read_file(path: str | Path) -> bytes | None:
    """The whole file: one read of the size fstat gives, then reads until one finds the end (a file may grow
    meanwhile, and a read may return less than asked). A buffered reader's loop took half as long again over a
    thousand services' files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    try:
        data = os.read(fd, os.fstat(fd).st_size + 1)
        if not data:
            return data
        rest = []
        while more := os.read(fd, 1 << 20):
            rest.append(more)
        return data + b"".join(rest) if rest else data
    finally:
        os.close(fd)


class BadState(Exception):
    """A state file in the user's tree that obs cannot read as its own; `problem` says why."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(problem)


MISSING = object()   # what read_json returns when there is no such file


def read_json(out: Path, rel: str, max_bytes: int) -> object:
    """A JSON state file of obs's (the ownership record, the journal), read as untrusted input: never through
    a link, at most `max_bytes`. Returns MISSING when there is none; raises BadState saying what is wrong."""
    why = obstacle(out, rel)
    if why is not None:
        raise BadState(why)
    try:
        fd = os.open(out / rel, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return MISSING
    with os.fdopen(fd, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise BadState(f"is larger than {max_bytes >> 20} MiB")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadState(f"is not valid JSON ({e})") from None



def is_file(out: Path, rel: str) -> bool:
    try:
        return obstacle(out, rel) is None and stat.S_ISREG(os.lstat(out / rel).st_mode)
    except FileNotFoundError:
        return False


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_synced(path: Path, data: bytes) -> None:
    """Write a new file and fsync it; O_EXCL|O_NOFOLLOW, so a link or file planted at `path` is never followed."""
    write_new(path, data, sync=True)


def write_new(path: str | Path, data: bytes, sync: bool = False, make_parent: bool = True) -> None:
    """Write a new file (fsynced if `sync`); O_EXCL|O_NOFOLLOW, so a link or file planted at `path` is never
    followed."""
    if make_parent:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def rename_new(src: str, dst: str) -> bool:
    """Rename `src` to `dst` only if nothing is at `dst` (renameat2 with RENAME_NOREPLACE): True if renamed, False
    if something is there or the system cannot promise not to replace it. os.rename would replace an empty folder
    that appeared meanwhile."""
    renameat2 = getattr(_LIBC, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EEXIST, errno.EINVAL, errno.ENOSYS, errno.ENOTEMPTY):
        return False
    raise OSError(err, os.strerror(err), dst)


class Flusher:
    """Puts a filesystem's written pages on disk while a writer is still making files, so that making them all
    durable at the end (sync()) waits for the last of them only. At a thousand services a write stages 120 MiB,
    and one syncfs(2) after the last file took 0.09 to 0.14 s on ext4, with every core idle meanwhile. Flushed on a
    thread beside the writing (flushing()), the last one takes under 0.01 s; the writing takes a little longer, as the
    flushes share the cores, and the two together 0.9x the time (BENCHMARKS.md).

    Every flush, the last one too, is a syncfs(2) on one descriptor, opened before the first file is written: the
    kernel reports a write-back error once per descriptor, so one that a flush on the thread meets is kept, and
    raised by sync()."""

    INTERVAL_S = 0.02   # between flushes: each one writes what the last one left, a few MiB at this pace

    def __init__(self, path: Path) -> None:
        self._syncfs = getattr(_LIBC, "syncfs", None)
        self._path = str(path)
        self._fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY) if self._syncfs is not None else None
        self._error: OSError | None = None
        self._stop = threading.Event()

    @contextmanager
    def flushing(self) -> Iterator[None]:
        """Flushes on a thread of its own while the block runs. No fork may be made meanwhile (obs.forked: a fork
        copies no other thread)."""
        if self._fd is None:
            yield
            return
        self._stop.clear()
        thread = threading.Thread(target=self._loop, name="obs-flush", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._flush()
            self._stop.wait(self.INTERVAL_S)

    def _flush(self) -> None:
        if self._syncfs is None or self._fd is None:
            return
        if cast("int", self._syncfs(self._fd)) != 0 and self._error is None:
            err = ctypes.get_errno()
            self._error = OSError(err, os.strerror(err), self._path)

    def sync(self) -> bool:
        """Everything written on the filesystem on disk, with one more syncfs(2); any error a flush met raised.
        False where the system has no syncfs (the caller then fsyncs file by file)."""
        if self._fd is None:
            return False
        self._flush()
        if self._error is not None:
            raise self._error
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
