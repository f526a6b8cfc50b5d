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


def test(spec: Path, out: Path | None, report: Callable[[str], None] = progress,
         every_service: bool = False) -> tuple[Path, Path, list[Result]]:
    model = load(spec)
    tree = render(model, read_inputs(out_dir_for(spec, out)))
    files = rule_files(tree)
    # A service stamped from its shape's text has the same rules and suite as the others stamped from it, but for
    # the names: promtool runs one of each (at a thousand services a suite each is an hour on two cores).
    same_as = {} if every_service else tree.alike()
    promtool = build.ensure(["promtool"], progress=report)["promtool"]
    if out is not None:
        write(out, files)
        return out, promtool, run_promtool(out, list(files), promtool, report, same_as=same_as)
    with tempfile.TemporaryDirectory(prefix="obs-test-") as tmp:
        write(Path(tmp), files)
        return Path(tmp), promtool, run_promtool(Path(tmp), list(files), promtool, report, same_as=same_as)


@click.command("test", epilog=f"""\b
Examples:
  obs test                          generate and test the rules of ./obs.yaml
  obs test --out build/             keep the generated files in build/{c.ALERTS_DIR}
  obs test --format json            one result per file, for CI
  obs test --every-service          run promtool on every service's files, not one of each shape

Runs the real promtool (built on first use, like `obs stack build`):
`promtool check rules` on every file in {c.ALERTS_DIR}/, then `promtool test rules`
on every suite in {c.ALERT_TESTS_DIR}/ from inside that directory. The SLO suites
prove, per SLO, that a full outage pages within the SRE workbook's detection time,
an error rate just under budget fires nothing, zero traffic fires nothing and
records no NaN, a slow burn tickets but never pages, and pages resolve after
recovery. Services written from one template share a shape: their rules and suites are
one text but for the names (`obs generate` proves it byte for byte), so promtool runs one
of each shape and the others take its result ("same as"); --every-service runs them all.
Exit 1 if any check or test fails, 3 if promtool cannot be built.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Write the rules and suites here and keep them (default: a temporary directory).")
@click.option("--every-service", is_flag=True,
              help="Run promtool on every service's rules and suite, not one of each shape of service.")
@format_option
def command(spec: Path, out: Path | None, every_service: bool, fmt: str) -> None:
    """Generate SPEC's alert rules and their unit tests, and run promtool on them."""
    target, promtool, results = test(spec, out, every_service=every_service)
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        emit_json({"ok": not failed, "out": str(target) if out is not None else None, "promtool": str(promtool),
                   "results": [asdict(r) for r in results]})
    else:
        for r in results:
            took = f"same as {r.same_as}" if r.same_as is not None else f"{r.seconds}s"
            click.echo(f"{'ok  ' if r.ok else 'FAIL'}  {r.kind:<5}  {r.file}  ({took})")
            if not r.ok and r.same_as is None:
                click.echo("\n".join("      " + line for line in r.output.splitlines()))
        ran = [r for r in results if r.same_as is None]
        checks = sum(r.kind == "check" for r in ran)
        taken = len(results) - len(ran)
        alike = f", {taken} the same as one of those but for the names" if taken else ""
        click.echo(f"{checks} rule file(s) checked, {len(ran) - checks} suite(s) run{alike}: "
                   + (f"{len(failed)} failed" if failed else "all passed"))
    if failed:
        raise CheckFailed("")
