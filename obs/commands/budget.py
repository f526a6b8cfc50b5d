"""obs budget: where every SLO's error budget stands, per group, and when it runs out at the current burn rate."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands.common import load, out_console, out_dir_for
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import Exit, StackError


def _percent(x: float | None, digits: int = 3) -> str:
    return "no data" if x is None else f"{x * 100:.{digits}f}%"


def _rate(x: float | None) -> str:
    return "no data" if x is None else f"{x:.2f}×"


def _span(seconds: float | None, exhausted: bool) -> str:
    if exhausted:
        return "spent"
    if seconds is None:
        return "not burning"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


@click.command("budget", epilog="""\b
Examples:
  obs budget                         every SLO of ./obs.yaml on the local stack
  obs budget --env production        on a deployed environment (its `environments:` entry)
  obs budget --format json | jq '.slos[] | select(.exhausted)'
\b
For each SLO, and each group of an SLO with group_by: the objective; the SLI attained over the
SLO's period; the share of the period's error budget left (negative once overspent); the burn rate
now (the last 5 minutes' error ratio over the budget: 1× spends the budget in exactly one period);
and when the budget runs out if errors go on at that rate. Everything is read from the series the
generated rules record, so it is what the burn-rate alerts see. An SLO without data is listed as such.
\b
Exit codes: 0 every budget has some left; 1 a budget is spent; 2 bad spec or option;
3 Prometheus does not answer.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output directory with the generated artifacts and the state (default: the spec's).")
@click.option("--env", "env", metavar="NAME", default="local", show_default=True,
              help="Read this deployed environment's Prometheus (from the spec's `environments:`).")
@format_option
def command(spec: Path, out: Path | None, env: str, fmt: str) -> None:
    """Show every SLO's error budget for SPEC's stack (default ./obs.yaml)."""
    from obs.report.budget import budget_rows
    from obs.report.page import clients_for
    from obs.verify import clients

    model = load(spec)
    prom = clients_for(model, out_dir_for(spec, out), env).prometheus
    try:
        rows = budget_rows(model, prom)
    except (clients.Unreachable, clients.ApiError) as e:
        raise StackError(f"{e}; start the stack with `obs up`, or name a deployed one with --env") from None
    spent = [r for r in rows if r.exhausted]
    if fmt == "json":
        emit_json({"env": env, "slos": [r.as_dict() for r in rows], "spent": len(spent)})
    else:
        console = out_console()
        console.print(f"error budgets of {model.project} ({env}):")
        header = ("SERVICE", "SLO", "GROUP", "OBJECTIVE", "ATTAINED", "BUDGET LEFT", "BURN RATE", "RUNS OUT IN")
        table = [header] + [
            (r.service, r.slo, ",".join(f"{k}={v}" for k, v in r.group.items()) or "-",
             f"{r.objective:g}% / {r.period}", _percent(r.attained), _percent(r.budget_left, 1), _rate(r.burn_rate),
             _span(r.exhausted_in_s, r.exhausted))
            for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            console.print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False)
    if spent:
        raise Exit(1)
