"""`obs verify` while the pipeline carries sustained background load: duration over the floor, idle and loaded.

    python bench/verify_under_load.py [--runs 5] [--spans-per-second 1000] [--points-per-second 1000]
                                      [--loaded-seconds 60]

Starts the real native stack (fast profile, the verify test spec), lets the spec's services send OTLP
as instrumented services do, and times full verify runs (every probe and coverage check) first with
no other load, then for at least `--loaded-seconds` while tests/support/load.py, a separate process using the
OTel SDK, pushes the given spans and metric points per second through the collector. Prints each run's
duration over the computed floor (obs.model.floors), and the load the collector actually accepted
while the loaded runs went on.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from _stack import live_services, log, stack

from obs.model.floors import floors
from obs.stack.components import urls
from obs.verify import runner
from obs.verify.clients import Collector, Unreachable
from obs.verify.context import Context
from obs.verify.endpoints import endpoints
from obs.verify.poll import Deadline
from tests.support.paths import SUPPORT

LOAD = SUPPORT / "load.py"
RAMP_S = 15.0
WARM_UP_RUNS = 10
MAX_RUNS = 200
COUNTERS = ("otelcol_receiver_accepted_spans", "otelcol_receiver_accepted_metric_points",
            "otelcol_receiver_refused_spans", "otelcol_receiver_refused_metric_points",
            "otelcol_exporter_send_failed_spans", "otelcol_exporter_send_failed_metric_points",
            "otelcol_exporter_enqueue_failed_spans", "otelcol_exporter_enqueue_failed_metric_points")


def counters(model) -> dict[str, float]:
    u = urls(model)
    try:
        snapshot = Collector(u["collector_health"], u["collector_metrics"]).self_metrics()
    except Unreachable:
        return {}
    out = dict.fromkeys(COUNTERS, 0.0)
    for (name, _), value in snapshot.items():
        if name in out:
            out[name] += value
    return out


def timed(model, spec, runs: int, label: str, min_seconds: float = 0.0) -> tuple[list[float], int]:
    """At least `runs` verifies, and more until `min_seconds` have passed (at most MAX_RUNS); (ratios, failed)."""
    ratios: list[float] = []
    failed = 0
    started = time.monotonic()
    for i in range(MAX_RUNS):
        if i >= runs and time.monotonic() - started >= min_seconds:
            break
        r = runner.run(model, spec.parent)
        by = {p.name: p.seconds for p in r.results}
        ratios.append(r.seconds / r.floor)
        failed += not r.ok
        for p in r.results:
            if not p.ok:
                log(f"{label} run {i + 1}: {p.name}: {p.summary}")
        print(f"{label:<7} {i + 1:>3}  {r.seconds:6.2f}s  {r.floor:5.2f}s  {ratios[-1]:5.2f}  {by['trace']:5.2f}  "
              f"{by['metric']:6.2f}  {by['scrape']:6.2f}  {by['alert']:5.2f}  {r.ok}")
    return ratios, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--spans-per-second", type=int, default=1000)
    parser.add_argument("--points-per-second", type=int, default=1000)
    parser.add_argument("--loaded-seconds", type=float, default=60.0, help="keep verifying under load this long")
    args = parser.parse_args()
    with stack("fast") as (spec, model, st):
        ctx = Context(model, spec.parent, endpoints(model, spec.parent), floors(model), Deadline.after(3600))
        with live_services(ctx):
            for attempt in range(WARM_UP_RUNS):   # until every series and SLO rule has data
                warm = runner.run(model, spec.parent, runner.Options(budget=60))
                log(f"warm-up verify {attempt + 1}: {'pass' if warm.ok else 'FAIL'} in {warm.seconds:.2f}s")
                if warm.ok:
                    break
                time.sleep(2)
            print(f"{'load':<7} run  {'verify':>7}  {'floor':>6}  {'ratio':>5}  trace  metric  scrape  alert   ok")
            idle, idle_failed = timed(model, spec, args.runs, "idle")
            idle_load = os.getloadavg()[0]
            limit = 120 + 30 * args.runs + args.loaded_seconds
            load = subprocess.Popen([sys.executable, str(LOAD), "--otlp", urls(model)["otlp_http"],
                                     "--spans-per-second", str(args.spans_per_second),
                                     "--points-per-second", str(args.points_per_second), "--seconds", str(limit)],
                                    stdout=subprocess.PIPE, text=True)
            try:
                time.sleep(RAMP_S)
                before, started = counters(model), time.monotonic()
                loaded, loaded_failed = timed(model, spec, args.runs, "loaded", args.loaded_seconds)
                begun = time.monotonic()
                cli = subprocess.run([sys.executable, "-m", "obs", "verify", str(spec), "--format", "json"],
                                     capture_output=True, text=True, timeout=120)
                cli_s = time.monotonic() - begun
                after, elapsed = counters(model), time.monotonic() - started
                busy_load = os.getloadavg()[0]
                alive = load.poll() is None
            finally:
                load.terminate()
                out, _ = load.communicate(timeout=60)
    made = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in COUNTERS}
    failed = sum(v for k, v in delta.items() if "_exporter_" in k)
    print(f"background load (tests/support/load.py, its own process, alive through every loaded run: {alive}): "
          f"asked {args.spans_per_second} spans/s + {args.points_per_second} points/s; made {made}")
    print(f"collector accepted while loaded: {delta['otelcol_receiver_accepted_spans'] / elapsed:.0f} spans/s, "
          f"{delta['otelcol_receiver_accepted_metric_points'] / elapsed:.0f} metric points/s over {elapsed:.0f} s; "
          f"refused {delta['otelcol_receiver_refused_spans']:.0f} spans, "
          f"{delta['otelcol_receiver_refused_metric_points']:.0f} points; "
          f"exporter send or enqueue failures {failed:.0f}")
    print(f"load average: {idle_load:.1f} idle, {busy_load:.1f} loaded, on {os.cpu_count()} cores")
    print(f"median ratio idle {statistics.median(idle):.2f}x (max {max(idle):.2f}x, {len(idle)} runs, "
          f"{idle_failed} failed), loaded {statistics.median(loaded):.2f}x (max {max(loaded):.2f}x, {len(loaded)} "
          f"runs, {loaded_failed} failed); loaded/idle "
          f"{statistics.median(loaded) / statistics.median(idle):.2f}; `obs verify` as a process under load: "
          f"{cli_s:.2f}s (exit {cli.returncode})")
    return 0 if cli.returncode == 0 and not loaded_failed else 1


if __name__ == "__main__":
    sys.exit(main())
