"""A backend outage drill for the collector's persistent queue: a steady OTLP sender and exact counts.

Shared by tests/e2e/test_outage_durability.py and bench/outage_durability.py. The sender makes a batch
of spans (each its own trace) and one gauge sample per lane every `period`, with the OTel SDK, and
sends them to the collector; a batch the collector does not accept (it is down) is kept and sent
again, as an instrumented service's SDK would, so "accepted" is exactly what the collector took.
Every accepted item is tagged with the drill phase it was accepted in, then looked up one by one:
spans by trace id in Jaeger, samples by (lane, sequence number) among the raw samples in Prometheus.
"""
from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

import obs.verify.otlp  # noqa: F401 - keeps the SDK's export-failure log lines out of the output
from obs.generate.configs.jaeger import MAX_TRACES
from obs.verify.clients import Collector, Jaeger, Prometheus, Unreachable

PROBE_METRIC = "obs.outage.probe"        # a gauge whose value is the sample's sequence number
PROBE_SERIES = "obs_outage_probe"        # as Prometheus stores it
RUN_LABEL, LANE_LABEL = "run_id", "lane"
EXPORT_TIMEOUT_S = 2.0
# Phases, in order. Spans accepted before Jaeger stops are confirmed in Jaeger before it stops: its
# memory storage forgets them on restart. "boundary" is the second between that check and the stop;
# "restarted" is the rest of the outage after a collector crash.
PHASES = ("before", "boundary", "outage", "restarted", "after")


class _Keep(SpanProcessor):
    """Collects ended spans so the sender exports them itself and knows whether each export was accepted."""

    def __init__(self) -> None:
        self.ended: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


@dataclass
class _Batch:
    kind: str                    # "spans" | "samples"
    keys: list                   # trace ids (hex) or (lane, seq)
    data: object


class Sender:
    """Sends `spans_per_tick` spans and `lanes` gauge samples every `period`, for at most `max_seconds`."""

    def __init__(self, otlp_http: str, run_id: str, period: float, spans_per_tick: int, lanes: int,
                 max_seconds: float):
        self.run_id, self.period, self.max_seconds = run_id, period, max_seconds
        self.spans_per_tick, self.lanes = spans_per_tick, lanes
        self.service = f"obs-outage-{run_id}"
        resource = Resource.create({"service.name": self.service})
        self._spans = _Keep()
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(self._spans)
        self._tracer = provider.get_tracer("obs.outage")
        self._reader = InMemoryMetricReader()
        meter = MeterProvider(resource=resource, metric_readers=[self._reader]).get_meter("obs.outage")
        meter.create_observable_gauge(PROBE_METRIC, callbacks=[self._observe])
        self._span_exporter = OTLPSpanExporter(endpoint=f"{otlp_http}/v1/traces", timeout=EXPORT_TIMEOUT_S)
        self._metric_exporter = OTLPMetricExporter(endpoint=f"{otlp_http}/v1/metrics", timeout=EXPORT_TIMEOUT_S)
        self._lock = threading.Lock()
        self._phase = PHASES[0]
        self._seq = 0
        self._backlog: deque[_Batch] = deque()
        self._stop = threading.Event()
        self._go, self._idle = threading.Event(), threading.Event()
        self._go.set()
        self._thread = threading.Thread(target=self._run, name="outage-sender", daemon=True)
        self.spans: dict[str, str] = {}               # trace id -> phase it was accepted in
        self.samples: dict[tuple[int, int], str] = {}  # (lane, seq) -> phase
        self.made_spans = self.made_samples = self.refused_exports = 0
        self.started = self.stopped = 0.0

    # -- phases -------------------------------------------------------------------

    def enter(self, phase: str) -> None:
        with self._lock:
            self._phase = phase

    def accepted(self, kind: str, phases: tuple[str, ...] = PHASES) -> set:
        with self._lock:
            items = self.spans if kind == "spans" else self.samples
            return {k for k, p in items.items() if p in phases}

    # -- sending ------------------------------------------------------------------

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def stop(self, drain_seconds: float = 30.0) -> None:
        """Stop making data, then keep sending what the collector has not taken yet for `drain_seconds`."""
        self._stop.set()
        self._go.set()          # a paused sender must see the stop
        self._thread.join(self.max_seconds + drain_seconds + 10)
        deadline = time.monotonic() + drain_seconds
        while self._backlog and time.monotonic() < deadline and not self._flush():
            time.sleep(0.2)

    def pause(self) -> None:
        """Returns once the sender is between ticks, with no export in flight."""
        self._idle.clear()
        self._go.clear()
        self._idle.wait(EXPORT_TIMEOUT_S * 4 + self.period)

    def resume(self) -> None:
        self._go.set()

    def send_one(self, attempts: int = 50) -> bool:
        """Without the thread: make one tick and send it, retrying a collector that refuses for a moment."""
        self._make()
        for _ in range(attempts):
            if self._flush():
                return True
            time.sleep(0.1)
        return False

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def _observe(self, options: CallbackOptions):
        return [Observation(self._seq, {RUN_LABEL: self.run_id, LANE_LABEL: str(lane)})
                for lane in range(self.lanes)]

    def _make(self) -> None:
        self._seq += 1
        for i in range(self.spans_per_tick):
            span = self._tracer.start_span("outage-probe", attributes={"probe.seq": self._seq, "probe.index": i})
            span.end()
        ended, self._spans.ended = self._spans.ended, []
        self._backlog.append(_Batch("spans", [f"{s.context.trace_id:032x}" for s in ended], ended))
        self._backlog.append(_Batch("samples", [(lane, self._seq) for lane in range(self.lanes)],
                                    self._reader.get_metrics_data()))
        self.made_spans += len(ended)
        self.made_samples += self.lanes

    def _send(self, batch: _Batch) -> bool:
        if batch.kind == "spans":
            return self._span_exporter.export(batch.data) == SpanExportResult.SUCCESS
        return self._metric_exporter.export(batch.data) == MetricExportResult.SUCCESS

    def _flush(self) -> bool:
        """Send the backlog oldest first; stop at the first batch the collector does not take. True when empty."""
        while self._backlog:
            batch = self._backlog[0]
            if not self._send(batch):
                self.refused_exports += 1
                return False
            self._backlog.popleft()
            with self._lock:
                target = self.spans if batch.kind == "spans" else self.samples
                target.update(dict.fromkeys(batch.keys, self._phase))
        return True

    def _run(self) -> None:
        deadline = self.started + self.max_seconds
        tick = self.started
        while not self._stop.is_set() and time.monotonic() < deadline:
            if not self._go.is_set():
                self._idle.set()
                self._go.wait(deadline - time.monotonic())
                tick = time.monotonic()
                continue
            self._make()
            self._flush()
            tick += self.period
            self._stop.wait(max(0.0, tick - time.monotonic()))
        self.stopped = time.monotonic()


