"""The validated domain: what generators and the verifier work from. Frozen, YAML-free."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING

from obs.model.conventions import LABEL_SEVERITY
from obs.model.durations import Duration
from obs.model.kinds import DashboardLayout, MetricsPath, ReceiverKind, Ruler, Severity, SliKind, Topology
from obs.model.kubernetes import Kubernetes
from obs.model.timing import Timing
from obs.model.windows import Tier

if TYPE_CHECKING:
    from obs.model.environments import Environment


@dataclass(frozen=True)
class Secret:
    """A secret the component reads at run time: from a file, or from an environment variable."""

    file: str | None = None
    env: str | None = None


class Histogram(str, Enum):
    """How a service's HTTP duration histogram reaches Prometheus."""

    NATIVE = "native"      # OTLP exponential histograms, stored as Prometheus native histograms: any threshold
    CLASSIC = "classic"    # explicit buckets (`_bucket{le=...}`): thresholds must be bucket boundaries


@dataclass(frozen=True)
class SLI:
    kind: SliKind
    threshold: Duration | None = None          # latency
    threshold_le: str | None = None            # the bucket's `le` as Prometheus 3 stores it (classic)
    histogram: Histogram | None = None         # availability and latency: which form of the HTTP histogram
    error_query: str | None = None             # events; {{window}} placeholder
    total_query: str | None = None             # events
    error_ratio_query: str | None = None       # raw

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SliKind(self.kind))


@dataclass(frozen=True)
class SLO:
    service: str
    name: str
    objective: Decimal                         # percent, e.g. 99.9
    period: Duration
    sli: SLI
    tiers: tuple[Tier, ...]
    min_events: Decimal                        # per 5m base window; below it no burn alert fires
    group_by: tuple[str, ...] = ()
    max_groups: int | None = None             # with group_by: Prometheus's rule group `limit`
    description: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    runbook_url: str | None = None
    # Another SLO of its service has the same kind of SLI: it reads the same series and fires alongside. Worked out
    # here so that whatever is made of one SLO reads that SLO alone (obs.generate.units).
    kind_shared: bool = False

    @property
    def error_budget(self) -> Decimal:
        """Allowed error ratio, exact: 99.9 -> 0.001."""
        return (Decimal(100) - self.objective) / Decimal(100)

    @property
    def target(self) -> Decimal:
        return self.objective / Decimal(100)


@dataclass(frozen=True)
class ScrapeTarget:
    targets: tuple[str, ...]
    path: str
    interval: Duration | None


@dataclass(frozen=True)
class Service:
    name: str
    team: str | None
    owner: str | None
    description: str
    otlp: bool
    http: bool
    latency_buckets: tuple[float, ...]
    scrape: tuple[ScrapeTarget, ...]
    slos: tuple[SLO, ...]
    histogram: Histogram = Histogram.NATIVE
    calls: tuple[str, ...] = ()                # services this one calls: edges of the service graph


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: ReceiverKind
    secret: Secret | None = None               # routing key, api url, webhook url or smtp password
    url: str | None = None                     # webhook url when not secret
    channel: str | None = None                 # slack
    email_to: str | None = None
    email_from: str | None = None
    smarthost: str | None = None
    auth_username: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ReceiverKind(self.kind))


@dataclass(frozen=True)
class Route:
    receiver: str
    matchers: tuple[tuple[str, str], ...]
    group_wait: Duration | None = None
    repeat_interval: Duration | None = None


@dataclass(frozen=True)
class TLS:
    cert_file: str
    key_file: str
    client_ca_file: str | None = None


