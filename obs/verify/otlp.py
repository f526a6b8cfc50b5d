"""OTLP senders built on the OpenTelemetry SDK, pointed at the collector, remembering what the collector said.

The SDK logs export failures and returns a bare FAILURE; verify needs the status and
body (a 503 from the memory limiter reads differently from a refused connection), so
the exporter gets a requests session that records its last attempt, and the SDK's
own log lines are kept out of the user's terminal.
"""
from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableCounter, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from obs.model.environments import EndpointKind
from obs.verify.connection import LOCAL, Session, Settings, describe_error
from obs.verify.endpoints import Endpoints

# The SDK reports export failures through logging; verify reports them itself, with a diagnosis.
logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)

# Prometheus's OTLP receiver accepts only cumulative sums and histograms.
CUMULATIVE: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.CUMULATIVE, UpDownCounter: AggregationTemporality.CUMULATIVE,
    Histogram: AggregationTemporality.CUMULATIVE, ObservableCounter: AggregationTemporality.CUMULATIVE}


@dataclass
class Attempt:
    status: int | None              # None: no HTTP answer at all
    detail: str                     # response body, or why the connection failed

    def describe(self) -> str:
        if self.status is None:
            return self.detail
        return f"HTTP {self.status}" + (f": {self.detail}" if self.detail else "")


class RecordingSession(Session):
    """Remembers the last answer (or connection failure) the collector gave the exporter."""

    def __init__(self, settings: Settings = LOCAL) -> None:
        super().__init__()
        self.last: Attempt | None = None
        settings.session(self)
        # The exporter passes its own `verify` on every request, which would override the session's.
        self.forced_verify = settings.verify if settings.insecure else None

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if self.forced_verify is not None:
            kwargs["verify"] = self.forced_verify
        try:
            response = super().request(*args, **kwargs)
        except requests.RequestException as e:
            self.last = Attempt(None, describe_error(e))
            raise
        self.last = Attempt(response.status_code, _body(response) if response.status_code >= 300 else "")
        return response


def _body(response: requests.Response) -> str:
    """An OTLP/HTTP error body is a protobuf google.rpc.Status; anything else is shown as text."""
    if "protobuf" in response.headers.get("Content-Type", ""):
        status = status_pb2.Status()
        try:
            status.ParseFromString(response.content)
            message: str = status.message   # googleapis-common-protos ships stubs but no py.typed marker
            return message[:300]
        except DecodeError:
            pass
    return response.text.strip().replace("\n", " ")[:300]


class _Remembering(SpanExporter):
    """Passes spans to the OTLP exporter and keeps the result the SDK would otherwise only log."""

    def __init__(self, inner: SpanExporter):
        self.inner = inner
        self.result: SpanExportResult | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.result = self.inner.export(spans)
        return self.result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def resource(service: str, instance: str | None = None, **attrs: str) -> Resource:
    # A distinct instance id keeps each sender's cumulative series apart from the service's real ones.
    return Resource.create({"service.name": service,
                            "service.instance.id": instance or f"obs-{uuid.uuid4().hex[:12]}", **attrs})


@dataclass
class Traces:
    provider: TracerProvider
    exporter: _Remembering
    session: RecordingSession

    @property
    def ok(self) -> bool:
        return self.exporter.result == SpanExportResult.SUCCESS

    def close(self) -> None:
        self.provider.shutdown()


def traces(ep: Endpoints, res: Resource, timeout: float) -> Traces:
    session = RecordingSession(ep.settings_for(EndpointKind.OTLP_HTTP))
    exporter = _Remembering(OTLPSpanExporter(endpoint=f"{ep.otlp_http}/v1/traces", headers=ep.otlp_headers,
                                             certificate_file=ep.otlp_ca_file, timeout=timeout, session=session))
    provider = TracerProvider(resource=res)
    # Exported as each span ends, so the probe knows the collector's answer before it starts looking.
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Traces(provider, exporter, session)


@dataclass
class Metrics:
    provider: MeterProvider
    reader: PeriodicExportingMetricReader
    session: RecordingSession

    def push(self) -> bool:
        """Export now; True when the collector accepted the data."""
        self.session.last = None
        ok = self.reader.force_flush()
        last = self.session.last
        return bool(ok) and last is not None and last.status is not None and last.status < 300

    def close(self) -> None:
        self.provider.shutdown()


def metrics(ep: Endpoints, res: Resource, timeout: float, views: Sequence[View] = ()) -> Metrics:
    session = RecordingSession(ep.settings_for(EndpointKind.OTLP_HTTP))
    exporter = OTLPMetricExporter(endpoint=f"{ep.otlp_http}/v1/metrics", headers=ep.otlp_headers,
                                  certificate_file=ep.otlp_ca_file, timeout=timeout, session=session,
                                  preferred_temporality=CUMULATIVE)
    # An infinite interval starts no export thread: data leaves only when push() says so.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=math.inf)
    provider = MeterProvider(metric_readers=[reader], resource=res, views=list(views))
    return Metrics(provider, reader, session)
