"""The persistent binary cache: layout, stamps, locks and all-or-nothing installs.

A build writes into a hidden temp directory and is renamed into place only after
every binary in it has answered its version command, so a killed or failed build
never leaves something that looks installed.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from obs.errors import StackError

STAMP = ".ok"
# A version command that takes longer than this is treated as a broken binary.
VERSION_TIMEOUT_S = 30


def cache_root() -> Path:
    env = os.environ.get("OBS_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "obs"


def bin_root() -> Path:
    return cache_root() / "bin"


def src_root() -> Path:
    return cache_root() / "src"


def log_root() -> Path:
    return cache_root() / "logs"


@contextmanager
def locked(key: str) -> Iterator[None]:
    """Serialise builds of one cache entry across processes (CLI and tests may overlap)."""
    lock_dir = cache_root() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{key}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_stamp(entry: Path) -> dict[str, Any] | None:
    """The entry's stamp, or None when it is missing or not what install() writes (a JSON object): the cache
    is a directory anyone can write to, so a damaged stamp means "build again", never a crash."""
    try:
        stamp = json.loads((entry / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def run_version(binary: Path, args: Sequence[str]) -> str | None:
    """First line of the binary's version output, or None if it does not run cleanly."""
    try:
        proc = subprocess.run(
            [str(binary), *args], capture_output=True, text=True,
            timeout=VERSION_TIMEOUT_S, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    out = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    return out[0] if out else ""


def is_ready(entry: Path, recipe: str, checks: Mapping[str, Sequence[str]]) -> bool:
    """True when the entry was stamped for this exact recipe and every binary still runs."""
    stamp = read_stamp(entry)
    if not stamp or stamp.get("recipe") != recipe:
        return False
    return all(run_version(entry / b, args) is not None for b, args in checks.items())


def install(
    entry: Path,
    recipe: str,
    checks: Mapping[str, Sequence[str]],
    build: Callable[[Path], None],
) -> dict[str, Any] | None:
    """Build `entry` unless it is ready. Returns the new stamp, or None if it was skipped.

    `build(tmp)` must leave every binary named in `checks` inside `tmp`.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    with locked(entry.name):
        if is_ready(entry, recipe, checks):
            return None
        # Holding the lock means any leftover temp dir belongs to a dead build.
        for stale in entry.parent.glob(f".tmp-{entry.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = entry.parent / f".tmp-{entry.name}-{os.getpid()}"
        tmp.mkdir()
        try:
            started = time.monotonic()
            build(tmp)
            seconds = round(time.monotonic() - started, 1)
            versions = {}
            for binary, args in checks.items():
                line = run_version(tmp / binary, args)
                if line is None:
                    raise StackError(
                        f"{binary} was built but `{binary} {' '.join(args)}` failed; "
                        f"the build in {tmp} is broken. Delete {entry} and rebuild."
                    )
                versions[binary] = line
            stamp = {
                "recipe": recipe,
                "build_seconds": seconds,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "versions": versions,
            }
            (tmp / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
            if entry.is_symlink() or entry.is_file():
                entry.unlink()
            elif entry.exists():
                shutil.rmtree(entry)
            os.rename(tmp, entry)
            return stamp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def point_link(link: Path, target: Path) -> None:
    """Atomically make `link` a relative symlink to `target` (a sibling directory)."""
    tmp = link.parent / f".tmp-link-{link.name}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(tmp, link)
