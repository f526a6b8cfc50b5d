"""obs generate: write every artifact from the spec, atomically, touching only files obs wrote; --check only
compares."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from obs.batch import batch
from obs.commands.options import emit_json, format_option, spec_argument
from obs.emit import ownership
from obs.errors import CheckFailed
from obs.spec import loader

if TYPE_CHECKING:
    from obs.emit import writer


def _protected(spec: Path, target: Path) -> frozenset[str]:
    """The spec's path inside the output directory, if it is there: generate never writes or deletes it."""
    rel = os.path.relpath(os.path.abspath(spec), os.path.abspath(target))
    return frozenset() if rel.startswith("..") else frozenset({rel.replace(os.sep, "/")})


def generate(spec: Path, out: Path | None, check: bool, adopt: tuple[Path, ...] = (),
             force: bool = False) -> tuple[Path, writer.Drift]:
    with batch():
        # The spec's YAML is read on a second core while this one imports the model, pydantic and the generators
        # (a third of a second before anything else can start), which is why they are imported only here.
        loader.read_ahead(spec)
        try:
            from obs.commands.common import load, out_dir_for, read_inputs
            from obs.emit import writer
            from obs.generate import LAYOUT, render

            model = load(spec)
        finally:
            loader.drop_ahead()   # taken by load(), unless it failed before reading
        target = out_dir_for(spec, out)
        files = render(model, read_inputs(target))
        options = writer.Options(adopt=writer.relative_to(target, adopt), force=force,
                                 protected=_protected(spec, target))
        if check:
            return target, writer.diff(target, files, LAYOUT, options)
        return target, writer.write(target, files, LAYOUT, options)


@click.command("generate", epilog=f"""\b
Examples:
  obs generate                      write artifacts beside ./obs.yaml
  obs generate --out build/         write them elsewhere
  obs generate --check              in CI: exit 1 if committed artifacts drifted
  obs generate --adopt alerts/api.rules.yml   take over a file an older obs (or you) wrote

\b
Writes alerts/, alerts/tests/, dashboards/, deploy/ and docker-compose.yml (deploy/kubernetes/
for `kubectl apply -k` among them; deploy/rulers/ for the spec's `rulers:`), and records
what it wrote, with a hash of each file, in {ownership.RECORD} (commit it with the artifacts).
obs overwrites or deletes only files that record names with the content they still have:
  - a file in the way that obs did not write stops the run: move it, or --adopt it;
  - a generated file you edited stops the run: put the change in the spec, or --force;
  - a file obs no longer generates is deleted, unless you edited it (then it is left, and
    becomes yours);
  - your own files beside them, your *.dashboard.py files and the spec are never touched,
    and no symbolic link is followed out of the output directory.
Every obstacle is reported before anything is written; a kill or a failure at any moment
leaves the tree wholly old or wholly new.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output directory (default: the spec's).")
@click.option("--check", is_flag=True,
              help="Write nothing; list drifted, missing, extra and blocked files; exit 1 on any.")
@click.option("--adopt", "adopt", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="Overwrite this existing file although obs did not write it (repeatable).")
@click.option("--force", is_flag=True,
              help="Overwrite generated files even where they were edited since obs wrote them (the edits are lost).")
@format_option
def command(spec: Path, out: Path | None, check: bool, adopt: tuple[Path, ...], force: bool, fmt: str) -> None:
    """Generate every artifact from SPEC (default ./obs.yaml)."""
    target, drift = generate(spec, out, check, adopt, force)
    if fmt == "json":
        emit_json({"out": str(target), "check": check, "changed": drift.changed, "missing": drift.missing,
                   "extra": drift.extra, "kept": drift.kept, "blocked": drift.blocked, "pending": drift.pending,
                   "clean": drift.clean})
    else:
        for kept in drift.kept:
            click.echo(f"left alone: {target / kept}", err=True)
        if check:
            for label, paths in (("drifted", drift.changed), ("missing", drift.missing), ("extra", drift.extra),
                                 ("blocked", drift.blocked)):
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
