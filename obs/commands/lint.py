"""obs lint: warn about the pipeline pitfalls a valid spec can still walk into."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from obs.commands.common import load, out_dir_for, read_inputs
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import Exit, Problem, format_problem
from obs.generate import render
from obs.lint import WARNING, Finding, run
from obs.lint.sources import located, read_artifacts


def render_text(f: Finding, prefix: str) -> str:
    if f.spec_path is not None:
        text = format_problem(f.file or "", Problem(f.spec_path, f.message, f.line, f.column))
    else:
        where = f"{prefix}{f.file}" + (f":{f.line}" if f.line else "")
        text = f"{where}: {f.where}: {f.message}" if f.where else f"{where}: {f.message}"
    return f"{text} [{f.rule}]" if f.severity == WARNING else f"{text} [{f.rule}, note]"


@click.command("lint", epilog="""\b
Examples:
  obs lint                          lint ./obs.yaml and the artifacts it generates
  obs lint --strict                 in CI: exit 1 on any warning
  obs lint --artifacts .            lint the committed artifacts (catches hand edits)
  obs lint --format json            findings as JSON

\b
Warnings:
  listener-beyond-loopback   a port listens or is published beyond 127.0.0.1
  verify-budget              stack.verify_budget is below the pipeline's floor
                             (batch, scrape/eval, discovery or resend delay, group_wait)
  probe-grouping/-routing    Alertmanager would hold verify probes for group_wait or
                             group_interval, or send them elsewhere
  delta-temporality          delta metrics meet remote write or a Prometheus without
                             otlp-deltatocumulative (a note in pull mode)
  inline-secret              a secret value in a generated file instead of a *_file path
  grafana-anonymous / grafana-default-credentials
  job-collision              a service named like one of the stack's scrape jobs

Spec findings print as FILE:LINE:COL: PATH: MESSAGE [RULE]; artifact findings as
FILE[:LINE]: WHERE: MESSAGE [RULE]. Exit 0, or 1 with --strict and any warning;
2 when the spec is invalid.""")
@spec_argument
@click.option("--artifacts", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Lint the artifacts already in this directory instead of freshly generated ones.")
@click.option("--strict", is_flag=True, help="Exit 1 when there is any warning (notes never fail).")
@format_option
def command(spec: Path, artifacts: Path | None, strict: bool, fmt: str) -> None:
    """Warn about pipeline pitfalls in SPEC (default ./obs.yaml) and its artifacts."""
    model = load(spec)
    files: Mapping[str, str]
    if artifacts is not None:
        files, prefix = read_artifacts(artifacts), f"{artifacts}/"
    else:
        files, prefix = render(model, read_inputs(out_dir_for(spec, None))), ""
    findings = located(run(model, files), spec)
    warnings = sum(f.severity == WARNING for f in findings)
    if fmt == "json":
        emit_json({"spec": str(spec), "warnings": warnings, "notes": len(findings) - warnings,
                   "findings": [f.as_dict() for f in findings]})
    else:
        for f in findings:
            click.echo(render_text(f, prefix))
        notes = len(findings) - warnings
        click.echo(f"{spec}: {warnings} warning(s), {notes} note(s)" if findings else f"{spec}: no findings", err=True)
    if strict and warnings:
        raise Exit(1)

