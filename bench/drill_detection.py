"""How long a synthetic outage takes to page, against the SRE workbook and the 5-minute target.

    python bench/drill_detection.py [--profile fast|production|both] [--error-ratio 1.0]

For each profile: start the real native stack, let the spec's services send OTLP as
instrumented services do (so the canary has good traffic before the outage), run
`obs drill` on the canary (checkout, availability 99.9%), and print the time until the
page reached the webhook sink, each stage, the workbook's time to fire for the 1h/14.4x
tier, the pipeline slack the configuration adds, and the platform target (300 s).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from _stack import live_services, log, stack

from obs.verify import drill
from obs.verify.context import Context
from obs.verify.endpoints import endpoints
from obs.verify.floors import floors
from obs.verify.poll import Deadline
from obs.verify.sink import Sink

# Good traffic before the outage: long enough for the SLO rules to record it, as a real canary would have.
WARM_S = {"fast": 15.0, "production": 150.0}


def one(profile: str, error_ratio: float) -> None:
    with stack(profile) as (spec, model, st):
        svc, slo = drill.canary(model, None, None, error_ratio)
        floor = drill.detection_floor(model, slo, error_ratio)
        background = Context(model, spec.parent, endpoints(model, spec.parent), floors(model), Deadline.after(3600))
        with live_services(background):
            log(f"{profile}: {WARM_S[profile]:.0f}s of good traffic before the outage")
            time.sleep(WARM_S[profile])   # a benchmark's warm-up, not a poll: the traffic needs to exist a while
            ctx = Context(model, spec.parent, endpoints(model, spec.parent), floors(model),
                          Deadline.after(drill.default_budget(floor)), progress=lambda c, m: log(m))
            with Sink(ctx.ep.sink_host, ctx.ep.sink_port) as sink:
                ctx.sink = sink
                r = drill.run(ctx, svc, slo, error_ratio)
        print(f"\n{profile}: {svc.name}/{slo.name} {slo.objective}%, {error_ratio:.0%} errors, "
              f"{r.history_events:.0f} good events in the {floor.tier} window before the outage")
        for h in r.hops:
            took = "—" if h.seconds is None else f"{h.seconds:7.2f}s"
            print(f"  {h.id:<13}{took}   (floor {h.floor:6.2f}s)  {h.title}")
        print(f"  paged after {r.seconds:.1f}s ({r.tier} tier) — workbook {floor.workbook_s:.1f}s + pipeline slack "
              f"{floor.slack_s:.1f}s = {floor.total_s:.1f}s; target {drill.TARGET_S:.0f}s "
              f"{'met' if r.within_target else 'MISSED'}" if r.ok else f"  NOT paged: {r.findings[0].why}")
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["fast", "production", "both"], default="both")
    parser.add_argument("--error-ratio", type=float, default=1.0)
    args = parser.parse_args()
    for profile in (["fast", "production"] if args.profile == "both" else [args.profile]):
        one(profile, args.error_ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
