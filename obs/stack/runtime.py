"""Which runtime runs the stack: compose where a Docker engine answers, else native processes.

`obs up` records its choice in <out>/.obs/runtime, so `status`, `logs` and `down` act
on the same runtime without being told.
"""
from __future__ import annotations

from pathlib import Path

from obs.model.domain import Model
from obs.stack.compose_runtime import ComposeStack, engine_available
from obs.stack.native import Stack
from obs.stack.state import State

RUNTIMES = ("auto", "native", "compose")


def choose(requested: str) -> str:
    if requested == "auto":
        return "compose" if engine_available() else "native"
    return requested


def recorded(out: Path) -> str:
    return State(Path(out)).runtime() or "native"


def open_stack(runtime: str, out: Path, model: Model | None) -> Stack | ComposeStack:
    return ComposeStack(out, model) if runtime == "compose" else Stack(out, model)
