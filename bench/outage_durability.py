"""Nothing lost through a backend outage: counts and throughput with the collector's persistent queue.

    python bench/outage_durability.py [--profile production] [--outage 60] [--crash-at 30]
                                      [--spans-per-second 200] [--samples-per-second 50] [--volatile]

Starts the real native stack (production profile: persistent sending queue in the file_storage
extension), sends spans (each its own trace) and gauge samples (value = sequence number) at a steady
rate with the OTel SDK, stops Jaeger and Prometheus for `--outage` seconds, SIGKILLs the collector
`--crash-at` seconds into the outage while the sender keeps going and starts it again, brings both
backends back and counts every accepted span in Jaeger (by trace id) and every accepted sample in
Prometheus (by lane and sequence number). `--volatile` runs the same drill without the persistent queue.

Then, unless `--no-crash-window`, it measures how long after the collector answers 200 the data is
actually in the persistent queue: with Jaeger down, one batch of spans is sent and the collector is
SIGKILLed a fixed delay after the answer; which delays lose the batch?

obs generates batching in each exporter's (persistent) sending queue, with no batch processor.
`--batch-processor` rewrites the generated collector config before starting to what obs generated before: a
batch processor with the same timeout in front of queues of requests. It is the control that shows the crash
window the queue batching closed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ruamel.yaml import YAML  # noqa: E402

from obs.commands.generate import generate  # noqa: E402
from obs.emit import yaml_dump  # noqa: E402
from obs.generate.configs import builder_manifest  # noqa: E402
from obs.model import conventions as c  # noqa: E402
from obs.project import load_model  # noqa: E402
from obs.stack.components import urls  # noqa: E402
from obs.stack.native import Stack  # noqa: E402
from obs.verify.clients import Prometheus, Unreachable  # noqa: E402
from tests.support.outage import Sender, spans_found, traces_in_jaeger  # noqa: E402
from tests.support.outage_drill import Plan, Result, run  # noqa: E402
from tests.support.stack_spec import SECRET_ENV, free_ports, write_spec  # noqa: E402

TICKS_PER_SECOND = 10
CRASH_DELAYS_S = (0.01, 0.1, 0.15, 0.3, 0.6, 1.0)
CRASH_TRIALS = 3
# The queue obs generated before batching moved into the exporters: 1000 requests (the exporters' default).
REQUESTS_QUEUE = 1000


def log(message: str) -> None:
    if "already built" not in message:
        print(f"  {message}", file=sys.stderr, flush=True)


def ooo_samples(model) -> dict[str, float]:
    """Prometheus's own out-of-order counters since its restart: queued samples arrive late."""
    try:
        snapshot = Prometheus(urls(model)["prometheus"]).self_metrics()
    except Unreachable:
        return {}
    wanted = ("prometheus_tsdb_head_out_of_order_samples_appended", "prometheus_tsdb_out_of_order_samples")
    out: dict[str, float] = {}
    for (name, _), value in snapshot.items():
        if name in wanted:
            out[name] = out.get(name, 0.0) + value
    return out


def batch_processor(out: Path, model) -> None:
    """The control: a batch processor holds accepted data in memory for its timeout before any queue sees it."""
    path = out / c.OTELCOL_CONFIG
    yaml = YAML()
    doc = yaml.load(path.read_text())
    doc["processors"]["batch"] = {"timeout": str(model.stack.timing.batch_timeout)}
    for pipeline in doc["service"]["pipelines"].values():
        pipeline["processors"] = [*pipeline["processors"], "batch"]
    for exporter in doc["exporters"].values():
        if "sending_queue" in exporter:
            for key in ("batch", "sizer"):
                exporter["sending_queue"].pop(key, None)
            exporter["sending_queue"]["queue_size"] = REQUESTS_QUEUE
    with path.open("w") as fh:
        yaml.dump(doc, fh)
    # The generated distribution has no batch processor: the control's collector is built with one.
    plain = json.loads(json.dumps(doc))
    (out / c.OTELCOL_MANIFEST).write_text(yaml_dump.dump(builder_manifest.manifest(model, plain)))


def crash_window(st: Stack, model) -> dict[float, tuple[int, int]]:
    """delay -> (spans accepted, spans delivered) when the collector is SIGKILLed `delay` after answering."""
    u = urls(model)
    st.stop("jaeger", log)
    sender = Sender(u["otlp_http"], f"crash-window-{os.getpid()}", 0.1, 20, 1, 3600)
    since = time.time()
    by_delay: dict[float, set[str]] = {d: set() for d in CRASH_DELAYS_S}
    for _ in range(CRASH_TRIALS):
        for delay in CRASH_DELAYS_S:
            sender.send_one()
            accepted = sender.accepted("spans") - set().union(*by_delay.values())
            by_delay[delay] |= accepted
            time.sleep(delay)
            st.kill("otelcol")
            st.start("otelcol", log)
    st.start("jaeger", log)
    # What reached the persistent queue is retried, at most retry_max_interval (30 s) plus jitter apart.
    everything = set().union(*by_delay.values())
    deadline = time.monotonic() + 75
    while time.monotonic() < deadline:
        if traces_in_jaeger(u["jaeger_query"], sender.service, since) >= everything:
            break
        time.sleep(2)
    found = spans_found(u["jaeger_query"], sender.service, since, everything)
    return {d: (len(ids), len(ids & found)) for d, ids in by_delay.items()}


