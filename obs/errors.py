"""Errors that cross the CLI boundary, each carrying the exit code CI sees."""
from __future__ import annotations

from dataclasses import dataclass


class ObsError(Exception):
    """A failure the user can act on. The CLI prints it without a traceback."""

    exit_code = 1


class CheckFailed(ObsError):
    """Something was checked and found wrong: drift, a failed probe, a failing test."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the spec, at a dotted path such as services[1].slos[0].objective."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None


class SpecError(ObsError):
    """Bad input: every problem in the spec, reported at once."""

    exit_code = 2

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(format_problem(self.source, p) for p in self.problems)

    def __reduce__(self) -> tuple[type, tuple[str, list[Problem]]]:   # it crosses processes (obs.emit.halves)
        return SpecError, (self.source, self.problems)


def format_problem(source: str, p: Problem) -> str:
    where = source if p.line is None else f"{source}:{p.line}:{p.column}"
    return f"{where}: {p.path}: {p.message}" if p.path else f"{where}: {p.message}"


class InputError(ObsError):
    """Bad input that is not a spec problem: a file in the way, a wrong combination of options."""

    exit_code = 2


class WriteFailed(ObsError):
    """The filesystem refused a write part-way (full disk, a path that changed); the tree was restored."""

    exit_code = 1


class StackError(ObsError):
    """The stack is unreachable, or cannot be built or started."""

    exit_code = 3


class Exit(ObsError):
    """Leave with a code after the command has already printed what it had to say."""

    def __init__(self, code: int):
        self.exit_code = code
        super().__init__("")

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return Exit, (self.exit_code,)
