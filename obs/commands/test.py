"""obs test: generate the rules and their promtool suites, then run the real promtool on them."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import click

from obs.commands.common import load, out_dir_for, progress, read_inputs
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import CheckFailed
from obs.generate import render
from obs.model import conventions as c
from obs.stack import build
from obs.stack.promtool import Result, rule_files, run_promtool, write


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
