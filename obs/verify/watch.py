"""`obs verify --watch`: probe forever and expose the results for Prometheus to scrape and the rules to alert on.

Gauges (names in conventions; scraped as job obs-verify on verify_metrics):
  obs_verify_probe_success{probe}              1 or 0 per probe kind (trace, metric, alert)
  obs_verify_hop_latency_seconds{probe,hop}    last measured latency of each hop
  obs_verify_hop_floor_seconds{probe,hop}      the floor the configuration sets for that hop
  obs_verify_last_run_timestamp_seconds        when the last round finished
A hop the probe never got past has no latency sample in that round: success says it failed.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from obs.errors import StackError
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.floors import floors
from obs.verify import runner
from obs.verify.context import Progress
from obs.verify.endpoints import endpoints
from obs.verify.result import Report
from obs.verify.sink import Sink

KINDS = c.VERIFY_PROBE_KINDS


def default_interval(model: Model) -> float:
    """Often enough to alert within minutes, rarely enough that probes are a trickle next to real traffic."""
    return max(5.0, 2 * floors(model).verify())


class Exporter:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        kind, hop = c.VERIFY_PROBE_KIND_LABEL, c.VERIFY_HOP_LABEL
        self.success = Gauge(c.VERIFY_PROBE_SUCCESS, "1 when the probe arrived end to end in the last round.",
                             [kind], registry=self.registry)
        self.latency = Gauge(c.VERIFY_HOP_LATENCY, "Seconds the probe spent in this hop in the last round.",
                             [kind, hop], registry=self.registry)
        self.floor = Gauge(c.VERIFY_HOP_FLOOR, "Least seconds the configuration allows for this hop.",
                           [kind, hop], registry=self.registry)
        self.last_run = Gauge(c.VERIFY_LAST_RUN_TIMESTAMP, "Unix time the last verify round finished.",
                              registry=self.registry)

    def record(self, report: Report | None) -> None:
        by_name = {r.name: r for r in report.results} if report else {}
        for kind in KINDS:
            result = by_name.get(kind)
            self.success.labels(kind).set(1 if result is not None and result.ok else 0)
            if result is None:
                continue
            for h in result.hops:
                self.floor.labels(kind, h.id).set(h.floor)
                if h.seconds is None:
                    try:
                        self.latency.remove(kind, h.id)
                    except KeyError:
                        pass
                else:
                    self.latency.labels(kind, h.id).set(h.seconds)
        self.last_run.set(time.time())


def watch(model: Model, out: Path, interval: float, progress: Progress,
          on_round: Callable[[Report | None, str | None], None], stop: threading.Event | None = None,
          budget: float | None = None) -> None:
    """Runs rounds until `stop` is set (or forever); the metrics server and the sink live as long as it does."""
    stop = stop or threading.Event()
    ep = endpoints(model, out)
    exporter = Exporter()
    try:
        server, _thread = start_http_server(ep.verify_metrics_port, addr=ep.sink_host, registry=exporter.registry)
    except OSError as e:
        raise StackError(f"cannot serve verify metrics on {ep.sink_host}:{ep.verify_metrics_port}: {e.strerror}; "
                         "is another `obs verify --watch` running?") from None
    sink = Sink(ep.sink_host, ep.sink_port).start()
    options = runner.Options(only=KINDS, watching=True, budget=budget)
    try:
        while not stop.is_set():
            started = time.monotonic()
            report, error = None, None
            try:
                report = runner.run(model, out, options, progress, sink=sink)
            except StackError as e:
                error = str(e)
            exporter.record(report)
            on_round(report, error)
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    finally:
        sink.stop()
        server.shutdown()
        server.server_close()
