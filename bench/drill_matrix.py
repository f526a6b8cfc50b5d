"""How long each kind of incident takes to page, through the real notifier path, against its computed bound.

    python bench/drill_matrix.py [--profile production|fast] [--incident all] [--warm 150]

Starts the real native stack from the drill spec (an HTTP service with a 99.9% availability and a 95%
latency SLO, PagerDuty for pages, Slack for tickets) in the given timing profile, lets the spec's
services send OTLP as instrumented services do (so SLOs have good traffic before an outage), then runs
`obs drill --incident ... --format json` and prints, per incident: the time to page, the bound
`obs explain` computes for it, their ratio, the pages counted, and the time to resolve.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _stack import live_services, log

from obs.commands.generate import generate
from obs.model.floors import floors
from obs.project import load_model
from obs.stack.native import Stack
from obs.verify.context import Context
from obs.verify.endpoints import endpoints
from obs.verify.poll import Deadline
from tests.support.drill_spec import write_spec
from tests.support.stack_spec import free_ports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["fast", "production"], default="production")
    parser.add_argument("--incident", default="all")
    parser.add_argument("--warm", type=float, default=None, help="seconds of good traffic first (default: "
                        "150 production, 15 fast)")
    args = parser.parse_args()
    warm = args.warm if args.warm is not None else (150.0 if args.profile == "production" else 15.0)
    with tempfile.TemporaryDirectory(prefix=f"obs-bench-drill-{args.profile}-") as tmp:
        spec = write_spec(Path(tmp), free_ports(), args.profile)
        generate(spec, None, check=False)
        model = load_model(spec)
        st = Stack(spec.parent, model)
        try:
            st.up(log)
            ctx = Context(model, spec.parent, endpoints(model, spec.parent), floors(model), Deadline.after(86400))
            with live_services(ctx):
                log(f"{args.profile}: {warm:.0f}s of good traffic before the drill")
                time.sleep(warm)   # a benchmark's warm-up, not a poll: the traffic needs to exist a while
                started = time.monotonic()
                proc = subprocess.run([sys.executable, "-m", "obs", "drill", str(spec), "--incident", args.incident,
                                       "--format", "json"], capture_output=True, text=True)
                took = time.monotonic() - started
            if proc.returncode not in (0, 1):     # no matrix: say why, from the drill's own words
                sys.stderr.write(proc.stderr)
                return proc.returncode
            doc = json.loads(proc.stdout)
        finally:
            st.down()
    print(f"\n{args.profile} timing, exit {proc.returncode}, matrix took {took / 60:.1f} min; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'incident':<16}{'paged':>9}{'bound':>8}{'ratio':>7}{'pages':>7}{'resolved':>10}  receiver")
    for r in doc["incidents"]:
        paged, b = r["paged_after_s"], r["bound_s"]
        ratio = "—" if paged is None else f"{paged / b:.2f}"
        resolved = "—" if r["resolved_after_s"] is None else f"{r['resolved_after_s']:.1f}s"
        print(f"  {r['incident']:<16}{'—' if paged is None else f'{paged:.1f}s':>9}{b:>7.0f}s{ratio:>7}"
              f"{r['pages']:>7}{resolved:>10}  {r['receiver'] or '—'}")
        for f in r["findings"]:
            print(f"      {f['status']}: {f['why']}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
