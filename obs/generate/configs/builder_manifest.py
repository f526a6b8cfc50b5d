"""The collector builder manifest: exactly the components the generated collector config uses.

Derived from the config itself rather than listed by hand, so a component added
to the config cannot be missing from the distribution and nothing unused is
compiled in (a smaller binary and attack surface). Versions come from obs/versions.py.
"""
from __future__ import annotations

from typing import Any

from obs import versions
from obs.generate.common import Inputs, yaml
from obs.generate.configs import otelcol
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model

CORE = "go.opentelemetry.io/collector"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"

# (config section, component type) -> Go module, at the version of its family.
MODULES: dict[tuple[str, str], str] = {
    ("receivers", "otlp"): f"{CORE}/receiver/otlpreceiver {versions.OTELCOL_CORE}",
    ("processors", "batch"): f"{CORE}/processor/batchprocessor {versions.OTELCOL_CORE}",
    ("processors", "memory_limiter"): f"{CORE}/processor/memorylimiterprocessor {versions.OTELCOL_CORE}",
    ("exporters", "otlp_grpc"): f"{CORE}/exporter/otlpexporter {versions.OTELCOL_CORE}",
    ("exporters", "otlp_http"): f"{CORE}/exporter/otlphttpexporter {versions.OTELCOL_CORE}",
    ("exporters", "prometheus"): f"{CONTRIB}/exporter/prometheusexporter {versions.OTELCOL_CONTRIB}",
    ("connectors", "span_metrics"): f"{CONTRIB}/connector/spanmetricsconnector {versions.OTELCOL_CONTRIB}",
    ("extensions", "health_check"): f"{CONTRIB}/extension/healthcheckextension {versions.OTELCOL_CONTRIB}",
    ("extensions", "file_storage"): f"{CONTRIB}/extension/storage/filestorage {versions.OTELCOL_CONTRIB}",
    ("extensions", "bearertokenauth"): f"{CONTRIB}/extension/bearertokenauthextension {versions.OTELCOL_CONTRIB}",
}
# The config uses ${env:...}; file: and yaml: are what `--config` and `--set` need. The builder's
# default provider list would add http(s) too, which lets a config be fetched from the network.
PROVIDERS = ("envprovider", "fileprovider", "yamlprovider")
SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")


def used_components(config: dict[str, Any]) -> dict[str, list[str]]:
    """Section -> sorted component types (the part of an ID before `/`) the config declares."""
    return {section: sorted({name.split("/")[0] for name in config.get(section, {})}) for section in SECTIONS}


def manifest(model: Model, config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"dist": {
        "name": "otelcol",
        "description": f"OpenTelemetry Collector for {model.project}, built by obs",
        "version": versions.OTELCOL_CORE.lstrip("v"),
    }}
    for section, types in used_components(config).items():
        missing = [t for t in types if (section, t) not in MODULES]
        if missing:
            raise AssertionError(f"no Go module known for collector {section} {missing}; add it to MODULES")
        out[section] = [{"gomod": MODULES[(section, t)]} for t in types]
    out["providers"] = [{"gomod": f"{CORE}/confmap/provider/{p} {versions.OTELCOL_STABLE}"} for p in PROVIDERS]
    return out


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    net = network.native(model)
    config = otelcol.config(model, net)
    if otelcol.has_gateways(model, net):
        # One distribution runs the collector and its gateways: it holds what either config uses.
        gateway = otelcol.gateway_config(model, net, 0)
        config = {s: {**config.get(s, {}), **gateway.get(s, {})} for s in SECTIONS}
    return {c.OTELCOL_MANIFEST: yaml(model, manifest(model, config))}
