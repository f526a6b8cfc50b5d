"""obs drill: break something for real on the running stack, and time the page at the receiver."""
from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from rich.table import Table

from obs.commands.common import err_console, load, out_console, out_dir_for
from obs.commands.options import emit_json, spec_argument
from obs.errors import Exit, InputError, Problem, SpecError, StackError
from obs.model.detection import Incident
from obs.verify.result import Status

if TYPE_CHECKING:
    from obs.model.domain import Model
    from obs.verify.incidents import IncidentResult, Runner

KINDS = [i.value for i in Incident]


def _show(results: list[IncidentResult], target_s: float) -> None:
    console = out_console()
    t = Table(title="obs drill", title_justify="left", show_edge=False, header_style="bold")
    for col in ("incident", "paged after", "bound", "pages", "receiver", "resolved after", ""):
        t.add_column(col, justify="right" if col in ("paged after", "bound", "pages", "resolved after") else "left")
    for r in results:
        paged = "—" if r.paged_after_s is None else f"{r.paged_after_s:.1f}s"
        resolved = "—" if r.resolved_after_s is None else f"{r.resolved_after_s:.1f}s"
        mark = "[green]✓[/]" if r.ok else "[yellow]late[/]" if r.paged_once else "[red]✗[/]"
        t.add_row(r.incident.value, paged, f"{r.bound_s:.0f}s", str(r.pages), r.receiver or "—", resolved, mark)
    console.print(t)
    for r in results:
        for note in r.notes:
            console.print(f"[dim]{r.incident.value}: {note}[/dim]")
        for f in r.findings:
            colour = "red" if f.status == Status.FAIL else "yellow"
            console.print(f"[{colour} bold]✗ {r.incident.value} · {f.hop}:[/] {f.why}\n    [cyan]fix: {f.fix}[/]")
    slowest = max((r.paged_after_s or 0 for r in results), default=0)
    console.print(f"slowest page {slowest:.1f}s; the platform's target is {target_s:.0f}s with production timing")


def _incidents(values: tuple[str, ...]) -> list[Incident]:
    chosen: list[Incident] = []
    for v in values or ("errors",):
        for name in v.split(","):
            name = name.strip()
            picked = list(Incident) if name == "all" else [Incident(name)] if name in KINDS else None
            if picked is None:
                raise InputError(f"--incident {name!r}: choose from {', '.join(KINDS)} or all")
            chosen += [i for i in picked if i not in chosen]
    return chosen