@dataclass(frozen=True)
class Stack:
    timing: Timing
    metrics: MetricsPath
    bind: str
    receivers_bind: str
    receivers_tls: TLS | None
    receivers_bearer: Secret | None
    persistent_queue: bool
    ports: dict[str, int] = field(hash=False)
    versions: dict[str, str] = field(hash=False)
    verify_budget: Duration | None = None
    topology: Topology = Topology.SINGLE
    # Replica counts; one of each under `single`.
    alertmanagers: int = 1
    prometheis: int = 1
    gateways: int = 0          # collector gateways behind the agent collector; none under `single`

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", MetricsPath(self.metrics))
        object.__setattr__(self, "topology", Topology(self.topology))

    @property
    def ha(self) -> bool:
        return self.topology is Topology.HA

    def replicas_of(self, port_key: str) -> int:
        """How many processes listen on `port_key` (replica i on its port + i); 0 when none does."""
        count = {"alertmanager": self.alertmanagers, "alertmanager_cluster": self.alertmanagers if self.ha else 0,
                 "prometheus": self.prometheis,
                 "thanos_sidecar_grpc": self.prometheis if self.ha else 0,
                 "thanos_sidecar_http": self.prometheis if self.ha else 0,
                 "thanos_query": int(self.ha), "thanos_query_grpc": int(self.ha),
                 # Every gateway takes the same OTLP port, each on its own loopback address (gateway_address).
                 "gateway_otlp_grpc": int(self.gateways > 0), "gateway_health": self.gateways,
                 "gateway_metrics": self.gateways, "gateway_dns": int(self.gateways > 0),
                 "gateway_dns_health": int(self.gateways > 0)}
        return count.get(port_key, 1)

    def replica_ports(self, port_key: str) -> list[int]:
        return [self.ports[port_key] + i for i in range(self.replicas_of(port_key))]


@dataclass(frozen=True)
class Model:
    project: str
    source: str                                # spec file name as shown in headers, e.g. obs.yaml
    stack: Stack
    services: tuple[Service, ...]
    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...]
    default_receiver: str | None
    heartbeat: Secret | None = None            # dead man's switch URL the Watchdog is posted to
    fallback_receiver: str | None = None       # spec's choice; see alert_routing.fallback()
    environments: tuple[Environment, ...] = field(default=(), hash=False)   # deployed stacks verify reaches
    kubernetes: Kubernetes = field(default_factory=Kubernetes, hash=False)  # deploy/kubernetes' settings
    dashboard_layout: DashboardLayout = DashboardLayout.TEMPLATED
    rulers: tuple[Ruler, ...] = ()             # scale-out rulers deploy/rulers/ writes rule files for

    def __post_init__(self) -> None:
        object.__setattr__(self, "dashboard_layout", DashboardLayout(self.dashboard_layout))

    def environment(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    @property
    def slos(self) -> tuple[SLO, ...]:
        return tuple(slo for s in self.services for slo in s.slos)

    def service(self, name: str) -> Service:
        return self._services_by_name[name]

    @cached_property
    def _services_by_name(self) -> dict[str, Service]:
        # Generators look a service up per SLO; a scan of a thousand services each time was quadratic.
        return {s.name: s for s in self.services}

    def with_service(self, service: Service) -> Model:
        """This model with one more service (obs.generate.stamp's stand-ins), whose lookup by name is made from this
        one's rather than anew from a thousand services, for each of some hundred stand-ins' models."""
        out = replace(self, services=(*self.services, service))
        out.__dict__["_services_by_name"] = {**self._services_by_name, service.name: service}   # as cached_property
        return out

    def fallback_receivers(self) -> dict[ReceiverKind, str]:
        """Integration kind -> the receiver that hears about that integration failing: never one of the same
        kind, or the failure alert would be lost the same way. The spec's `alerting.fallback_receiver` first."""
        out = {}
        for kind in sorted({r.kind for r in self.receivers}):
            chosen = next((r for r in self.receivers if r.name == self.fallback_receiver and r.kind != kind), None)
            chosen = chosen or next((r for r in self.receivers if r.kind != kind), None)
            if chosen is not None:
                out[kind] = chosen.name
        return out

    @property
    def paging_receiver(self) -> str | None:
        """The receiver a `severity=page` alert reaches: the dead man's switch pages through it too."""
        for r in self.routes:
            if all(k == LABEL_SEVERITY and v == Severity.PAGE for k, v in r.matchers):
                return r.receiver
        return self.default_receiver
