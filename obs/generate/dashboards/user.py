"""Running the user's `dashboards/*.dashboard.py` files: each in a fresh namespace, errors located in the file.

grafanalib's convention: the file defines `dashboard`. What that object must be is checked by
obs/generate/dashboards/render.py, the one module that imports grafanalib.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass

from obs.errors import Problem, SpecError, format_problem
from obs.model import conventions as c

VARIABLE = "dashboard"


class UserDashboardError(SpecError):
    """Problems in the user's dashboard files; each problem's path is the file, shown as dashboards/<file>."""

    def __init__(self, problems: list[Problem]):
        super().__init__(c.DASHBOARDS_DIR, problems)

    def render(self) -> str:
        return "\n".join(format_problem(f"{c.DASHBOARDS_DIR}/{p.path}", Problem("", p.message, p.line, p.column))
                         for p in self.problems)


@dataclass(frozen=True)
class Loaded:
    file: str                        # e.g. latency.dashboard.py
    value: object                    # whatever the file bound to `dashboard`

    @property
    def output(self) -> str:
        """dashboards/latency.json for latency.dashboard.py."""
        return f"{c.DASHBOARDS_DIR}/{self.file[:-len(c.USER_DASHBOARD_SUFFIX)]}.json"


def _location(error: BaseException, file: str) -> tuple[int | None, int | None]:
    if isinstance(error, SyntaxError) and error.filename == file:
        return error.lineno, error.offset
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == file]
    if not frames:
        return None, None
    last = frames[-1]
    return last.lineno, (last.colno + 1 if last.colno is not None else 1)


def _problem(error: BaseException, file: str) -> Problem:
    line, column = _location(error, file)
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return Problem(file, text, line, (column or 1) if line is not None else None)


def run(file: str, source: str) -> Loaded:
    """Executes one dashboard file; any failure becomes a located Problem, never a traceback."""
    namespace: dict[str, object] = {"__name__": f"obs_user_dashboard_{file}", "__file__": file}
    try:
        code = compile(source, file, "exec", dont_inherit=True)
        exec(code, namespace)   # the user's own file, run as grafanalib's generate-dashboard would
    except (Exception, SystemExit) as e:
        raise UserDashboardError([_problem(e, file)]) from None
    if VARIABLE not in namespace:
        raise UserDashboardError([Problem(file, f"defines no `{VARIABLE}`; assign a grafanalib Dashboard to it")])
    return Loaded(file, namespace[VARIABLE])


def run_all(files: tuple[tuple[str, str], ...]) -> tuple[list[Loaded], list[Problem]]:
    """Every file is run, so one generate reports the problems of all of them at once."""
    loaded, problems = [], []
    for file, source in sorted(files):
        if not file.endswith(c.USER_DASHBOARD_SUFFIX):
            continue
        try:
            loaded.append(run(file, source))
        except UserDashboardError as e:
            problems.extend(e.problems)
    return loaded, problems
