"""Sustained background OTLP load with the OTel SDK, in a process of its own (so it competes for the CPU).

    python tests/support/load.py --otlp http://127.0.0.1:4318 --spans-per-second 1000 --points-per-second 1000 \
        --seconds 120

Spans: traces of SPANS_PER_TRACE spans, made in ticks of 1/TICKS s and exported by the SDK's batch span
processor. Metric points: one observable counter with `points-per-second` series (attribute `series`),
exported every second, so each export carries that many points. Runs for at most `--seconds`, or until
SIGTERM; then flushes and prints one JSON line: spans made and metric exports attempted.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableCounter, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

LOAD_SERVICE = "obs-load"
LOAD_METRIC = "obs.load.points"
SPANS_PER_TRACE = 10
TICKS = 20
EXPORT_INTERVAL_MS = 1000
CUMULATIVE = dict.fromkeys((Counter, UpDownCounter, Histogram, ObservableCounter), AggregationTemporality.CUMULATIVE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--otlp", required=True, help="base URL of the collector's OTLP/HTTP receiver")
    parser.add_argument("--spans-per-second", type=int, default=1000)
    parser.add_argument("--points-per-second", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120.0, help="hard limit on the run")
    args = parser.parse_args(argv)
    # The SDK would log every failed export; the parent reads the collector's counters instead.
    import logging
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    resource = Resource.create({"service.name": LOAD_SERVICE})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(
        OTLPSpanExporter(endpoint=f"{args.otlp}/v1/traces", timeout=5),
        max_queue_size=max(2048, args.spans_per_second * 4), schedule_delay_millis=200,
        max_export_batch_size=max(512, args.spans_per_second // 5)))
    tracer = tracer_provider.get_tracer("obs.load")
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{args.otlp}/v1/metrics", timeout=5, preferred_temporality=CUMULATIVE),
        export_interval_millis=EXPORT_INTERVAL_MS)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    started = time.monotonic()
    series = [{"series": str(i)} for i in range(args.points_per_second * EXPORT_INTERVAL_MS // 1000)]

    def observe(options: CallbackOptions):
        elapsed = int(time.monotonic() - started)
        return [Observation(elapsed, attributes) for attributes in series]

    meter_provider.get_meter("obs.load").create_observable_counter(LOAD_METRIC, callbacks=[observe])

    made, tick, carry = 0, started, 0.0
    deadline = started + args.seconds
    while not stop.is_set() and time.monotonic() < deadline:
        carry += args.spans_per_second / TICKS
        due, carry = int(carry), carry - int(carry)
        while due > 0:
            with tracer.start_as_current_span("load-root", attributes={"http.route": "/load"}):
                for _ in range(min(due, SPANS_PER_TRACE) - 1):
                    tracer.start_span("load-child").end()
            made += min(due, SPANS_PER_TRACE)
            due -= SPANS_PER_TRACE
        tick += 1 / TICKS
        stop.wait(max(0.0, tick - time.monotonic()))
    tracer_provider.shutdown()
    meter_provider.shutdown()
    print(json.dumps({"spans": made, "series": len(series), "seconds": round(time.monotonic() - started, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
