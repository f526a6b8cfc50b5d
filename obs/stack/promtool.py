"""Running the real promtool on generated rules: `check rules` on each rules file, `test rules` on each suite."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from obs.errors import StackError
from obs.model import conventions as c


@dataclass(frozen=True)
class Result:
    kind: str          # check (promtool check rules) | test (promtool test rules)
    file: str          # relative to the output directory
    ok: bool
    seconds: float
    output: str
    same_as: str | None = None   # not run: the file whose result it takes, the same text but for the names


def rule_files(files: Mapping[str, str]) -> dict[str, str]:
    """Only what promtool reads: the rules and their tests."""
    return {p: files[p] for p in files if p.startswith(c.ALERTS_DIR + "/")}


def write(target: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _promtool(promtool: Path, args: list[str], cwd: Path) -> tuple[bool, float, str]:
    started = time.monotonic()
    try:
        done = subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as e:
        raise StackError(f"cannot run {promtool}: {e}") from None
    return done.returncode == 0, round(time.monotonic() - started, 2), (done.stdout + done.stderr).strip()


def run_promtool(target: Path, files: list[str], promtool: Path, report: Callable[[str], None] = lambda msg: None,
                 workers: int | None = None, same_as: Mapping[str, str] | None = None) -> list[Result]:
    """`check rules` on every rules file, then `test rules` on every suite from inside alerts/tests/.

    Suites are independent promtool processes, so they run side by side, one per core. A file `same_as` maps to
    another (the same text but for a service's names: obs.generate.stamp_tree.Tree.alike()) is not run; it takes that
    file's result."""
    given = set(files)
    alike = {rel: other for rel, other in (same_as or {}).items() if rel in given and other in given and other != rel}
    tests_dir = target / c.ALERT_TESTS_DIR
    suites = sorted(f for f in files if f.startswith(c.ALERT_TESTS_DIR + "/"))
    checks = sorted(given - set(suites))
    results = []
    for rel in (rel for rel in checks if rel not in alike):
        report(f"promtool check rules {rel}")
        results.append(Result("check", rel, *_promtool(promtool, ["check", "rules", rel], target)))

    def run(rel: str) -> Result:
        report(f"promtool test rules {rel}")
        name = rel[len(c.ALERT_TESTS_DIR) + 1:]
        return Result("test", rel, *_promtool(promtool, ["test", "rules", name], tests_dir))

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        results += list(pool.map(run, [rel for rel in suites if rel not in alike]))
    ran = {r.file: r for r in results}
    for rel, other in alike.items():
        done = ran[other]
        results.append(Result(done.kind, rel, done.ok, 0.0, f"not run: {other} is the same text but for the names, "
                              "and took this result", same_as=other))
    order = {rel: i for i, rel in enumerate([*checks, *suites])}
    return sorted(results, key=lambda r: order[r.file])
