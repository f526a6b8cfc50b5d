"""One verify run: reachability, optional traffic, the probes side by side, coverage, then one report."""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from obs.errors import StackError
from obs.model.domain import Model
from obs.model.environments import LOCAL
from obs.model.floors import default_budget, floors
from obs.verify import CHECKS, ENV_CHECKS, clients, coverage, deployed, traffic
from obs.verify.context import Context, Progress, down_reason
from obs.verify.endpoints import endpoints, environment_endpoints
from obs.verify.poll import Deadline
from obs.verify.probes import alert, metric, scrape, trace
from obs.verify.result import Finding, ProbeResult, Report, Status
from obs.verify.sink import Sink


@dataclass(frozen=True)
class Options:
    only: tuple[str, ...] = CHECKS
    traffic: bool = False
    budget: float | None = None
    watching: bool = False
    env: str = LOCAL



def reachability(ctx: Context) -> dict[str, str | None]:
    """component -> None when it answers, else why not; asked side by side."""
    asks = {"collector": (ctx.collector(), "/"), "Jaeger": (ctx.jaeger(), "/api/v3/services"),
            "Prometheus": (ctx.prometheus(), "/-/ready"), "Alertmanager": (ctx.alertmanager(), "/-/ready")}
    with ThreadPoolExecutor(len(asks), thread_name_prefix="obs-verify-reach") as pool:
        answers = {name: pool.submit(down_reason, client, path) for name, (client, path) in asks.items()}
    return {name: future.result() for name, future in answers.items()}


def _sink_failure(error: StackError) -> ProbeResult:
    return ProbeResult("alert", False, str(error), findings=[Finding("webhook sink", Status.FAIL, str(error))])


def run(model: Model, out: Path, options: Options = Options(), progress: Progress = lambda c, m: None,
        sink: Sink | None = None) -> Report:
    """Raises StackError (exit 3) when no component of the stack answers at all."""
    started = time.monotonic()
    budget = options.budget if options.budget is not None else default_budget(model, options.traffic)
    fl = floors(model)
    report = Report(model.project, model.stack.timing.name, budget, fl.verify(options.traffic))
    worst = floors(model, alertmanager_discovered=False).verify(options.traffic)
    if budget < report.floor:
        report.warnings.append(f"the verify budget ({budget:g}s) is shorter than the floor the configuration sets "
                               f"({report.floor:.2f}s): probes will time out on a healthy stack; raise "
                               "stack.verify_budget or --budget")
    elif budget < worst:
        report.warnings.append(f"the verify budget ({budget:g}s) is shorter than the floor right after `obs up` "
                               f"({worst:.2f}s, while Prometheus discovers Alertmanager)")
    environment = model.environment(options.env) if options.env != LOCAL else None
    ep = environment_endpoints(model, environment, out) if environment is not None else endpoints(model, out)
    report.env = options.env
    report.warnings += [f"{url}: tls.insecure_skip_verify is set, so any certificate is accepted and nothing proves "
                        "who answered" for url in ep.insecure]
    ctx = Context(model, out, ep, fl, Deadline.after(budget), progress=progress, watching=options.watching)
    if environment is not None:
        return _run_deployed(ctx, options, report, started)
    down = reachability(ctx)
    if all(down.values()):
        raise StackError("the stack is not running: nothing answers at " + ", ".join(
            (ctx.ep.collector_health, ctx.ep.jaeger, ctx.ep.prometheus, ctx.ep.alertmanager))
            + ". Start it with `obs up`.")
    for name, why in down.items():
        if why is not None:
            progress("stack", f"{name} does not answer ({why})")
    ctx.collector_before = ctx.collector_snapshot()
    own_sink = None
    sink_error = None
    if "alert" in options.only:
        if sink is None:
            try:
                sink = own_sink = Sink(ctx.ep.sink_host, ctx.ep.sink_port).start()
            except StackError as e:
                sink_error = e
        ctx.sink = sink
    sent = None
    try:
        if options.traffic:
            sent = traffic.start(ctx)
            ctx.traffic_sent = True
        report.results = _run_all(ctx, options, sink_error)
        ctx.finish()
    finally:
        ctx.stop.set()
        if own_sink is not None:
            own_sink.stop()
        if sent is not None:
            sent.stop()
    for service, why in (sent.failed.items() if sent is not None else ()):
        report.warnings.append(f"traffic for {service} was not accepted: {why}")
    report.seconds = time.monotonic() - started
    return report