@click.command("drill", epilog="""\b
Examples:
  obs drill                              an availability outage of the first SLO that pages
  obs drill --incident crash             a service stops sending telemetry
  obs drill --incident collector,alertmanager
  obs drill --incident all --format json the whole matrix, for a benchmark or CI
  obs drill --incident all --report drill.html   and the HTML report, to attach to the rollout ticket
\b
Incidents (each driven for real; `obs explain` prints the bound each is held to):
  errors           a canary's requests fail its availability SLO
  latency          a canary's requests are slower than its latency SLO's threshold
  crash            a canary stops exporting anything
  traffic          a canary keeps exporting but serves no requests
  collector        the collector is SIGKILLed, then started again
  trace-backend    Jaeger is SIGKILLed, then started again
  metrics-backend  Prometheus is SIGKILLed: the dead man's switch must page
  alertmanager     Alertmanager is SIGKILLed: the dead man's switch must page
  notification     the paging integration rejects every event: the failure pages elsewhere
Under `stack.topology: ha` metrics-backend and alertmanager kill every replica still running (one
down pages nobody) and start again only those; the collector incident kills the collector the
services send to, not a gateway (a dead gateway is failed over, and raises a ticket).
\b
Canaries are OTLP senders in a namespace of their own (job obs-drill-<id>/<service>). Pages are read
at obs's contract receivers, where the local stack's Alertmanager delivers through its real
PagerDuty and Slack integrations. A drill restores what it broke after each incident, also on
Ctrl-C, and silences its retired canaries' own silence.
\b
--env NAME drills a deployed environment from the spec's `environments:`, with the synthetic
kinds only (errors, latency, crash, traffic: a canary of obs's own; killing a deployed component
or breaking its paging integration is refused). The page is timed where that Alertmanager routes
it; unless --yes-page-for-real is given, the drill's own page is silenced while it runs (crash and
traffic by the canary's job; an SLO drill by alertname, service and slo, so a real page of that SLO
is held back too for those minutes), and the silence is expired at the end.
\b
Each run's result is saved under .obs/results/<env>/drill.json for `obs report`; --report FILE writes
that page at once, with time to page and to resolve per incident drawn against its bound.
\b
Exit codes: 0 every incident paged exactly once within its bound; 1 otherwise; 2 bad spec or
option (or receivers that would page for real, without --yes-page-for-real); 3 the stack is not
running.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output directory with the generated artifacts (default: the spec's).")
@click.option("--incident", "incident", multiple=True, metavar="KIND",
              help=f"What to break: {', '.join(KINDS)}, or all; repeat or separate with commas (default: errors).")
@click.option("--yes-page-for-real", is_flag=True,
              help="Run even though the stack's Alertmanager would page real people (not obs's local stack); "
                   "with --env, do not silence the drill's own page.")
@click.option("--env", "env", metavar="NAME", default="local", show_default=True,
              help="Drill this deployed environment (synthetic kinds only) instead of the local stack.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints {\"incidents\": [...]} on stdout.")
@click.option("--report", "report_to", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Also write the HTML report of `obs report` to FILE, with this drill's result.")
def command(spec: Path, out: Path | None, incident: tuple[str, ...], yes_page_for_real: bool, env: str,
            fmt: str, report_to: Path | None) -> None:
    """Break SPEC's stack on purpose, one incident at a time, and time how long until someone is paged."""
    # Imported here so other commands start without the OpenTelemetry SDK.
    from obs.model.detection import TARGET_S
    from obs.model.floors import floors
    from obs.stack.components import urls
    from obs.stack.native import Stack
    from obs.verify.context import Context
    from obs.verify.endpoints import endpoints
    from obs.verify.incidents import Runner
    from obs.verify.pages import Receivers
    from obs.verify.poll import Deadline

    model = load(spec)
    target = out_dir_for(spec, out)
    chosen = _incidents(incident)
    progress = (lambda message: err_console().print(f"[dim]…[/dim] {message}")) if fmt == "text" else (lambda m: None)
    if env != "local":
        results = _deployed(spec, model, target, env, chosen, yes_page_for_real, progress)
        _finish(results, fmt, TARGET_S, Saving(model, spec, target, env, report_to))
        return
    stack = Stack(target, model)
    if stack.state.runtime() is None:
        raise StackError(f"no stack runs from {target}; start it with `obs up`")
    if stack.state.runtime() != "native" and not yes_page_for_real:
        # Not the stack `obs up` runs natively: its Alertmanager has no local overlay and pages for real.
        who = ", ".join(f"{r.name} ({r.kind})" for r in model.receivers) or "the default receiver"
        raise SpecError("--yes-page-for-real", [Problem("", (
            f"{target} has no native stack started by obs, so a drill would page for real: {who}; start the "
            "local stack with `obs up`, or pass --yes-page-for-real if paging them is the point"))])
    statuses = stack.status()
    # Under `topology: ha` a drill with replicas stopped is the point: each component needs one healthy replica.
    up = {stack.components[s.name].binary for s in statuses if s.state == "healthy"}
    down = [f"{s.name} ({s.state})" for s in statuses if stack.components[s.name].binary not in up]
    for s in statuses:
        if s.state != "healthy" and stack.components[s.name].binary in up and fmt == "text":
            err_console().print(f"[dim]…[/dim] {s.name} is {s.state}: drilling on the other replicas")
    if down:
        raise StackError(f"the native stack is not fully running ({', '.join(down)}); start it with `obs up`")
    ctx = Context(model, target, endpoints(model, target), floors(model), Deadline.after(24 * 3600))
    receivers = Receivers(urls(model)["receivers"])
    runner = Runner(ctx, stack, receivers, ctx.alertmanager(), progress)
    _finish(_run_all(runner, chosen), fmt, TARGET_S, Saving(model, spec, target, env, report_to))


def _run_all(runner: Runner, chosen: list[Incident]) -> list[IncidentResult]:
    # SIGTERM ends the drill like Ctrl-C: every incident's finally restores what it broke.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    results = []
    try:
        for kind in chosen:
            results.append(runner.run(kind))
    finally:
        signal.signal(signal.SIGTERM, previous)
    return results


@dataclass(frozen=True)
class Saving:
    """Where the drill's result is saved for `obs report`, and the page to write at once (--report)."""
    model: Model
    spec: Path
    out: Path
    env: str
    report: Path | None


def _finish(results: list[IncidentResult], fmt: str, target_s: float, saving: Saving) -> None:
    from obs.report.page import finish_run
    from obs.report.saved import Kind

    doc = {"incidents": [r.as_dict() for r in results], "target_s": target_s}
    if fmt == "json":
        emit_json(doc)
    else:
        _show(results, target_s)
    for line in finish_run(saving.model, saving.spec, saving.out, saving.env, Kind.DRILL, doc, saving.report):
        err_console().print(line, style="yellow" if line.startswith("warning") else "dim")
    if not all(r.ok for r in results):
        raise Exit(1)


def _deployed(spec: Path, model: Model, target: Path, env: str, chosen: list[Incident], page: bool,
              progress: Callable[[str], None]) -> list[IncidentResult]:
    """A deployed environment: canary-driven kinds only, pages read at its Alertmanager."""
    from obs.model.detection import SYNTHETIC
    from obs.model.floors import floors
    from obs.verify.context import Context, down_reason
    from obs.verify.endpoints import environment_endpoints
    from obs.verify.incidents import Runner
    from obs.verify.pages import AlertmanagerPages
    from obs.verify.poll import Deadline

    environment = model.environment(env)
    if environment is None:
        declared = ", ".join(e.name for e in model.environments) or "none (add `environments:` to the spec)"
        raise InputError(f"{spec}: no environment named {env!r}; declared: {declared}")
    refused = [i.value for i in chosen if i not in SYNTHETIC]
    if refused:
        raise InputError(f"--env {env}: {', '.join(refused)} would kill a deployed component or break its paging "
                         "integration, which obs does not do from outside; drill those on the local stack "
                         f"(`obs up`, then `obs drill`). Here: {', '.join(sorted(i.value for i in SYNTHETIC))}")
    ctx = Context(model, target, environment_endpoints(model, environment, target), floors(model),
                  Deadline.after(24 * 3600))
    am = ctx.alertmanager()
    why = down_reason(am, "/api/v2/status") or down_reason(ctx.prometheus(), "/api/v1/status/buildinfo")
    if why is not None:
        raise StackError(f"environment {env}: {why} ({ctx.ep.alertmanager}, {ctx.ep.prometheus})")
    runner = Runner(ctx, None, AlertmanagerPages(am), am, progress, quiet=not page)
    return _run_all(runner, chosen)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
