"""obs verify: prove traces, metrics and alerts arrive end to end, time every hop, name the hop that lost data."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from obs.commands.common import err_console, load, out_console, out_dir_for, seconds_option
from obs.commands.options import spec_argument
from obs.errors import Exit, InputError, SpecError
from obs.model.environments import LOCAL
from obs.verify import ALL_CHECKS, CHECKS, DEPLOYED_CHECKS, ENV_CHECKS

if TYPE_CHECKING:
    from obs.model.domain import Model
    from obs.verify.result import Report

# The verifier (OpenTelemetry SDK, prometheus-client) is imported when the command runs, so
# every other `obs` command starts without it.


def _print(report: Report, fmt: str) -> None:
    from obs.verify import report as show
    if fmt == "json":
        sys.stdout.write(show.to_json(report))
    elif fmt == "junit":
        sys.stdout.write(show.to_junit(report))
    else:
        out_console().print(show.table(report))


@click.command("verify", epilog="""\b
Examples:
  obs verify                        probe the running stack of ./obs.yaml; exit 1 if any check fails
  obs verify --traffic              first send synthetic OTLP traffic for every service (fresh stacks)
  obs verify --only alert           just the alert path: rule → Alertmanager → webhook
  obs verify --format junit > verify.xml   for CI test reports (also: --format json)
  obs verify --watch                probe forever; Prometheus scrapes the results, rules alert on them
  obs verify --env staging --junit report.xml   check a deployed stack from CI
  obs verify --report report.html   also write the HTML report (publish it as a CI artifact)
