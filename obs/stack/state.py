"""The native stack's state directory, <out>/.obs: pid records, logs, data, secrets, a lock.

A pid record keeps the process's start time and command line as well as its pid,
so a pid the kernel has since given to another process is never mistaken for ours
and never signalled.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from obs.model import conventions as c
from obs.stack import cache, tools

LOG_ROTATE_BYTES = 20 * 1024 * 1024
MAX_RECORD_BYTES = 1 << 20


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    started: str                 # kernel start time of the process: survives nothing but that process
    cmdline: list[str]
    fingerprint: str             # binary, argv and watched config contents when it was started
    log_offset: int = 0          # where this run's output begins in the log
    started_at: str = ""         # wall clock, for people


def identity(pid: int) -> tuple[str, list[str]] | None:
    """(start time, argv) of a live, non-zombie process, or None."""
    _reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return _identity_from_ps(pid)
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19], [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]]


def _identity_from_ps(pid: int) -> tuple[str, list[str]] | None:
    """Where there is no /proc (macOS), ps gives the start time; argv is compared as one string."""
    ps = str(tools.system_tool("ps"))
    proc = subprocess.run([ps, "-o", "lstart=,stat=", "-p", str(pid)], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip() or proc.stdout.split()[-1].startswith("Z"):
        return None
    cmd = subprocess.run([ps, "-o", "command=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return " ".join(proc.stdout.split()[:-1]), cmd.split(" ")


def _reap(pid: int) -> None:
    # When this Python process started the child (tests, a long `obs up`), collect it so
    # a killed component does not linger as a zombie that still looks alive.
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def _plausible(rec: ProcessRecord) -> bool:
    types = (isinstance(rec.pid, int) and not isinstance(rec.pid, bool) and rec.pid > 1 and
             isinstance(rec.started, str) and isinstance(rec.fingerprint, str) and isinstance(rec.cmdline, list) and
             bool(rec.cmdline) and all(isinstance(a, str) for a in rec.cmdline) and isinstance(rec.log_offset, int))
    if not types:
        return False
    # obs's own receivers and the `ha` stack's name server run as `<this python> -m ...`; every other component
    # is a binary obs built into its cache.
    if rec.cmdline[0] == sys.executable and (rec.cmdline[1:4] == ["-m", "obs", "receivers"]
                                             or rec.cmdline[1:3] == ["-m", "obs.stack.dns"]):
        return True
    return Path(os.path.normpath(rec.cmdline[0])).is_relative_to(cache.bin_root())


def is_running(rec: ProcessRecord) -> bool:
    found = identity(rec.pid)
    # Joined, because ps (the fallback where there is no /proc) loses argument boundaries.
    return found is not None and found[0] == rec.started and " ".join(found[1]) == " ".join(rec.cmdline)


class State:
    def __init__(self, out: Path):
        self.out = out
        self.root = out / c.STATE_DIR

    def pid_file(self, name: str) -> Path:
        return self.out / c.STATE_PIDS / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.out / c.STATE_LOGS / f"{name}.log"

    def data_dir(self, name: str) -> Path:
        return self.out / c.state_data_dir(name)

    def prepare(self) -> None:
        for d in (self.root, self.out / c.STATE_PIDS, self.out / c.STATE_LOGS):
            d.mkdir(parents=True, exist_ok=True)
        # State must never be committed, wherever the output directory lives.
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# obs runtime state: pids, logs, data, secrets\n*\n")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One `obs up`/`obs down` at a time per output directory."""
        self.prepare()
        with open(self.root / "lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def read(self, name: str) -> ProcessRecord | None:
        """The pid record, or None when there is none or it is not one obs wrote.

        The state directory sits in the user's tree, so a record is untrusted: it must have the
        right types and name a binary from obs's own cache, or obs will never signal its pid."""
        path = self.pid_file(name)
        if path.is_symlink() or path.parent.is_symlink() or self.root.is_symlink():
            return None
        try:
            with open(path, "rb") as fh:
                raw = json.loads(fh.read(MAX_RECORD_BYTES))
            rec = ProcessRecord(**raw)
        except (OSError, ValueError, TypeError):
            return None
        return rec if _plausible(rec) else None

    def write(self, name: str, rec: ProcessRecord) -> None:
        path = self.pid_file(name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(rec), indent=2) + "\n")
        os.replace(tmp, path)

    def forget(self, name: str) -> None:
        self.pid_file(name).unlink(missing_ok=True)

    def running(self, name: str) -> ProcessRecord | None:
        rec = self.read(name)
        return rec if rec is not None and is_running(rec) else None

    def open_log(self, name: str, argv: list[str]) -> tuple[BinaryIO, int]:
        """The log opened for appending, a header written; returns (file, offset of this run)."""
        path = self.log_file(name)
        if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(path, path.with_suffix(".log.1"))
        fh = open(path, "ab")
        offset = fh.tell()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        fh.write(f"--- obs up {stamp}: {' '.join(argv)}\n".encode())
        fh.flush()
        return fh, offset

    def tail(self, name: str, lines: int = 20, offset: int = 0) -> list[str]:
        try:
            with open(self.log_file(name), "rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except OSError:
            return []
        return data.decode(errors="replace").splitlines()[-lines:]

    def write_runtime(self, runtime: str) -> None:
        self.prepare()
        (self.root / "runtime").write_text(runtime + "\n")

    def runtime(self) -> str | None:
        try:
            return (self.root / "runtime").read_text().strip() or None
        except OSError:
            return None
