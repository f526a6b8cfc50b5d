"""The OpenTelemetry Collector config: OTLP in, traces to Jaeger, metrics to Prometheus, R.E.D. from spans.

Component type names are those of collector v0.165 (`otlp_grpc`, `otlp_http`,
`span_metrics`); the builder manifest is derived from this config, so the
distribution holds exactly what the config uses. Every interval comes from
`model.stack.timing` (obs/model/timing.py).
"""
from __future__ import annotations

from typing import Any

from obs.generate.common import Inputs, yaml
from obs.model import conventions as c
from obs.model import detection, network
from obs.model.domain import Model, Secret
from obs.model.kinds import MetricsPath

TO_JAEGER = "otlp_grpc/jaeger"
TO_PROMETHEUS = "otlp_http/prometheus"
TO_GATEWAY = "otlp_grpc/gateway"
PULL_EXPORTER = "prometheus"
SPANMETRICS = "span_metrics"
BEARER = "bearertokenauth"
STORAGE = "file_storage"
# Span attributes (semconv HTTP) kept as spanmetrics dimensions; http.response.status_code
# becomes the HTTP_STATUS_LABEL label the availability SLI and dashboards group by.
SPAN_DIMENSIONS = ("http.request.method", "http.response.status_code", "http.route")
MEMORY_CHECK_INTERVAL = "1s"
def prometheus_exporter(index: int) -> str:
    """Under `topology: ha`, the exporter writing to Prometheus replica `index`."""
    return f"{TO_PROMETHEUS}-{index}"


def metrics_exporters(model: Model, net: network.Net) -> list[str]:
    if model.stack.metrics == MetricsPath.PULL:
        return [PULL_EXPORTER]
    if model.stack.ha:
        return [prometheus_exporter(i) for i in range(model.stack.prometheis)]
    return [TO_PROMETHEUS]


def has_gateways(model: Model, net: network.Net) -> bool:
    """Under `topology: ha` the native stack and compose put a gateway tier between the collector and the
    backends. (Kubernetes has its own agent/gateway split: obs/generate/kubernetes/collector.py.)"""
    return model.stack.gateways > 0 and net.kind in ("native", "compose")


def gateway_endpoint(model: Model, net: network.Net) -> str:
    """The one name that lists every gateway, as gRPC's dns resolver reads it. Natively it is asked of the
    stack's own name server (obs/stack/dns.py); under compose, of Docker's, which lists every container carrying
    the network alias."""
    p = model.stack.ports
    if net.kind == "compose":
        return f"dns:///{c.GATEWAY}:{p['gateway_otlp_grpc']}"
    dns = network.host_port(network.reach(model.stack.bind), p["gateway_dns"])
    return f"dns://{dns}/{c.GATEWAY_DNS_NAME}:{p['gateway_otlp_grpc']}"


def secret_path(secret: Secret) -> str:
    """Relative paths resolve against the component's working directory: the output directory."""
    return secret.file if secret.file is not None else c.secret_file(secret.env or "")


def mounted(net: network.Net, path: str) -> str:
    """A secret file as the component opens it: where the spec says, or under the Kubernetes Secret's mount."""
    return f"{net.secrets_dir}/{c.kube_secret_key(path)}" if net.secrets_dir else path


def queue_directory(component: str = "otelcol") -> str:
    # Relative to the collector's working directory unless OBS_STATE_DIR says otherwise.
    return "${env:" + c.STATE_DIR_ENV + ":-" + c.STATE_DIR + "}/" + component


def span_buckets(model: Model) -> list[str]:
    """OTel's HTTP boundaries plus every service's own, so any latency threshold is a boundary."""
    bounds = set(c.OTEL_HTTP_BUCKETS)
    for s in model.services:
        bounds.update(s.latency_buckets)
    return [_go_duration(b) for b in sorted(bounds)]


def _go_duration(seconds: float) -> str:
    micro = round(seconds * 1_000_000)
    return f"{micro // 1000}ms" if micro % 1000 == 0 else f"{micro}us"


def _receiver_protocol(model: Model, net: network.Net, port_key: str) -> dict[str, Any]:
    st = model.stack
    proto: dict[str, Any] = {"endpoint": network.host_port(net.otlp_listen, st.ports[port_key])}
    if st.receivers_tls is not None:
        tls = {"cert_file": mounted(net, st.receivers_tls.cert_file),
               "key_file": mounted(net, st.receivers_tls.key_file)}
        if st.receivers_tls.client_ca_file:
            tls["client_ca_file"] = mounted(net, st.receivers_tls.client_ca_file)
        proto["tls"] = tls
    if st.receivers_bearer is not None:
        proto["auth"] = {"authenticator": BEARER}
    return proto


