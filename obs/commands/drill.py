"""obs drill: a synthetic outage for a canary service, timed until its page reaches a receiver."""
from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from obs.commands.common import out_console, emit_json, err_console, load, out_dir_for, spec_argument
from obs.commands.verify import _duration
from obs.errors import Exit, StackError


def _show(r) -> None:
    from obs.verify import drill

    console = out_console()
    t = Table(title=f"obs drill · {r.service} {r.slo} · {r.error_ratio:.0%} errors", title_justify="left",
              show_edge=False, header_style="bold")
    for col in ("stage", "took", "floor", ""):
        t.add_column(col, justify="right" if col in ("took", "floor") else "left")
    for h in r.hops:
        t.add_row(h.id, "—" if h.seconds is None else f"{h.seconds:.2f}s", f"{h.floor:.2f}s", h.title)
    console.print(t)
    f = r.floor
    console.print(f"workbook time to fire ({f.tier} tier, {f.budget_share:.0%} of the budget spent): "
                  f"{f.workbook_s:.1f}s, plus {f.slack_s:.1f}s the pipeline adds = {f.total_s:.1f}s")
    if r.ok:
        console.print(f"[green bold]page delivered in {r.seconds:.1f}s[/] ({r.tier or '?'} tier); target "
                      f"{drill.TARGET_S:.0f}s: " + ("[green]met[/]" if r.within_target else "[red]missed[/]"))
        if r.history_events < 1:
            console.print("[dim]the canary had no traffic in the long window before the outage, so its error "
                          "ratio read 100% at once; with steady traffic expect the workbook time[/dim]")
    for finding in r.findings:
        console.print(f"[red bold]✗ {finding.hop}:[/] {finding.why}\n    [cyan]fix: {finding.fix}[/]")


@click.command("drill", epilog="""\b
Examples:
  obs drill                         outage of the first service with an availability SLO
  obs drill --service checkout      choose the canary
  obs drill --error-ratio 0.1       a partial outage: 10% of requests fail
  obs drill --format json           the figures for a benchmark or a report
\b
The outage is synthetic OTLP traffic sent as the canary service (requests failing its
SLI), pushed at the SDK export interval until the page arrives at obs's webhook sink.
Alertmanager copies every page to the obs-verify receiver, and on to the spec's real
receiver: a drill on a production stack pages whoever is on call. The page resolves on
its own about one short window (5m) after the drill ends.
The time is compared with the SRE workbook's time to fire for the fastest page tier
((1 - SLO) / error ratio x long window x burn rate) plus what the pipeline adds, and
with the platform's target: paged in under 5 minutes with production timing.
\b
Exit codes: 0 the page arrived within the target; 1 it did not (or too late); 2 bad
spec or option; 3 the stack is not running.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output directory with the generated artifacts (default: the spec's).")
@click.option("--service", help="Canary service (default: the first with an availability SLO that pages).")
@click.option("--slo", "slo_name", help="The canary's SLO to break (default: its first that pages).")
@click.option("--error-ratio", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="Share of the canary's requests that fail during the outage.")
@click.option("--budget", metavar="DURATION", help="Give up after this long (default: 1.5x the floor + 30s).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints one machine-readable document on stdout.")
def command(spec: Path, out: Path | None, service: str | None, slo_name: str | None, error_ratio: float,
            budget: str | None, fmt: str) -> None:
    """Break a canary service of SPEC on purpose and time how long until someone is paged."""
    # Imported here so other commands start without the OpenTelemetry SDK.
    from obs.verify import drill
    from obs.verify.context import Context
    from obs.verify.endpoints import endpoints
    from obs.verify.floors import floors
    from obs.verify.poll import Deadline
    from obs.verify.runner import reachability
    from obs.verify.sink import Sink

    model = load(spec)
    target = out_dir_for(spec, out)
    svc, slo = drill.canary(model, service, slo_name, error_ratio)
    floor = drill.detection_floor(model, slo, error_ratio)
    assert floor is not None
    budget_s = _duration(budget, "--budget") or drill.default_budget(floor)
    ctx = Context(model, target, endpoints(model, target), floors(model), Deadline.after(budget_s))
    if all(reachability(ctx).values()):
        raise StackError("the stack is not running; start it with `obs up`")
    if fmt == "text":
        ctx.progress = lambda check, message: err_console.print(f"[dim]…[/dim] {message}")
    with Sink(ctx.ep.sink_host, ctx.ep.sink_port) as sink:
        ctx.sink = sink
        result = drill.run(ctx, svc, slo, error_ratio)
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        _show(result)
    if not result.within_target:
        raise Exit(1)
