"""obs generate: write every artifact from the spec, atomically; --check only compares."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands.common import emit_json, format_option, load, out_dir_for, spec_argument
from obs.emit import writer
from obs.errors import CheckFailed
from obs.generate import render
from obs.generate.common import Inputs
from obs.model import conventions as c


def read_inputs(out: Path) -> Inputs:
    folder = out / c.DASHBOARDS_DIR
    sources = tuple(sorted((p.name, p.read_text(encoding="utf-8"))
                           for p in folder.glob("*" + c.USER_DASHBOARD_SUFFIX))) if folder.is_dir() else ()
    return Inputs(user_dashboards=sources)


def generate(spec: Path, out: Path | None, check: bool) -> tuple[Path, writer.Drift]:
    model = load(spec)
    target = out_dir_for(spec, out)
    files = render(model, read_inputs(target))
    if check:
        return target, writer.diff(target, files)
    return target, writer.write(target, files)


@click.command("generate", epilog="""\b
Examples:
  obs generate                      write artifacts beside ./obs.yaml
  obs generate --out build/         write them elsewhere
  obs generate --check              in CI: exit 1 if committed artifacts drifted

Writes alerts/, alerts/tests/, dashboards/, deploy/ and docker-compose.yml.
A kill at any moment leaves the tree wholly old or wholly new.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output directory (default: the spec's).")
@click.option("--check", is_flag=True, help="Write nothing; list drifted, missing and extra files; exit 1 on any.")
@format_option
def command(spec: Path, out: Path | None, check: bool, fmt: str) -> None:
    """Generate every artifact from SPEC (default ./obs.yaml)."""
    target, drift = generate(spec, out, check)
    if fmt == "json":
        emit_json({"out": str(target), "check": check, "changed": drift.changed, "missing": drift.missing,
                   "extra": drift.extra, "pending": drift.pending, "clean": drift.clean})
    elif check:
        for label, paths in (("drifted", drift.changed), ("missing", drift.missing), ("extra", drift.extra)):
            for p in paths:
                click.echo(f"{label}: {target / p}")
        if drift.pending:
            click.echo(f"pending: an interrupted generate in {target}; run `obs generate` to finish it")
    else:
        n = len(drift.changed) + len(drift.missing) + len(drift.extra)
        click.echo(f"{target}: {n} file(s) updated ({len(drift.missing)} new, {len(drift.changed)} changed, "
                   f"{len(drift.extra)} removed)" if n else f"{target}: up to date")
    if check and not drift.clean:
        raise CheckFailed("generated artifacts are out of date; run `obs generate` and commit the result")
