"""How close a full `obs verify` of a healthy fast-profile stack comes to the floor its configuration sets.

    python bench/verify_floor.py [--runs 5]

Starts the real native stack, lets the spec's services send OTLP as instrumented
services do, then times full verify runs (every probe and every coverage check) and
prints each run's duration over the computed floor. Goal: at most 1.5x, well under 10 s.
Also times one `--traffic` verify of a freshly started stack against its own floor
(which includes the SLO rule chain), and the CLI end to end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from _stack import live_services, log, stack

from obs.model.floors import floors
from obs.verify import runner
from obs.verify.context import Context
from obs.verify.endpoints import endpoints
from obs.verify.poll import Deadline


def failures(report) -> None:
    for r in report.results:
        if not r.ok:
            log(f"{r.name}: {r.summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with stack("fast") as (spec, model, st):
        fresh = runner.run(model, spec.parent, runner.Options(traffic=True))
        print(f"fresh stack, --traffic: {fresh.seconds:.2f}s / floor {fresh.floor:.2f}s = "
              f"{fresh.seconds / fresh.floor:.2f}x  ({'pass' if fresh.ok else 'FAIL'})")
        failures(fresh)
        ctx = Context(model, spec.parent, endpoints(model, spec.parent), floors(model), Deadline.after(3600))
        with live_services(ctx):
            warm = runner.run(model, spec.parent, runner.Options(budget=60))   # let every series exist first
            log(f"warm-up verify: {'pass' if warm.ok else 'FAIL'} in {warm.seconds:.2f}s")
            ratios = []
            print(f"run  {'verify':>7}  {'floor':>6}  {'ratio':>5}  trace  metric  scrape  alert   ok")
            for i in range(args.runs):
                r = runner.run(model, spec.parent)
                by = {p.name: p.seconds for p in r.results}
                ratios.append(r.seconds / r.floor)
                failures(r)
                print(f"{i + 1:>3}  {r.seconds:6.2f}s  {r.floor:5.2f}s  {ratios[-1]:5.2f}  {by['trace']:5.2f}  "
                      f"{by['metric']:6.2f}  {by['scrape']:6.2f}  {by['alert']:5.2f}  {r.ok}")
            started = time.monotonic()
            cli = subprocess.run([sys.executable, "-m", "obs", "verify", str(spec), "--format", "json"],
                                 capture_output=True, text=True)
            cli_s = time.monotonic() - started
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} cores while measuring")
        print(f"median ratio {statistics.median(ratios):.2f}x (max {max(ratios):.2f}x; goal <= 1.5x); "
              f"`obs verify` end to end as a process: {cli_s:.2f}s (exit {cli.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