def _delivery(model: Model) -> dict[str, Any]:
    """Retry and queue settings every pushing exporter shares.

    Batches are made in the queue, not by a batch processor in front of it: what the receiver has answered 200
    to is in the (persistent) queue already, so a SIGKILL loses nothing accepted (BENCHMARKS.md: a batch
    processor's 200 ms in memory lost 20-40 spans per crash). The queue counts items, which batching needs to
    measure and which a burst of small requests cannot fill early."""
    t = model.stack.timing
    queue: dict[str, Any] = {"enabled": True, "sizer": "items", "queue_size": t.queue_size,
                             "batch": {"flush_timeout": str(t.batch_timeout)}}
    if model.stack.persistent_queue:
        queue["storage"] = STORAGE
    return {
        "retry_on_failure": {"enabled": True, "initial_interval": str(t.retry_initial),
                             "max_elapsed_time": str(t.retry_max_elapsed)},
        "sending_queue": queue,
    }


def _same_host(net: network.Net) -> dict[str, Any]:
    """No gzip to a backend on the same host (loopback, or compose's bridge): compressing costs the collector 13 %
    of its CPU under span load (BENCHMARKS.md) and saves no wire. Across a cluster the exporters' default stays."""
    return {"compression": "none"} if net.kind in ("native", "compose") else {}


def _exporters(model: Model, net: network.Net) -> dict[str, Any]:
    p = model.stack.ports
    exporters: dict[str, Any] = {
        TO_JAEGER: {"endpoint": net.peer("jaeger", p["jaeger_otlp_grpc"]), "tls": {"insecure": True},
                    **_same_host(net), **_delivery(model)},
    }
    if model.stack.metrics == MetricsPath.PUSH:
        # otlp_http appends /v1/metrics: Prometheus 3's receiver is /api/v1/otlp/v1/metrics.
        exporters[TO_PROMETHEUS] = {"endpoint": f"http://{net.peer('prometheus', p['prometheus'])}/api/v1/otlp",
                                    **_same_host(net), **_delivery(model)}
        if model.stack.ha:
            # Every Prometheus replica gets every point, each through its own queue: one down delays nobody.
            # In Kubernetes each replica is a pod of the operator's StatefulSet, by its governing Service.
            exporters.pop(TO_PROMETHEUS)
            for i in range(model.stack.prometheis):
                target = (model.kubernetes.prometheus_replica(i) if net.kind == "kubernetes"
                          else net.replica("prometheus", i, p["prometheus"] + i))
                exporters[prometheus_exporter(i)] = {"endpoint": f"http://{target}/api/v1/otlp", **_same_host(net),
                                                     **_delivery(model)}
    else:
        # A pull exporter has nothing to retry or queue: Prometheus scrapes its latest values.
        exporters[PULL_EXPORTER] = {"endpoint": net.bind(p["collector_prometheus"]),
                                    "resource_to_telemetry_conversion": {"enabled": True},
                                    # A stopped service's series must go, or its silence never shows.
                                    "metric_expiration": str(detection.exporter_expiration(model.stack.timing))}
    return exporters


def _extensions(model: Model, net: network.Net) -> dict[str, Any]:
    ext: dict[str, Any] = {"health_check": {"endpoint": net.bind(model.stack.ports["collector_health"])}}
    if model.stack.persistent_queue:
        ext[STORAGE] = {"directory": queue_directory(), "create_directory": True}
    if model.stack.receivers_bearer is not None:
        ext[BEARER] = {"filename": mounted(net, secret_path(model.stack.receivers_bearer))}
    return ext


def _receivers(model: Model, net: network.Net) -> dict[str, Any]:
    return {"otlp": {"protocols": {"grpc": _receiver_protocol(model, net, "otlp_grpc"),
                                   "http": _receiver_protocol(model, net, "otlp_http")}}}


