"""obs validate: check a spec and report every problem at once."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands.common import load
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import Exit, SpecError


@click.command("validate", epilog="""\b
Examples:
  obs validate                      check ./obs.yaml
  obs validate team/obs.yaml        check another spec
  obs validate --format json        problems as JSON, for editors and CI

Problems are printed as FILE:LINE:COL: PATH: MESSAGE, all at once. Exit 2 on any.""")
@spec_argument
@format_option
def command(spec: Path, fmt: str) -> None:
    """Check SPEC (default ./obs.yaml) without writing anything."""
    try:
        model = load(spec)
    except SpecError as e:
        if fmt == "json":
            emit_json({"ok": False, "problems": [
                {"file": e.source, "line": p.line, "column": p.column, "path": p.path, "message": p.message}
                for p in e.problems]})
            raise Exit(2) from None
        raise
    n_slos = len(model.slos)
    if fmt == "json":
        emit_json({"ok": True, "project": model.project, "services": len(model.services), "slos": n_slos})
    else:
        click.echo(f"{spec}: ok ({len(model.services)} services, {n_slos} SLOs)")
