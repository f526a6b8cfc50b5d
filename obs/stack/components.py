"""The four processes of the native stack, as data: binary, argv, ports, health URL.

Pure: nothing here starts, reads or probes anything, so the verifier can import the
URL helpers without side effects. Every process runs with the output directory as
its working directory; argv uses absolute paths anyway so logs say exactly what ran.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from obs.generate.configs.prometheus import required_flags as prometheus_flags
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.kinds import MetricsPath, ReceiverKind
from obs.model.network import host_port, reach

Argv = Callable[[Model, Path, int], list[str]]


def http_url(host: str, port: int, path: str = "", scheme: str = "http") -> str:
    return f"{scheme}://{host_port(reach(host), port)}{path}"


@dataclass(frozen=True)
class Component:
    name: str
    binary: str                        # name in obs.stack.build
    config: str                        # generated config, relative to the output directory
    watched: tuple[str, ...]           # globs (relative to out) whose change means a restart
    ports: tuple[str, ...]             # keys of model.stack.ports it listens on (always)
    health_port: str
    health_path: str
    argv_tail: Argv                    # arguments after the binary
    index: int = 0                     # replica number under `topology: ha`: it listens on each port + index
    env: tuple[tuple[str, str], ...] = ()

    def argv(self, model: Model, out: Path, binary: Path) -> list[str]:
        return [str(binary), *self.argv_tail(model, out.resolve(), self.index)]

    def health_url(self, model: Model) -> str:
        return http_url(model.stack.bind, model.stack.ports[self.health_port] + self.index, self.health_path)

    def listens(self, model: Model) -> list[tuple[str, int]]:
        """(host, port) pairs this component binds, to find conflicts before starting it."""
        ports = list(self.ports)
        if self.name == "otelcol" and model.stack.metrics == MetricsPath.PULL:
            ports.append("collector_prometheus")
        if self.binary == "alertmanager" and model.stack.ha:
            ports.append("alertmanager_cluster")
        listens = [(_bind_of(model, key), model.stack.ports[key] + self.index) for key in ports]
        if self.name.startswith(c.GATEWAY):
            listens.append((c.gateway_address(self.index), model.stack.ports["gateway_otlp_grpc"]))
        return listens


def _bind_of(model: Model, port_key: str) -> str:
    # The OTLP receivers may be exposed wider than the rest of the stack.
    return model.stack.receivers_bind if port_key in ("otlp_grpc", "otlp_http") else model.stack.bind


def _listen(model: Model, key: str, index: int = 0) -> str:
    return host_port(model.stack.bind, model.stack.ports[key] + index)


def _local(model: Model, key: str, index: int = 0) -> str:
    return host_port(reach(model.stack.bind), model.stack.ports[key] + index)


def _name(component: str, model: Model, index: int) -> str:
    return c.replica(component, index) if model.stack.ha else component


def _otelcol(model: Model, out: Path, index: int) -> list[str]:
    return ["--config", str(out / c.OTELCOL_CONFIG)]


def _jaeger(model: Model, out: Path, index: int) -> list[str]:
    return ["--config", str(out / c.JAEGER_CONFIG)]


def _prometheus(model: Model, out: Path, index: int) -> list[str]:
    return [
        "--config.file", str(out / c.PROMETHEUS_CONFIG),
        "--storage.tsdb.path", str(out / c.state_data_dir(_name("prometheus", model, index))),
        "--web.listen-address", _listen(model, "prometheus", index),
        "--web.enable-lifecycle",
        # OTLP receiver, resend delay (the floor of alert delivery): the same flags compose passes.
        *prometheus_flags(model),
    ]


def _alertmanager(model: Model, out: Path, index: int) -> list[str]:
    st = model.stack
    argv = [
        # The local overlay: the production routing, every notification to the contract receivers.
        "--config.file", str(out / c.ALERTMANAGER_LOCAL_CONFIG),
        "--storage.path", str(out / c.state_data_dir(_name("alertmanager", model, index))),
        "--web.listen-address", _listen(model, "alertmanager", index),
        # Silences and the notification log reach disk this often (not every 15 min): a crash loses less.
        f"--data.maintenance-interval={st.timing.state_snapshot}",
    ]
    if not st.ha:
        # Empty: a single instance needs no gossip, and the default would bind 0.0.0.0:9094.
        return [*argv, "--cluster.listen-address="]
    # Gossip on the stack's address. The peer at cluster position n sends a notification only when none of
    # the n before it has, after n peer timeouts: one page, not one per Alertmanager.
    peers = [f"--cluster.peer={_local(model, 'alertmanager_cluster', i)}"
             for i in range(st.alertmanagers) if i != index]
    return [*argv, f"--cluster.listen-address={_listen(model, 'alertmanager_cluster', index)}",
            f"--cluster.advertise-address={_local(model, 'alertmanager_cluster', index)}", *peers,
            f"--cluster.peer-timeout={st.timing.peer_timeout}",
            f"--cluster.gossip-interval={st.timing.gossip_interval}"]


def _gateway(model: Model, out: Path, index: int) -> list[str]:
    return ["--config", str(out / c.gateway_config(index))]


def _gateway_dns(model: Model, out: Path, index: int) -> list[str]:
    st = model.stack
    return ["-m", "obs.stack.dns", "--bind", reach(st.bind), "--port", str(st.ports["gateway_dns"]),
            "--health-port", str(st.ports["gateway_dns_health"]), "--name", c.GATEWAY_DNS_NAME,
            *[a for i in range(st.gateways) for a in ("--address", c.gateway_address(i))]]


def _sidecar(model: Model, out: Path, index: int) -> list[str]:
    # Thanos Query reads each Prometheus through its sidecar's Store API (no object storage: nothing uploads).
    return ["sidecar", f"--prometheus.url=http://{_local(model, 'prometheus', index)}",
            f"--grpc-address={_listen(model, 'thanos_sidecar_grpc', index)}",
            f"--http-address={_listen(model, 'thanos_sidecar_http', index)}"]


def _query(model: Model, out: Path, index: int) -> list[str]:
    stores = [f"--endpoint={_local(model, 'thanos_sidecar_grpc', i)}" for i in range(model.stack.prometheis)]
    return ["query", f"--http-address={_listen(model, 'thanos_query')}",
            f"--grpc-address={_listen(model, 'thanos_query_grpc')}", *stores,
            # The pair's samples are one series once this label is ignored: no gap while one replica is down,
            # no doubled series while both answer.
            f"--query.replica-label={c.REPLICA_LABEL}"]


JAEGER = Component("jaeger", "jaeger", c.JAEGER_CONFIG, ("deploy/jaeger/*",),
                   ("jaeger_query", "jaeger_query_grpc", "jaeger_otlp_grpc", "jaeger_health", "jaeger_metrics"),
                   # The query API answering proves storage and query are both up.
                   "jaeger_query", "/api/services", _jaeger)
ALERTMANAGER = Component("alertmanager", "alertmanager", c.ALERTMANAGER_LOCAL_CONFIG,
                         ("deploy/local/alertmanager.yml",), ("alertmanager",), "alertmanager", "/-/ready",
                         _alertmanager)
PROMETHEUS = Component("prometheus", "prometheus", c.PROMETHEUS_CONFIG,
                       ("deploy/prometheus/*", f"{c.ALERTS_DIR}/*.yml"), ("prometheus",), "prometheus", "/-/ready",
                       _prometheus)
OTELCOL = Component("otelcol", "otelcol", c.OTELCOL_CONFIG, ("deploy/otelcol/config.yaml",),
                    ("otlp_grpc", "otlp_http", "collector_health", "collector_metrics"),
                    "collector_health", "/", _otelcol)
COMPONENTS: dict[str, Component] = {comp.name: comp for comp in (JAEGER, ALERTMANAGER, PROMETHEUS, OTELCOL)}
# Start order: a backend is up before anything that sends to it, so no first alert
# or batch is dropped and retried only after a resend delay.
ORDER: tuple[str, ...] = tuple(COMPONENTS)


def _replicated(model: Model) -> list[Component]:
    """`topology: ha`: each replica its own process, named `<component>-<i>`, on its ports + i."""
    st = model.stack
    comps = [replace(ALERTMANAGER, name=c.replica("alertmanager", i), index=i) for i in range(st.alertmanagers)]
    comps += [replace(PROMETHEUS, name=c.replica("prometheus", i), index=i,
                      env=((c.PROMETHEUS_REPLICA_ENV, str(i)),)) for i in range(st.prometheis)]
    comps += [Component(c.replica("thanos-sidecar", i), "thanos", c.PROMETHEUS_CONFIG, (),
                        ("thanos_sidecar_grpc", "thanos_sidecar_http"), "thanos_sidecar_http", "/-/ready", _sidecar,
                        index=i) for i in range(st.prometheis)]
    comps.append(Component("thanos-query", "thanos", c.PROMETHEUS_CONFIG, (), ("thanos_query", "thanos_query_grpc"),
                           "thanos_query", "/-/ready", _query))
    if st.gateways:
        # The name server first: the collector resolves the gateways' name once at start, then on each failure.
        comps.append(Component(GATEWAY_DNS, PYTHON, c.OTELCOL_CONFIG, (), ("gateway_dns_health",),
                               "gateway_dns_health", "/-/healthy", _gateway_dns))
        comps += [Component(c.replica(c.GATEWAY, i), "otelcol", c.gateway_config(i), (c.gateway_config(i),),
                            ("gateway_health", "gateway_metrics"), "gateway_health", "/", _gateway, index=i)
                  for i in range(st.gateways)]
    return comps


def stack_components(model: Model) -> dict[str, Component]:
    """What the native stack runs for this model, in start order."""
    if not model.stack.ha:
        return NATIVE
    return {comp.name: comp for comp in (RECEIVERS, JAEGER, *_replicated(model), OTELCOL)}


# The native stack also runs obs's own contract receivers and heartbeat watcher (`obs receivers`), first,
# so Alertmanager's first heartbeat and page land. Its "binary" is the Python running obs.
PYTHON = "python"
GATEWAY_DNS = "gateway-dns"
WATCHER_KEY_FILE = f"{c.SECRETS_DIR}/obs-local-routing-key"


def _receivers(model: Model, out: Path, index: int) -> list[str]:
    st, t = model.stack, model.stack.timing
    argv = ["-m", "obs", "receivers", "--bind", st.bind, "--port", str(st.ports["local_receivers"]),
            "--heartbeat-timeout", str(t.heartbeat_timeout)]
    pager = model.paging_receiver
    if pager is not None and any(r.name == pager and r.kind == ReceiverKind.PAGERDUTY for r in model.receivers):
        path = c.receivers_path(ReceiverKind.PAGERDUTY, pager)
        argv += ["--page-url", http_url(st.bind, st.ports["local_receivers"], path),
                 "--page-routing-key-file", str(out / WATCHER_KEY_FILE)]
    return argv


RECEIVERS = Component("receivers", PYTHON, c.ALERTMANAGER_LOCAL_CONFIG, (), ("local_receivers",),
                      "local_receivers", "/-/healthy", _receivers)
NATIVE: dict[str, Component] = {"receivers": RECEIVERS, **COMPONENTS}
NATIVE_ORDER: tuple[str, ...] = tuple(NATIVE)


def urls(model: Model) -> dict[str, str]:
    """Every endpoint a user or the verifier talks to, for either runtime."""
    st, p = model.stack, model.stack.ports
    otlp_scheme = "https" if st.receivers_tls else "http"
    # Under `topology: ha` queries go through Thanos Query, which answers while either Prometheus does.
    query = http_url(st.bind, p["thanos_query"]) if st.ha else http_url(st.bind, p["prometheus"])
    return {
        "prometheus": query,
        "alertmanager": http_url(st.bind, p["alertmanager"]),
        "jaeger_query": http_url(st.bind, p["jaeger_query"]),
        "otlp_grpc": http_url(st.receivers_bind, p["otlp_grpc"], scheme=otlp_scheme),
        "otlp_http": http_url(st.receivers_bind, p["otlp_http"], scheme=otlp_scheme),
        "collector_health": http_url(st.bind, p["collector_health"], "/"),
        "collector_metrics": http_url(st.bind, p["collector_metrics"], "/metrics"),
        "grafana": http_url(st.bind, p["grafana"]),
        "receivers": http_url(st.bind, p["local_receivers"]),
    }


def public_url(model: Model, name: str) -> str:
    """The one URL `obs status` shows for a component."""
    key = {"otelcol": "otlp_http", "jaeger": "jaeger_query", "grafana": "grafana"}.get(name, name)
    if key in urls(model) and not (model.stack.ha and name == "prometheus"):
        return urls(model)[key]
    comp = stack_components(model)[name]
    return http_url(model.stack.bind, model.stack.ports[comp.health_port] + comp.index)