def _run_all(ctx: Context, options: Options, sink_error: StackError | None) -> list[ProbeResult]:
    jobs: dict[str, object] = {}
    with ThreadPoolExecutor(max_workers=4 + len(coverage.CHECKS), thread_name_prefix="obs-verify") as pool:
        # The alert probe is the slowest: it starts first. Results are still reported in pipeline order.
        for name, module in (("alert", alert), ("trace", trace), ("metric", metric), ("scrape", scrape)):
            if name in options.only and not (name == "alert" and sink_error is not None):
                jobs[name] = pool.submit(module.run, ctx)
        if "coverage" in options.only:
            for name, check in coverage.CHECKS.items():
                jobs[f"coverage:{name}"] = pool.submit(coverage.run_check, ctx, name, check)
        results: list[ProbeResult] = []
        order = ["trace", "metric", "scrape", "alert"] + [k for k in jobs if k.startswith("coverage:")]
        for name, future in sorted(jobs.items(), key=lambda item: order.index(item[0])):
            result = future.result()  # type: ignore[attr-defined]
            if result is not None:
                results.append(result)
                ctx.progress(name, "done")
    if sink_error is not None:
        results.insert(min(3, len(results)), _sink_failure(sink_error))
    return results


def _run_deployed(ctx: Context, options: Options, report: Report, started: float) -> Report:
    """A deployed environment: every endpoint must answer (exit 3 names each that does not, and why), then the
    checks run side by side. Nothing is started, written, reloaded or restarted there."""
    asks = {"Jaeger": (ctx.jaeger(), "/api/v3/services"), "Prometheus": (ctx.prometheus(), "/api/v1/status/buildinfo"),
            "Alertmanager": (ctx.alertmanager(), "/api/v2/status")}
    with ThreadPoolExecutor(len(asks), thread_name_prefix="obs-verify-reach") as pool:
        answers = {name: (client.base, pool.submit(down_reason, client, path)) for name, (client, path) in asks.items()}
    down = {name: (url, f.result()) for name, (url, f) in answers.items() if f.result() is not None}
    if down:
        raise StackError(f"environment {options.env}: " + "; ".join(
            f"{name} does not answer at {url}: {why}" for name, (url, why) in down.items()))
    # The alert probe, the slowest, starts first; results are reported in ENV_CHECKS order, then the rest.
    checks: dict[str, Callable[[Context], ProbeResult | None]] = {
        **deployed.RUNNERS, "trace": trace.run, "metric": metric.run, "scrape": scrape.run}
    jobs: dict[str, Future[ProbeResult | None]] = {}
    with ThreadPoolExecutor(max_workers=4 + len(coverage.CHECKS), thread_name_prefix="obs-verify") as pool:
        for name, check in checks.items():
            if name in options.only:
                jobs[name] = pool.submit(_guarded, name, check, ctx)
        if "coverage" in options.only:
            for name, cov in coverage.CHECKS.items():
                jobs[f"coverage:{name}"] = pool.submit(coverage.run_check, ctx, name, cov)
        order = [*ENV_CHECKS, "scrape"]
        for name, future in sorted(jobs.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99):
            result = future.result()
            if result is not None:
                report.results.append(result)
                ctx.progress(name, "done")
    ctx.finish()
    ctx.stop.set()
    report.seconds = time.monotonic() - started
    return report


def _guarded(name: str, check: Callable[[Context], ProbeResult | None], ctx: Context) -> ProbeResult | None:
    """A component that stops answering mid-run fails its check, in words, rather than the whole run."""
    try:
        return check(ctx)
    except (clients.Unreachable, clients.ApiError) as e:
        return ProbeResult(name, False, str(e), findings=[Finding(name, Status.FAIL, str(e))])
