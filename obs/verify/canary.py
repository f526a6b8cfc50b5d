"""A drill's canary: one instance of a spec service, sending real OTLP through the SDK like an instrumented one.

It runs in a namespace of its own, `obs-drill-<id>`, so its job is `obs-drill-<id>/<service>`: the service's
SLOs count its requests (they select by service_name), while the per-job incident pages (silent, no traffic)
name this canary, never the real deployment or another drill's canary, and the silence a drill leaves for its
retired canary cannot hide any other page.
Data leaves only when `push()` is called, at the SDK export interval the drill keeps, as a real SDK would.
"""
from __future__ import annotations

import uuid

from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)

from obs.model import conventions as c
from obs.model.domain import SLO, Histogram, Service
from obs.model.kinds import SliKind
from obs.verify import otlp, traffic
from obs.verify.context import Context

GOOD = "good"
FAILING = "failing"           # 5xx for availability, slower than the threshold for latency, the error selector


class Canary:
    def __init__(self, ctx: Context, service: Service, slo: SLO | None = None):
        self.service, self.slo = service, slo
        self.instance = f"{c.DRILL_NAMESPACE}-{uuid.uuid4().hex[:8]}"
        res = otlp.resource(service.name, self.instance, **{"service.namespace": self.instance,
                                                            "obs.synthetic": "drill"})
        aggregation = (ExponentialBucketHistogramAggregation() if service.histogram is Histogram.NATIVE else
                       ExplicitBucketHistogramAggregation(boundaries=service.latency_buckets))
        self.sender = otlp.metrics(ctx.ep, res, ctx.export_timeout,
                                   [View(instrument_name=traffic.HTTP_METRIC, aggregation=aggregation)])
        self.meter = self.sender.provider.get_meter("obs.drill")
        self.hist = self.meter.create_histogram(traffic.HTTP_METRIC, unit="s")
        self.counters: dict[str, object] = {}
        self.sent = {GOOD: 0, FAILING: 0}
        self.closed = False

    @property
    def job(self) -> str:
        return f"{self.instance}/{self.service.name}"

    def record(self, n: int, how: str = GOOD) -> None:
        """n requests, all good or all failing the SLO's SLI (good ones when there is no SLO)."""
        if n <= 0:
            return
        self.sent[how] += n
        kind = self.slo.sli.kind if self.slo else SliKind.AVAILABILITY
        if kind == SliKind.EVENTS and self.slo is not None:
            self._events(n if how == FAILING else 0, n)
            return
        fast = self.service.latency_buckets[0] / 2
        threshold = self.slo.sli.threshold.s if self.slo and self.slo.sli.threshold else 0.0
        slow = how == FAILING and kind == SliKind.LATENCY
        attrs = {"http.request.method": "GET", "http.route": "/drill",
                 "http.response.status_code": 500 if how == FAILING and kind == SliKind.AVAILABILITY else 200}
        for _ in range(n):
            self.hist.record(threshold * 2 if slow else fast, attrs)

    def _events(self, bad: int, total: int) -> None:
        assert self.slo is not None
        for query, n in ((self.slo.sli.error_query, bad), (self.slo.sli.total_query, total - bad)):
            for sel in traffic.selectors(query or ""):
                kind, name = traffic.otlp_name(sel.metric)
                if kind != "counter":
                    continue
                counter = self.counters.setdefault(name, self.meter.create_counter(name))
                counter.add(n, sel.labels)  # type: ignore[attr-defined]

    def push(self) -> bool:
        """Export now (cumulative: an idle canary still reports its counts, as an idle service does)."""
        return not self.closed and self.sender.push()

    def describe_failure(self) -> str:
        last = self.sender.session.last
        return last.describe() if last else "no answer"

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sender.close()
