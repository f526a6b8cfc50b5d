"""Jaeger v2 (v2.13, an OpenTelemetry Collector distribution): OTLP gRPC in, memory storage, query API.

Jaeger receives only from our collector, on its own port (`jaeger_otlp_grpc`), never
4317/4318, which are the collector's. It has no batch processor: the collector already
batched, and a second batch would add its timeout to every trace's floor.
"""
from __future__ import annotations

from typing import Any

from obs.generate.common import Inputs, yaml
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model

STORE = "obs_memory"
MAX_TRACES = 100_000
HEALTH_PATH = "/status"


def config(model: Model, net: network.Net) -> dict[str, Any]:
    p = model.stack.ports
    return {
        "extensions": {
            "jaeger_storage": {"backends": {STORE: {"memory": {"max_traces": MAX_TRACES}}}},
            "jaeger_query": {
                "storage": {"traces": STORE},
                # Off: it would trace itself through the OTel SDK's default exporter.
                "enable_tracing": False,
                "http": {"endpoint": net.bind(p["jaeger_query"])},
                # The query gRPC API cannot be turned off; nothing of ours uses it, but it must bind our address.
                "grpc": {"endpoint": net.bind(p["jaeger_query_grpc"])},
            },
            # use_v2 without a `grpc:` key serves only HTTP, on our port.
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": net.bind(p["jaeger_health"]),
                                                        "status": {"enabled": True, "path": HEALTH_PATH}}},
        },
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": net.bind(p["jaeger_otlp_grpc"])}}}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": STORE}},
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": [],
                                     "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "logs": {"level": "info"},
                "metrics": {"level": "normal", "readers": [{"pull": {"exporter": {"prometheus": {
                    "host": net.listen, "port": p["jaeger_metrics"]}}}}]},
            },
        },
    }


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return {c.JAEGER_CONFIG: yaml(model, config(model, network.native(model)))}
