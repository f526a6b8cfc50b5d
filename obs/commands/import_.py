"""obs import: turn a Sloth or OpenSLO spec into an equivalent obs.yaml, printed on stdout."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands.options import emit_json
from obs.emit import yaml_dump
from obs.errors import Problem, SpecError
from obs.model import conventions as c
from obs.project import load_text
from obs.spec.importers import openslo, sloth
from obs.spec.importers.common import Context, Imported, load_documents

RESERVED_LABELS = frozenset({c.LABEL_SERVICE, c.LABEL_SLO, c.LABEL_SEVERITY, c.LABEL_TIER, c.LABEL_PROJECT})
FORMATS = {"sloth": sloth.convert, "openslo": openslo.convert}


def import_spec(kind: str, path: Path, project: str | None) -> tuple[str, Imported]:
    """The obs.yaml text and what went into it; raises SpecError located in the foreign file."""
    ctx = Context(str(path), reserved_labels=RESERVED_LABELS)
    result = FORMATS[kind](load_documents(path), ctx, project)
    header = [f"obs.yaml imported by `obs import {kind}` from {path.name}; check it with `obs validate`."]
    if result.notes:
        header += ["", "Notes on the import:"] + [f"- {n}" for n in result.notes]
    text = yaml_dump.dump(result.spec, header="\n".join(header))
    _validate(text, result, str(path))
    return text, result


def _validate(text: str, result: Imported, source: str) -> None:
    """The output must be a valid obs.yaml; anything wrong is pointed at the part of the input it came from."""
    try:
        load_text(text, c.SPEC_FILE)
    except SpecError as e:
        raise SpecError(source, [_origin(p, result) for p in e.problems]) from None


def _origin(p: Problem, result: Imported) -> Problem:
    path = p.path
    while path and path not in result.origins:
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    line, col = result.origins.get(path, (1, 1))
    return Problem(p.path, f"{p.message} (in the imported obs.yaml)", line, col)


def _run(kind: str, file: Path, project: str | None, fmt: str) -> None:
    text, result = import_spec(kind, file, project)
    if fmt == "json":
        emit_json({"spec": result.spec, "notes": result.notes, "yaml": text})
        return
    click.echo(text, nl=False)
    if result.notes:
        click.echo(f"{len(result.notes)} note(s) on the import; they head the printed obs.yaml", err=True)


project_option = click.option("--project", help="Project name for the obs.yaml (default: the first service's).")
format_option = click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml",
                             show_default=True, help="json: {spec, notes, yaml} for tools.")
file_argument = click.argument("file", type=click.Path(path_type=Path, dir_okay=False))


@click.group("import", epilog="""\b
Examples:
  obs import sloth slos.yml > obs.yaml          a Sloth prometheus/v1 spec
  obs import openslo slo.yaml > obs.yaml        OpenSLO v1 ratio-metric SLOs
  obs import sloth slos.yml --project shop      name the project

The obs.yaml goes to stdout, with notes on anything that changed on the way in its header.
Exit 2 when the input cannot be imported; every problem is named at FILE:LINE:COL.""")
def command() -> None:
    """Import SLOs from Sloth or OpenSLO as an equivalent obs.yaml."""


@command.command("sloth", epilog="""\b
Examples:
  obs import sloth slos.yml > obs.yaml
  obs import sloth k8s-slos.yml                 a PrometheusServiceLevel resource works too

Service and SLO names are kept (made lowercase-and-dashes where needed, with a note).
events and raw SLIs carry over with {{.window}} written {{window}}; labels of the service,
the SLO and its alerting carry over, as do alerting annotations. Sloth's page and ticket
alerts become obs's workbook tiers; `disable: true` turns a tier off. Every key is carried
over, noted with its line, or refused: plugins and keys Sloth does not have are errors.""")
@file_argument
@project_option
@format_option
def sloth_command(file: Path, project: str | None, fmt: str) -> None:
    """Print the obs.yaml equivalent of the Sloth prometheus/v1 spec FILE."""
    _run("sloth", file, project, fmt)


@command.command("openslo", epilog="""\b
Examples:
  obs import openslo slo.yaml > obs.yaml
  obs import openslo deploy/slo/api-availability.yaml   round-trips obs's own export

Reads every `kind: SLO` in FILE (SLI, Service, DataSource and alert documents beside them are used).
Ratio-metric indicators only: good/total, bad/total or raw. Queries need {{.window}}, or must
be counter selectors with `counter: true`, which obs rates over its own windows. good/total reads
an error ratio of 1 when only failing series exist. Burn-rate alert conditions become obs tiers;
anything obs cannot express is an error at its FILE:LINE:COL.""")
@file_argument
@project_option
@format_option
def openslo_command(file: Path, project: str | None, fmt: str) -> None:
    """Print the obs.yaml equivalent of the OpenSLO v1 SLOs in FILE."""
    _run("openslo", file, project, fmt)