# -- counting -------------------------------------------------------------------


def _hex_id(raw: str) -> str:
    if len(raw) == 32:
        try:
            int(raw, 16)
            return raw.lower()
        except ValueError:
            pass
    try:
        return base64.b64decode(raw).hex()
    except (binascii.Error, ValueError):
        return raw


def traces_in_jaeger(jaeger_url: str, service: str, since_wall: float) -> set[str]:
    """Trace ids of `service` that Jaeger holds, from one search over the whole run.

    The limit is all Jaeger can hold: a smaller one returns the newest traces, so while the sender is
    still going the oldest would drop out of the answer.
    """
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    params = {"query.service_name": service, "query.num_traces": str(MAX_TRACES),
              "query.start_time_min": time.strftime(fmt, time.gmtime(since_wall - 60)),
              "query.start_time_max": time.strftime(fmt, time.gmtime(time.time() + 60))}
    status, doc = Jaeger(jaeger_url, timeout=30).get_json("/api/v3/traces", **params)
    if status != 200 or not isinstance(doc, dict):
        return set()
    return {_hex_id(span["traceId"])
            for rs in (doc.get("result") or {}).get("resourceSpans") or []
            for ss in rs.get("scopeSpans") or [] for span in ss.get("spans") or []}


def spans_found(jaeger_url: str, service: str, since_wall: float, wanted: set[str]) -> set[str]:
    """Exact: the search, then each trace id the search did not return, asked for by id."""
    try:
        found = traces_in_jaeger(jaeger_url, service, since_wall) & wanted
        jaeger = Jaeger(jaeger_url)
        return found | {t for t in wanted - found if jaeger.has_trace(t)}
    except Unreachable:
        return set()


def samples_found(prometheus_url: str, run_id: str, window_s: int) -> set[tuple[int, int]]:
    """Every raw sample of the run's probe series: (lane, sequence number)."""
    query = f'{PROBE_SERIES}{{{RUN_LABEL}="{run_id}"}}[{window_s}s]'
    try:
        result = Prometheus(prometheus_url, timeout=30)._data("/api/v1/query", query=query)["result"]
    except Exception:  # unreachable or not ready yet: nothing found this time
        return set()
    return {(int(series["metric"][LANE_LABEL]), int(float(value)))
            for series in result for _, value in series["values"]}


def queue_sizes(collector_health: str, collector_metrics: str) -> dict[str, float]:
    """otelcol_exporter_queue_size by exporter; empty when the collector does not answer."""
    try:
        snapshot = Collector(collector_health, collector_metrics).self_metrics()
    except Unreachable:
        return {}
    return {dict(labels).get("exporter", ""): value for (name, labels), value in snapshot.items()
            if name == "otelcol_exporter_queue_size"}


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Tally:
    """One signal's counts: accepted by the collector, found in the backend, per phase."""
    accepted: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)

    @property
    def lost(self) -> dict[str, int]:
        return {p: self.accepted[p] - self.found.get(p, 0) for p in self.accepted}

    def line(self, phases: tuple[str, ...]) -> str:
        return ", ".join(f"{p} {self.found.get(p, 0)}/{self.accepted.get(p, 0)}" for p in phases)


def tally(accepted: dict, found: set) -> Tally:
    t = Tally()
    for key, phase in accepted.items():
        t.accepted[phase] = t.accepted.get(phase, 0) + 1
        if key in found:
            t.found[phase] = t.found.get(phase, 0) + 1
    return t
