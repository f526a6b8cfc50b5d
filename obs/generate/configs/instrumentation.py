"""Per-service OpenTelemetry SDK settings: what `obs env SERVICE` prints and deploy/instrumentation/ holds.

Zero-code instrumentation (Node.js `--require @opentelemetry/auto-instrumentations-node/register`, Python
`opentelemetry-instrument`) is configured only by `OTEL_*` variables, and the generated rules and
dashboards depend on several of them. Each one here says why:
- identity: the service's name, and project, environment and team as resource attributes;
- transport: OTLP over HTTP/protobuf to the collector's HTTP receiver for every SDK (the Python distro
  defaults to gRPC on 4317, Node.js to HTTP on 4318: one protocol for both is one thing to debug);
- signals: traces and metrics on, logs off (the generated pipeline has no logs pipeline);
- timing: span batch delay and metric export interval from the profile, so the SLI and dashboard rate
  windows always hold several exports (the SDK default of 60 s leaves a 4 s window empty);
- the stable HTTP semantic conventions (`http.server.request.duration` in seconds), which the SLIs read;
- cumulative temporality, which Prometheus's OTLP receiver stores without re-aggregation;
- base-2 exponential histograms for native services (Prometheus native histograms: any latency threshold),
  explicit buckets for classic ones.
No secret is ever written: a required bearer token becomes a note naming where it is kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

from obs.generate.common import Inputs, Later, every_service, header
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Histogram, Model, Service
from obs.model.kubernetes import CollectorMode

LOCAL_ENVIRONMENT = "local"
AGGREGATION = {Histogram.NATIVE: "base2_exponential_bucket_histogram",
               Histogram.CLASSIC: "explicit_bucket_histogram"}


@dataclass(frozen=True)
class Settings:
    service: str
    env: dict[str, str]
    notes: tuple[str, ...]


def _attribute(value: str) -> str:
    """A resource attribute value as OTEL_RESOURCE_ATTRIBUTES takes it: percent-encoded, never whitespace."""
    return quote(value, safe="-._~:/@")


def _endpoint(model: Model, runtime: str) -> str:
    st = model.stack
    scheme = "https" if st.receivers_tls else "http"
    host = ("otelcol" if runtime == "compose" else kube_collector_host(model) if runtime == "kubernetes"
            else network.reach(st.receivers_bind))
    return f"{scheme}://{network.host_port(host, st.ports['otlp_http'])}"


def kube_collector_host(model: Model) -> str:
    """The collector Service pods send to, from any namespace: the node's agent in daemonset mode (its Service keeps
    traffic on the node), else the gateway."""
    k = model.kubernetes
    role = "agent" if k.collector_mode is CollectorMode.DAEMONSET else "gateway"
    return f"{k.name_prefix}{c.kube_collector_name(model.project, role)}-collector.{k.namespace}"


def settings(model: Model, service: Service, runtime: str = "native",
             environment: str = LOCAL_ENVIRONMENT) -> Settings:
    t = model.stack.timing
    attributes = {"service.namespace": model.project, "deployment.environment.name": environment}
    if service.team:
        attributes["team"] = service.team
    env = {
        "OTEL_SERVICE_NAME": service.name,
        "OTEL_RESOURCE_ATTRIBUTES": ",".join(f"{k}={_attribute(v)}" for k, v in attributes.items()),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": _endpoint(model, runtime),
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        "OTEL_BSP_SCHEDULE_DELAY": str(t.sdk_span_delay.ms),
        "OTEL_METRIC_EXPORT_INTERVAL": str(t.sdk_metric_interval.ms),
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
        "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": AGGREGATION[service.histogram],
    }
    notes = []
    tls = model.stack.receivers_tls
    if tls is not None:
        env["OTEL_EXPORTER_OTLP_CERTIFICATE"] = tls.cert_file
        notes.append(f"the collector serves TLS: OTEL_EXPORTER_OTLP_CERTIFICATE trusts {tls.cert_file}; give the "
                     "CA that signed it instead if it is not self-signed")
        if tls.client_ca_file:
            notes.append("the collector requires client certificates: set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE "
                         f"and OTEL_EXPORTER_OTLP_CLIENT_KEY to a pair signed by {tls.client_ca_file}")
    bearer = model.stack.receivers_bearer
    if bearer is not None:
        where = f"the file {bearer.file}" if bearer.file else f"${bearer.env}"
        notes.append(f"the collector requires a bearer token, kept in {where}: give the service "
                     "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token> from your secret store; obs never "
                     "writes the token")
    if service.histogram is Histogram.NATIVE:
        notes.append("the Node.js SDK (sdk-node 0.223) ignores the histogram aggregation setting and sends explicit "
                     "buckets; the SLIs read both forms, and a latency threshold off the default buckets then needs "
                     "a View in code")
    return Settings(service.name, env, tuple(notes))


def dotenv(model: Model, s: Settings, runtime: str) -> str:
    """KEY=VALUE lines, for compose's env_file and `env $(cat FILE) node app.js` alike (no quotes, no spaces)."""
    how = ("docker-compose.override.yml: `env_file: [" + c.instrumentation_file(s.service, "compose") + "]`"
           if runtime == "compose" else f"env $(grep -v '^#' {c.instrumentation_file(s.service)}) <your command>")
    lines = [f"# {header(model)}", f"# OpenTelemetry SDK settings for {s.service} ({runtime}): {how}"]
    lines += [f"# note: {n}" for n in s.notes]
    lines += [f"{k}={v}" for k, v in s.env.items()]
    return "\n".join(lines) + "\n"


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    return {}


def _text(model: Model, service: Service, runtime: str) -> str:
    return dotenv(model, settings(model, service, runtime), runtime)


def files(model: Model, service: Service) -> dict[str, Later]:
    if not service.otlp:
        return {}
    return {c.instrumentation_file(service.name, runtime): partial(_text, model, service, runtime)
            for runtime in ("native", "compose")}


frame = files   # a service's settings hold no SLO's part (obs.generate.units)


def unit(model: Model, service: Service) -> dict[str, Later]:
    return {}


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return every_service(model, files)