def report(r: Result, model, args, ooo: dict[str, float]) -> None:
    t = model.stack.timing
    where = "processor" if args.batch_processor else "in the exporters' queues"
    unit = f"{REQUESTS_QUEUE} requests" if args.batch_processor else f"{t.queue_size} items"
    print(f"profile {t.name}, persistent queue {'on' if model.stack.persistent_queue else 'OFF'}: "
          f"batch {where} {t.batch_timeout}, retry {t.retry_initial} up to {t.retry_max_elapsed}, "
          f"queue {unit} per exporter")
    crash = (f"collector SIGKILLed {args.crash_at:.0f} s in (sender {'paused' if args.quiet_crash else 'running'}), "
             f"dead {r.plan.crash_down_s:.0f} s" if r.plan.crash_at_s is not None else "no collector crash")
    print(f"outage: Jaeger and Prometheus down {r.outage_s:.1f} s; {crash}")
    print(f"{'signal':<8} {'phase':<10} {'accepted':>8} {'delivered':>9} {'lost':>5}")
    for name, tally in (("spans", r.spans), ("samples", r.samples)):
        for phase in ("before", "boundary", "outage", "restarted", "after"):
            if phase in tally.accepted:
                print(f"{name:<8} {phase:<10} {tally.accepted[phase]:>8} {tally.found.get(phase, 0):>9} "
                      f"{tally.lost[phase]:>5}")
    must, got = r.must_arrive_spans()
    samples = sum(r.samples.accepted.values())
    print(f"spans accepted during and after the outage: {must}, delivered {got}, lost {must - got} "
          f"(before the outage: {r.before_confirmed} confirmed in Jaeger before it stopped; its memory "
          f"storage forgets them on restart)")
    print(f"samples accepted: {samples}, delivered {samples - r.samples_lost()}, lost {r.samples_lost()}")
    print(f"throughput held during the outage: {r.outage_rate('spans'):.0f} spans/s "
          f"(target {args.spans_per_second}), {r.outage_rate('samples'):.0f} samples/s "
          f"(target {args.samples_per_second}); sender made {r.made_spans / r.sent_s:.0f} spans/s over "
          f"{r.sent_s:.0f} s, {r.refused_exports} exports refused (collector dead) and resent")
    drained = f"{r.delivered_after_s:.1f} s" if r.delivered_after_s is not None else "NOT within the timeout"
    print(f"everything delivered {drained} after the backends were healthy again; "
          f"queue peak {r.queue_peak}, after {r.queue_after}")
    print(f"Prometheus out-of-order counters since its restart: {ooo}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("production", "fast"), default="production")
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--crash-at", type=float, default=30.0, help="0: no collector crash")
    parser.add_argument("--quiet-crash", action="store_true", help="pause the sender around the crash")
    parser.add_argument("--spans-per-second", type=int, default=200)
    parser.add_argument("--samples-per-second", type=int, default=50)
    parser.add_argument("--volatile", action="store_true", help="without the persistent queue (control)")
    parser.add_argument("--no-crash-window", action="store_true", help="skip the crash-window measurement")
    parser.add_argument("--batch-processor", action="store_true",
                        help="control: a batch processor in front of queues of requests, as obs generated before")
    args = parser.parse_args()
    os.environ.setdefault(SECRET_ENV, "benchmark-routing-key")
    plan = Plan(outage_s=args.outage, warmup_s=10.0, after_s=10.0,
                crash_at_s=args.crash_at or None, quiet_crash=args.quiet_crash, deliver_timeout_s=180.0,
                period_s=1 / TICKS_PER_SECOND, spans_per_tick=max(1, args.spans_per_second // TICKS_PER_SECOND),
                lanes=max(1, args.samples_per_second // TICKS_PER_SECOND),
                **({"await_spans": ("restarted", "after"), "await_samples": ("restarted", "after")}
                   if args.volatile else {}))
    with tempfile.TemporaryDirectory(prefix=f"obs-bench-outage-{args.profile}-") as tmp:
        spec = write_spec(Path(tmp), free_ports(), project=f"bench-outage-{args.profile}")
        queue = "false" if args.volatile else "true"
        spec.write_text(spec.read_text().replace(
            "profile: fast", f"profile: {args.profile}\n  persistent_queue: {queue}"))
        generate(spec, None, check=False)
        model = load_model(spec)
        if args.batch_processor:
            batch_processor(spec.parent, model)
        if model.stack.timing.retry_max_elapsed.s < 2 * args.outage:
            log(f"warning: retry_max_elapsed {model.stack.timing.retry_max_elapsed} leaves little margin "
                f"over a {args.outage:.0f} s outage; batches retried longer than that are dropped")
        st = Stack(spec.parent, model)
        try:
            st.up(log)
            result = run(st, model, plan, log)
            ooo = ooo_samples(model)
            window = {} if args.no_crash_window else crash_window(st, model)
        finally:
            st.down()
    report(result, model, args, ooo)
    if window:
        print(f"crash window (Jaeger down, collector SIGKILLed a delay after it accepted a batch of 20 spans, "
              f"{CRASH_TRIALS} trials each; batch timeout {model.stack.timing.batch_timeout}):")
        for delay, (sent, delivered) in window.items():
            print(f"  killed {delay * 1000:4.0f} ms after the 200: {delivered}/{sent} spans delivered")
    lost = result.spans_lost() + result.samples_lost()
    return 0 if args.volatile or lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

