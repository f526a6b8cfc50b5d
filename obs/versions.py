"""The one version table: native builds and compose images are pinned here and nowhere else.

Go module versions are what `obs stack build` fetches from the Go module proxy;
image tags are what the generated docker-compose.yml pins. They describe the
same upstream releases, so a native stack and a compose stack behave alike.
"""
from __future__ import annotations

from dataclasses import dataclass

# Collector: core (unstable) modules, stable core modules, contrib modules.
OTELCOL_CORE = "v0.165.0"
OTELCOL_STABLE = "v1.71.0"
OTELCOL_CONTRIB = "v0.165.1"
OTELCOL_BUILDER = OTELCOL_CORE

# jaeger v1.76.0 is the same tree as the v2.13.0 release; the module path has no /v2.
JAEGER_MODULE = "v1.76.0"
JAEGER_RELEASE = "2.13.0"

# Prometheus v3 releases are published to the module proxy as v0.3XX.Y.
PROMETHEUS_MODULE = "v0.316.0"
PROMETHEUS_RELEASE = "3.16.0"

ALERTMANAGER = "v0.35.0"
SLOTH = "v0.16.0"
GRAFANA_RELEASE = "12.3.0"

# The validators of the Kubernetes artifacts (deploy/kubernetes, deploy/rulers). Each is the newest version the
# proxy serves whose go.mod the pinned toolchain (Go 1.26.8) accepts: kustomize v5.8.3 asks for Go 1.27, Thanos
# v0.42.5 for 1.26.10, and the proxy refuses OpenTelemetry Operator releases after v0.148.0.
KUSTOMIZE = "v5.8.2"
THANOS = "v0.42.4"
CORTEX_TOOLS = "v0.11.3"
# kubecheck decodes into the operators' own Go types; every k8s.io module is held at one release (the one the
# prometheus-operator types require), so the apiserver's validation code is the release's.
PROMETHEUS_OPERATOR = "v0.95.2"
OPENTELEMETRY_OPERATOR = "v0.148.0"
KUBERNETES_LIBS = "v0.37.2"
# Generates prometheus-operator's CRD schemas from its Go types (the proxy serves no artifact of v0.95.2 that
# carries them): the newest release before v0.95.2, and one built against the same Kubernetes minor.
CONTROLLER_TOOLS = "v0.23.0"


@dataclass(frozen=True)
class Image:
    name: str
    tag: str

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"


IMAGES = {
    "otelcol": Image("otel/opentelemetry-collector-contrib", OTELCOL_CORE.lstrip("v")),
    "jaeger": Image("jaegertracing/jaeger", JAEGER_RELEASE),
    "prometheus": Image("prom/prometheus", "v" + PROMETHEUS_RELEASE),
    "alertmanager": Image("prom/alertmanager", ALERTMANAGER),
    "grafana": Image("grafana/grafana", GRAFANA_RELEASE),
    "thanos": Image("quay.io/thanos/thanos", THANOS),
}
