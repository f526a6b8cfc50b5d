"""Where each stack component listens and how the others reach it, for the native stack and for compose.

The native stack runs plain processes on one host: everything listens on
`stack.bind` and peers talk over loopback. Under compose each component has its
own network namespace: it must listen on 0.0.0.0 inside its container (Docker
publishes the port on `stack.bind` of the host) and reaches its peers by service
name. The generators take a `Net` so both variants come from the same code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from obs.model import conventions as c
from obs.model.domain import Model

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Compose services reach the host (the verifier, services' scrape targets) through this name,
# mapped to the host gateway by `extra_hosts`.
DOCKER_HOST = "host.docker.internal"


def reach(host: str) -> str:
    """The address a client on the same host uses to reach a server bound to `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def host_port(host: str, port: int) -> str:
    # An IPv6 literal is bracketed; a `${env:...}` reference (the pod IP, in Kubernetes) is not.
    return f"[{host}]:{port}" if ":" in host and not host.startswith("${") else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


@dataclass(frozen=True)
class Net:
    kind: str                      # native | compose
    listen: str                    # address every stack listener binds
    otlp_listen: str               # address the collector's OTLP receivers bind
    peers: dict[str, str]          # component -> host the other components use to reach it
    outside: str                   # host where the verifier and the user's services run
    # component -> host:port, where it is not on the stack's ports (in Kubernetes: the spec's addresses)
    addresses: dict[str, str] = field(default_factory=dict, hash=False)
    # Where components read their secret files, if not where the spec's references put them (Kubernetes mounts)
    secrets_dir: str | None = None

    def peer(self, component: str, port: int) -> str:
        return self.addresses.get(component) or host_port(self.peers[component], port)

    def replica(self, component: str, index: int, port: int) -> str:
        """Replica `index` of a component (`topology: ha`), listening on `port` (its key's port + index)."""
        host = f"{component}-{index}" if self.kind == "compose" else self.peers[component]
        return host_port(host, port)

    def bind(self, port: int) -> str:
        return host_port(self.listen, port)

    def target(self, address: str) -> str:
        """A user's host:port scrape target as seen from Prometheus."""
        host, _, port = address.rpartition(":")
        if self.kind == "compose" and is_loopback(host.strip("[]")):
            return host_port(self.outside, int(port))
        return address


COMPONENTS = ("otelcol", "jaeger", "prometheus", "alertmanager", "grafana", "thanos-sidecar", "thanos-query",
              c.GATEWAY)


def native(model: Model) -> Net:
    st = model.stack
    local = reach(st.bind)
    return Net("native", st.bind, st.receivers_bind, {c: local for c in COMPONENTS}, local)


def compose(model: Model) -> Net:
    return Net("compose", "0.0.0.0", "0.0.0.0", {c: c for c in COMPONENTS}, DOCKER_HOST)


def kubernetes(model: Model) -> Net:
    """In a pod: listen on the pod's IP (set from the downward API), reach the backends at the spec's addresses."""
    k = model.kubernetes
    pod_ip = "${env:" + c.KUBE_POD_IP_ENV + "}"
    return Net("kubernetes", pod_ip, pod_ip, {}, pod_ip,
               addresses={"jaeger": k.jaeger, "prometheus": k.prometheus}, secrets_dir=c.KUBE_SECRETS_MOUNT)