def _processors(model: Model) -> dict[str, Any]:
    t = model.stack.timing
    return {"memory_limiter": {"check_interval": MEMORY_CHECK_INTERVAL, "limit_mib": t.memory_limit_mib,
                               "spike_limit_mib": t.memory_limit_mib // 5}}


def _telemetry(net: network.Net, port: int) -> dict[str, Any]:
    """The collector's own logs, and its metrics on `port` for Prometheus to scrape."""
    return {"logs": {"level": "info"},
            "metrics": {"level": "normal", "readers": [{"pull": {"exporter": {"prometheus": {
                "host": net.listen, "port": port}}}}]}}


def agent_config(model: Model, net: network.Net, gateway: str) -> dict[str, Any]:
    """A node agent (Kubernetes daemonset mode): the same receivers and processors, everything forwarded to the
    gateway at `gateway` (host:port of its OTLP/gRPC receiver), which computes span metrics and exports."""
    st = model.stack
    extensions = {k: v for k, v in _extensions(model, net).items() if k != STORAGE}
    forward: dict[str, Any] = {"endpoint": gateway, **_delivery(model)}
    forward["sending_queue"] = {k: v for k, v in forward["sending_queue"].items() if k != "storage"}
    # The gateway's receivers ask the agent what they ask of any sender: to trust the collector's certificate (which
    # must name the gateway's Service), to show a client certificate where they require one (the collector's own:
    # the clients' CA must have signed it too), and the token.
    tls = st.receivers_tls
    forward["tls"] = {"ca_file": mounted(net, tls.cert_file)} if tls else {"insecure": True}
    if tls is not None and tls.client_ca_file:
        forward["tls"].update(cert_file=mounted(net, tls.cert_file), key_file=mounted(net, tls.key_file))
    if st.receivers_bearer is not None:
        forward["auth"] = {"authenticator": BEARER}
    processors = list(_processors(model))
    return {
        "receivers": _receivers(model, net),
        "processors": _processors(model),
        "exporters": {TO_GATEWAY: forward},
        "extensions": extensions,
        "service": {
            "extensions": list(extensions),
            "pipelines": {signal: {"receivers": ["otlp"], "processors": processors, "exporters": [TO_GATEWAY]}
                          for signal in ("traces", "metrics")},
            "telemetry": _telemetry(net, model.stack.ports["collector_metrics"]),
        },
    }


def _to_gateways(model: Model, net: network.Net) -> dict[str, Any]:
    """The collector's one exporter under a gateway tier: gRPC balances over every gateway the name lists and
    sends only to those whose connection is up, so a dead gateway's share moves to the others within a retry;
    a request it failed is retried from the (persistent) queue. Span metrics are made before this point, from
    every span, so no trace-aware routing is needed: any gateway may take any span."""
    return {TO_GATEWAY: {"endpoint": gateway_endpoint(model, net), "balancer_name": "round_robin",
                         "tls": {"insecure": True}, **_same_host(net), **_delivery(model)}}


def gateway_config(model: Model, net: network.Net, index: int) -> dict[str, Any]:
    """Gateway `index`: OTLP in from the collector, out to Jaeger and every Prometheus, each through its own
    persistent queue (one backend down delays nobody; a gateway killed with data queued sends it when it
    restarts). No batching here: the collector has batched already, and a second flush would add its timeout
    to every hop. Gateway i takes its health and metrics ports + i, as every replica does; its OTLP port is the
    same for all, on its own loopback address natively, in its own container under compose."""
    st, p = model.stack, model.stack.ports
    listen = (network.host_port(c.gateway_address(index), p["gateway_otlp_grpc"]) if net.kind == "native"
              else net.bind(p["gateway_otlp_grpc"]))
    exporters = {name: {**e, "sending_queue": {k: v for k, v in e["sending_queue"].items() if k != "batch"}}
                 for name, e in _exporters(model, net).items()}
    ext: dict[str, Any] = {"health_check": {"endpoint": net.bind(p["gateway_health"] + index)}}
    if st.persistent_queue:
        ext[STORAGE] = {"directory": queue_directory(c.replica(c.GATEWAY, index)), "create_directory": True}
    processors = list(_processors(model))
    return {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": listen}}}},
        "processors": _processors(model),
        "exporters": exporters,
        "extensions": ext,
        "service": {
            "extensions": list(ext),
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": processors, "exporters": [TO_JAEGER]},
                "metrics": {"receivers": ["otlp"], "processors": processors,
                            "exporters": metrics_exporters(model, net)},
            },
            "telemetry": _telemetry(net, p["gateway_metrics"] + index),
        },
    }


def config(model: Model, net: network.Net) -> dict[str, Any]:
    t = model.stack.timing
    extensions = _extensions(model, net)
    processors = list(_processors(model))
    gateways = has_gateways(model, net)
    return {
        "receivers": _receivers(model, net),
        "processors": _processors(model),
        "connectors": {SPANMETRICS: {
            "namespace": c.SPANMETRICS_NAMESPACE,
            "aggregation_temporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
            # Flushed as often as SDKs export metrics, so trace-only services show up as fast as the rest.
            "metrics_flush_interval": str(t.sdk_metric_interval),
            "histogram": {"unit": "s", "explicit": {"buckets": span_buckets(model)}},
            "dimensions": [{"name": d} for d in SPAN_DIMENSIONS],
        }},
        "exporters": _to_gateways(model, net) if gateways else _exporters(model, net),
        "extensions": extensions,
        "service": {
            "extensions": list(extensions),
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": processors,
                           "exporters": [TO_GATEWAY if gateways else TO_JAEGER, SPANMETRICS]},
                "metrics": {"receivers": ["otlp", SPANMETRICS], "processors": processors,
                            "exporters": [TO_GATEWAY] if gateways else metrics_exporters(model, net)},
            },
            "telemetry": _telemetry(net, model.stack.ports["collector_metrics"]),
        },
    }


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    net = network.native(model)
    out = {c.OTELCOL_CONFIG: yaml(model, config(model, net))}
    if has_gateways(model, net):
        out.update({c.gateway_config(i): yaml(model, gateway_config(model, net, i))
                    for i in range(model.stack.gateways)})
    return out
