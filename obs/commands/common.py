"""Options and output helpers shared by commands, so every command behaves alike."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from obs.batch import batch
from obs.emit import safepath
from obs.errors import InputError, Problem, SpecError
from obs.generate.common import Inputs
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.durations import Duration
from obs.project import load_model

if TYPE_CHECKING:
    from rich.console import Console


@functools.cache
def err_console() -> Console:
    """The stderr console, made (and rich imported) on first use: `obs generate` prints with click alone."""
    from rich.console import Console
    return Console(stderr=True, highlight=False)


def out_console() -> Console:
    """stdout console; when piped (CI logs, `make demo`), wide enough that tables do not wrap every cell."""
    from rich.console import Console
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=140)
    return console


def load(spec: Path) -> Model:
    with batch():
        return load_model(spec)


def out_dir_for(spec: Path, out: Path | None) -> Path:
    """Artifacts go beside the spec unless --out says otherwise."""
    return out if out is not None else (spec.parent if str(spec.parent) else Path("."))


def progress(message: str) -> None:
    err_console().print(f"[dim]…[/dim] {message}")


def seconds_option(value: str | None, option: str) -> float | None:
    """An option given as a duration (10s, 1m, 500ms), in seconds; a bad one is bad input naming the option."""
    if value is None:
        return None
    try:
        return Duration.parse(value).s
    except ValueError:
        raise SpecError(option, [Problem("", f"not a duration: {value!r} (e.g. 10s, 1m, 500ms)")]) from None


MAX_USER_DASHBOARD_BYTES = 1 << 20


def read_inputs(out: Path) -> Inputs:
    """The user's `dashboards/*.dashboard.py`, read without following a link out of the tree."""
    folder = out / c.DASHBOARDS_DIR
    if not out.is_dir() or safepath.obstacle(out, c.DASHBOARDS_DIR, leaf_may_be_dir=True) or not folder.is_dir():
        return Inputs()
    sources = []
    for name in sorted(os.listdir(folder)):
        rel = f"{c.DASHBOARDS_DIR}/{name}"
        if not name.endswith(c.USER_DASHBOARD_SUFFIX) or not safepath.is_file(out, rel):
            continue
        data = safepath.read(out, rel) or b""
        if len(data) > MAX_USER_DASHBOARD_BYTES:
            raise InputError(f"{out / rel}: larger than 1 MiB; a dashboard definition should be far smaller")
        sources.append((name, data.decode("utf-8", errors="replace")))
    return Inputs(user_dashboards=tuple(sources))
