"""--traffic: realistic OTLP traffic for every declared service, so a fresh stack can be verified fully.

Per service: server spans, the semconv histogram http.server.request.duration with
the service's own bucket boundaries (through an SDK View), and the counters its
events SLIs select, read off the PromQL with promql_parser. Every sender has its
own service.instance.id, so its cumulative series never collide with the real
service's. Loopback scrape targets nobody serves get a synthetic /metrics page.
Nothing sent here is an error, so no burn-rate alert can page on it.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import promql_parser
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from obs.model import conventions as c
from obs.model.domain import Histogram, Service
from obs.model.floors import traffic_every
from obs.model.kinds import SliKind
from obs.model.windows import BASE_WINDOW
from obs.stack.ports import is_free
from obs.verify import otlp
from obs.verify.context import Context

HTTP_METRIC = "http.server.request.duration"
ROUTES = ("/", "/api/items", "/api/search")
REQUESTS = 20               # per service and round: above the SLOs' minimum-traffic guard of 5 per 5m
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Selector:
    metric: str
    labels: dict[str, str]


def selectors(query: str) -> list[Selector]:
    """Every vector selector in a PromQL query, with the literal labels it demands (service_name aside)."""
    found: list[Selector] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            labels = {}
            for m in node.matchers.matchers:
                if m.name == c.SERVICE_NAME_LABEL:
                    continue
                if m.op == promql_parser.MatchOp.Equal:
                    labels[m.name] = m.value
                elif m.op == promql_parser.MatchOp.Re:
                    # The first alternative of a plain alternation satisfies the regex.
                    first = m.value.split("|")[0]
                    if first and not any(ch in first for ch in ".*+?[](){}\\^$"):
                        labels[m.name] = first
            found.append(Selector(node.name, labels))

    promql_parser.walk(promql_parser.parse(query.replace("{{window}}", str(BASE_WINDOW))), visit)
    return found


def otlp_name(prom_name: str) -> tuple[str, str]:
    """(instrument kind, OTLP name) that Prometheus stores under `prom_name` (UnderscoreEscapingWithSuffixes)."""
    if prom_name.endswith("_total"):
        return "counter", prom_name[: -len("_total")]
    for suffix in ("_bucket", "_count", "_sum"):
        if prom_name.endswith(suffix):
            return "histogram", prom_name[: -len(suffix)]
    return "gauge", prom_name


@dataclass
class Traffic:
    services: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)         # service -> what the collector said
    servers: list[object] = field(default_factory=list)           # synthetic scrape targets, to shut down
    thread: threading.Thread | None = None

    def stop(self) -> None:
        """Call after setting ctx.stop: waits for the last round, then closes the synthetic targets."""
        if self.thread is not None:
            self.thread.join()
        for server in self.servers:
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]
        self.servers.clear()


def _server_attrs(service: Service, route: str) -> dict[str, Any]:
    return {"http.request.method": "GET", "http.route": route, "http.response.status_code": 200,
            "url.path": route} if service.http else {"obs.synthetic": True}


def _spans(sender: otlp.Traces, service: Service, rng: random.Random,
           callees: Sequence[tuple[Service, otlp.Traces]] = ()) -> None:
    """A round of requests: a server span each, with an internal span under it; a service that `calls` others
    makes a client span per callee, under which the callee (its own provider: its own service.name) serves
    the request, so Jaeger's service graph has the declared edge and every child its parent."""
    tracer = sender.provider.get_tracer("obs.verify.traffic")
    for i in range(REQUESTS):
        route = ROUTES[i % len(ROUTES)]
        with tracer.start_as_current_span(f"GET {route}" if service.http else f"{service.name} operation",
                                          kind=SpanKind.SERVER, attributes=_server_attrs(service, route)):
            with tracer.start_as_current_span("work", kind=SpanKind.INTERNAL):
                pass
            for callee, callee_sender in callees:
                with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT,
                                                  attributes={"http.request.method": "GET",
                                                              "server.address": callee.name}):
                    # The callee's span is a child of the client span, as W3C tracecontext would carry it.
                    callee_tracer = callee_sender.provider.get_tracer("obs.verify.traffic")
                    with callee_tracer.start_as_current_span(
                            f"GET {route}" if callee.http else f"{callee.name} operation", kind=SpanKind.SERVER,
                            attributes=_server_attrs(callee, route)):
                        pass