\b
Probes: a span found by trace ID in Jaeger; an OTLP gauge with a unique probe_id found in
Prometheus; fresh scrapes of declared targets; a probe alert delivered by Alertmanager to
a webhook sink obs runs on stack.ports.verify_sink. Coverage: every service has spans and
series, every declared call (`calls:`) is an edge of Jaeger's service graph and spans keep their
parents, every target is up, every rule group is loaded and healthy, every SLI query and every
dashboard panel query returns data (an empty SLI says what the service sends instead and what
to change). Each hop is timed against the floor the generated config sets (batch timeout, scrape
and evaluation intervals, group_wait). When a probe fails, the collector's own counters,
Prometheus's targets and rules and Alertmanager's alerts and notification counters say
where the data stopped, why, and what to fix.
\b
--env NAME checks a deployed stack declared under `environments:` in the spec, over its
own TLS, credentials and headers, and only reads and sends small probes tagged
service.name=obs-verify (it starts, writes, reloads and restarts nothing there): a probe span
in Jaeger and a probe metric in Prometheus (trace, metric); a probe alert that Alertmanager
routes to a receiver that pages nobody (alert); the Alertmanager cluster (alertmanager); the
Watchdog firing and routed to the heartbeat receiver (watchdog); and drift between the rules,
Alertmanager configuration and scrape jobs that run and those the repository generates
(drift). Secrets are read from their files or variables and never printed.
\b
Each run's result is saved under .obs/results/<env>/verify.json for `obs report`; --report FILE
writes that page at once: every hop against its floor, what was lost where, the last drill, every
SLO's budget and burn rate, and the pipeline's counts (see `obs report --help`).
\b
Exit codes: 0 all checks passed; 1 a check failed or drift was found; 2 bad spec, environment
or option; 3 the stack is not running (locally: nothing answers; --env: any endpoint does
not answer, with its address and the TLS or auth error in words).""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output directory with the generated artifacts (default: the spec's).")
@click.option("--traffic", is_flag=True, help="Send synthetic OTLP traffic for every declared service first.")
@click.option("--env", "env", metavar="NAME", default="local", show_default=True,
              help="Verify this deployed environment (from the spec's `environments:`) instead of the local stack.")
@click.option("--only", "only", multiple=True, type=click.Choice(ALL_CHECKS),
              help="Run only these checks (repeatable). Default: all (with --env: trace, metric, alert, "
                   "alertmanager, watchdog, drift).")
@click.option("--budget", metavar="DURATION",
              help="How long each probe may wait (default: stack.verify_budget, else twice the floor + 5s).")
@click.option("--watch", "watching", is_flag=True,
              help="Probe forever and expose the results on stack.ports.verify_metrics.")
@click.option("--interval", metavar="DURATION", help="--watch: time between rounds (default: 2x the floor, ≥ 5s).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True,
              help="json or junit print one machine-readable document on stdout.")
@click.option("--junit", "junit", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Also write a JUnit report to FILE (whatever --format prints).")
@click.option("--report", "report_to", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Also write the HTML report of `obs report` to FILE, with this run's result.")
def command(spec: Path, out: Path | None, traffic: bool, env: str, only: tuple[str, ...], budget: str | None,
            watching: bool, interval: str | None, fmt: str, junit: Path | None, report_to: Path | None) -> None:
    """Prove the stack of SPEC (default ./obs.yaml) carries traces, metrics and alerts end to end."""
    from obs.verify import report as show
    from obs.verify import runner

    model = load(spec)
    target = out_dir_for(spec, out)
    budget_s = seconds_option(budget, "--budget")
    _check_env(spec, model, env, only, traffic, watching)
    if watching:
        if report_to is not None:
            raise InputError("--report writes one run's page; with --watch, run `obs report` when you want one")
        _watch(model, target, seconds_option(interval, "--interval"), budget_s, fmt)
        return
    default = ENV_CHECKS if env != LOCAL else CHECKS
    options = runner.Options(only=only or default, traffic=traffic, budget=budget_s, env=env)
    try:
        with show.LiveProgress(err_console()) as live:
            progress = live if fmt == "text" else (lambda check, message: None)
            report = runner.run(model, target, options, progress)
    except SpecError as e:
        # An environment's secret or file that cannot be read: point at where the spec names it.
        from obs.spec.loader import load as load_spec
        from obs.spec.loader import ordered
        raise SpecError(str(spec), ordered(e.problems, load_spec(spec)[1])) from None
    _print(report, fmt)
    if junit is not None:
        try:
            junit.write_text(show.to_junit(report))
        except OSError as e:
            raise InputError(f"--junit {junit}: cannot write: {e.strerror or e}") from None
    from obs.report.page import finish_run
    from obs.report.saved import Kind
    for line in finish_run(model, spec, target, env, Kind.VERIFY, report.as_dict(), report_to):
        err_console().print(line, style="yellow" if line.startswith("warning") else "dim")
    if not report.ok:
        raise Exit(1)


def _check_env(spec: Path, model: Model, env: str, only: tuple[str, ...], traffic: bool, watching: bool) -> None:
    if env == LOCAL:
        local_only = [o for o in only if o not in CHECKS]   # the deployed-only checks
        if local_only:
            raise InputError(f"--only {', '.join(local_only)} checks a deployed environment; add --env NAME")
        return
    if model.environment(env) is None:
        declared = ", ".join(e.name for e in model.environments) or "none (add `environments:` to the spec)"
        raise InputError(f"{spec}: no environment named {env!r}; declared: {declared}")
    if traffic or watching:
        raise InputError(f"--{'traffic' if traffic else 'watch'} is for the local stack: with --env, verify sends "
                         "only its own small probes")
    bad = [o for o in only if o not in (*CHECKS, *DEPLOYED_CHECKS)]
    if bad:  # pragma: no cover - click's Choice already refuses these
        raise InputError(f"unknown checks: {', '.join(bad)}")


def _watch(model: Model, target: Path, interval: float | None, budget: float | None, fmt: str) -> None:
    import json

    from obs.verify import watch
    every = interval if interval is not None else watch.default_interval(model)
    err_console().print(f"watching every {every:g}s; metrics on "
                      f"{model.stack.bind}:{model.stack.ports['verify_metrics']}; Ctrl-C stops")

    def on_round(report: Report | None, error: str | None) -> None:
        if error is not None:
            err_console().print(f"[red]round failed:[/red] {error}")
        elif fmt == "json":
            assert report is not None   # a round that raised no error has its report
            sys.stdout.write(json.dumps(report.as_dict(), sort_keys=True) + "\n")   # one JSON document per line
            sys.stdout.flush()
        elif report is not None:
            state = "[green]pass[/green]" if report.ok else "[red]FAIL[/red]"
            detail = "; ".join(f"{r.name} {r.seconds:.2f}s" if r.ok else f"{r.name}: {r.summary}"
                               for r in report.results)
            err_console().print(f"{state} {detail}")

    watch.watch(model, target, every, lambda check, message: None, on_round, budget=budget)
