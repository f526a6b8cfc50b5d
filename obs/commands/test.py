"""obs test: generate the rules and their promtool suites, then run the real promtool on them."""
from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from obs.commands.common import emit_json, format_option, load, out_dir_for, progress, spec_argument
from obs.commands.generate import read_inputs
from obs.errors import CheckFailed, StackError
from obs.generate import render
from obs.model import conventions as c
from obs.stack import build


@dataclass(frozen=True)
class Result:
    kind: str          # check (promtool check rules) | test (promtool test rules)
    file: str          # relative to the output directory
    ok: bool
    seconds: float
    output: str


def rule_files(files: dict[str, str]) -> dict[str, str]:
    """Only what promtool reads: the rules and their tests."""
    return {p: t for p, t in files.items() if p.startswith(c.ALERTS_DIR + "/")}


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
                 workers: int | None = None) -> list[Result]:
    """`check rules` on every rules file, then `test rules` on every suite from inside alerts/tests/.

    Suites are independent promtool processes, so they run side by side, one per core."""
    tests_dir = target / c.ALERT_TESTS_DIR
    suites = sorted(f for f in files if f.startswith(c.ALERT_TESTS_DIR + "/"))
    results = []
    for rel in sorted(set(files) - set(suites)):
        report(f"promtool check rules {rel}")
        results.append(Result("check", rel, *_promtool(promtool, ["check", "rules", rel], target)))

    def run(rel: str) -> Result:
        report(f"promtool test rules {rel}")
        name = rel[len(c.ALERT_TESTS_DIR) + 1:]
        return Result("test", rel, *_promtool(promtool, ["test", "rules", name], tests_dir))

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        results += list(pool.map(run, suites))
    return results


def test(spec: Path, out: Path | None, report: Callable[[str], None] = progress) -> tuple[Path, Path, list[Result]]:
    model = load(spec)
    files = rule_files(render(model, read_inputs(out_dir_for(spec, out))))
    promtool = build.ensure(["promtool"], progress=report)["promtool"]
    if out is not None:
        write(out, files)
        return out, promtool, run_promtool(out, list(files), promtool, report)
    with tempfile.TemporaryDirectory(prefix="obs-test-") as tmp:
        write(Path(tmp), files)
        return Path(tmp), promtool, run_promtool(Path(tmp), list(files), promtool, report)


@click.command("test", epilog=f"""\b
Examples:
  obs test                          generate and test the rules of ./obs.yaml
  obs test --out build/             keep the generated files in build/{c.ALERTS_DIR}
  obs test --format json            one result per file, for CI

Runs the real promtool (built on first use, like `obs stack build`):
`promtool check rules` on every file in {c.ALERTS_DIR}/, then `promtool test rules`
on every suite in {c.ALERT_TESTS_DIR}/ from inside that directory. The SLO suites
prove, per SLO, that a full outage pages within the SRE workbook's detection time,
an error rate just under budget fires nothing, zero traffic fires nothing and
records no NaN, a slow burn tickets but never pages, and pages resolve after
recovery. Exit 1 if any check or test fails, 3 if promtool cannot be built.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Write the rules and suites here and keep them (default: a temporary directory).")
@format_option
def command(spec: Path, out: Path | None, fmt: str) -> None:
    """Generate SPEC's alert rules and their unit tests, and run promtool on them."""
    target, promtool, results = test(spec, out)
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        emit_json({"ok": not failed, "out": str(target) if out is not None else None, "promtool": str(promtool),
                   "results": [asdict(r) for r in results]})
    else:
        for r in results:
            click.echo(f"{'ok  ' if r.ok else 'FAIL'}  {r.kind:<5}  {r.file}  ({r.seconds}s)")
            if not r.ok:
                click.echo("\n".join("      " + line for line in r.output.splitlines()))
        checks = sum(r.kind == "check" for r in results)
        click.echo(f"{checks} rule file(s) checked, {len(results) - checks} suite(s) run: "
                   + (f"{len(failed)} failed" if failed else "all passed"))
    if failed:
        raise CheckFailed("")