def _record(meter_provider: MeterProvider, service: Service, rng: random.Random) -> bool:
    """Records this round's metrics; False when the service has none to send (spanmetrics covers it)."""
    meter = meter_provider.get_meter("obs.verify.traffic")
    if service.http:
        hist = meter.create_histogram(HTTP_METRIC, unit="s", description="Duration of HTTP server requests.")
        fastest = service.latency_buckets[0]
        for i in range(REQUESTS):
            route = ROUTES[i % len(ROUTES)]
            hist.record(fastest * rng.uniform(0.2, 0.9), {"http.request.method": "GET", "http.route": route,
                                                         "http.response.status_code": 200})
    instruments: dict[str, object] = {}
    for slo in service.slos:
        if slo.sli.kind != SliKind.EVENTS:
            continue
        for query, value in ((slo.sli.total_query, REQUESTS), (slo.sli.error_query, 0)):
            for sel in selectors(query or ""):
                kind, name = otlp_name(sel.metric)
                key = f"{kind}:{name}"
                if key not in instruments:
                    instruments[key] = (meter.create_counter(name) if kind == "counter" else
                                        meter.create_histogram(name) if kind == "histogram"
                                        else meter.create_gauge(name))
                inst = instruments[key]
                # Error selectors get a zero: the series exists, so the error rate reads 0, not "no data".
                if kind == "counter":
                    inst.add(value, sel.labels)  # type: ignore[attr-defined]
                elif kind == "histogram":
                    for _ in range(value):
                        inst.record(0.01, sel.labels)  # type: ignore[attr-defined]
                else:
                    inst.set(value, sel.labels)  # type: ignore[attr-defined]
    return service.http or bool(instruments)


def _synthetic_targets(ctx: Context, traffic: Traffic) -> None:
    for service in ctx.model.services:
        for st in service.scrape:
            for address in st.targets:
                host, _, port = address.rpartition(":")
                if host not in LOOPBACK or not is_free(host.strip("[]"), int(port)):
                    continue
                registry = CollectorRegistry()
                Gauge("obs_verify_synthetic_target", "A stand-in for a scrape target nothing serves yet.",
                      ["service"], registry=registry).labels(service.name).set(1)
                server, _thread = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
                traffic.servers.append(server)


class _Sender:
    """One declared service's SDK providers, exporting a round of requests whenever asked."""

    def __init__(self, ctx: Context, service: Service):
        self.service = service
        res = otlp.resource(service.name, f"obs-traffic-{service.name}", **{"obs.synthetic": "true"})
        # As `obs env` sets the SDK up: exponential for native services (read at any threshold), else the buckets.
        aggregation = (ExponentialBucketHistogramAggregation() if service.histogram is Histogram.NATIVE else
                       ExplicitBucketHistogramAggregation(boundaries=service.latency_buckets))
        views = [View(instrument_name=HTTP_METRIC, aggregation=aggregation)]
        self.spans = otlp.traces(ctx.ep, res, ctx.export_timeout)
        self.metrics = otlp.metrics(ctx.ep, res, ctx.export_timeout, views)
        self.rng = random.Random(service.name)

    def round(self, callees: Sequence[_Sender] = ()) -> str | None:
        """None when the collector accepted the round, else what it said."""
        _spans(self.spans, self.service, self.rng, [(x.service, x.spans) for x in callees])
        self.spans.provider.force_flush()
        has_metrics = _record(self.metrics.provider, self.service, self.rng)
        if self.spans.ok and (not has_metrics or self.metrics.push()):
            return None
        last = self.metrics.session.last or self.spans.session.last
        return last.describe() if last else "no answer"

    def close(self) -> None:
        self.spans.close()
        self.metrics.close()


def start(ctx: Context) -> Traffic:
    """Every service sends a round now and then one per SDK export interval (at most 5 s apart) until
    ctx.stop: rate() needs two samples, and dashboards' short rate windows need fresh ones."""
    traffic = Traffic()
    _synthetic_targets(ctx, traffic)
    senders = [_Sender(ctx, s) for s in ctx.model.services if s.otlp]
    by_name = {s.service.name: s for s in senders}
    callees = {s.service.name: [by_name[n] for n in s.service.calls if n in by_name] for s in senders}
    ctx.progress("traffic", f"sending synthetic traffic as {', '.join(s.service.name for s in senders)}")

    def rounds() -> None:
        try:
            while True:
                for sender in senders:
                    why = sender.round(callees[sender.service.name])
                    if why is None:
                        traffic.services.add(sender.service.name)
                    else:
                        traffic.failed[sender.service.name] = why
                if ctx.stop.wait(traffic_every(ctx.model.stack.timing)):
                    return
        finally:
            for sender in senders:
                sender.close()

    traffic.thread = threading.Thread(target=rounds, name="obs-verify-traffic", daemon=True)
    traffic.thread.start()
    return traffic
