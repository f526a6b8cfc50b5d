"""The user-facing obs.yaml schema, version obs/v1.

These types are the contract with users and change only with a new version
string; the domain in obs.model is free to evolve behind them. Fields are strict
so that YAML's loose scalars (`on`, `1e3`, `"99.9"`) never change meaning silently.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from obs.spec.fields import (  # noqa: F401
    ENV_RE,
    LABEL_RE,
    NAME_RE,
    Address,
    Duration,
    HostPort,
    HttpUrl,
    KubeLabelKey,
    KubeLabelValue,
    KubePrefix,
    LabelName,
    Name,
    Port,
    PositiveDuration,
    PublicUrl,
    SecretPath,
    SmtpHost,
    Version,
    shown,
)


class Strict(BaseModel):
    # defer_build: a validator is built for a model when it is first used, not for each of the forty at import;
    # the Spec's validator holds the nested ones' schemas, so reading a spec builds one.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False, defer_build=True)


M = TypeVar("M", bound=Strict)


def default(model: type[M], **values: Any) -> M:
    """A field's default instance, made without its model's validator: a default made by validation would build
    that validator at import (fourteen of them, a fifth of `obs`'s start-up), though reading a spec uses only the
    Spec's. tests/spec/test_defaults.py holds each default to the instance validation makes of the same values."""
    return cast(M, model.model_construct(**values))   # pydantic types it as the bound, Strict


def schema_default(model: type[Strict]) -> Any:
    """json_schema_extra that shows a factory-made default in the schema, made when the schema is."""
    return lambda schema: schema.update(default=model().model_dump())


class SecretRef(Strict):
    """A secret is read by the component at run time, from a file or the environment, never inlined."""

    file: SecretPath | None = Field(None, description="Path to a file holding the secret.")
    env: StrictStr | None = Field(None, description="Environment variable holding the secret.")

    @model_validator(mode="before")
    @classmethod
    def _not_inline(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("secrets must not be written inline; use `{file: /path/to/secret}` or `{env: VAR_NAME}`")
        return value

    @field_validator("env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_RE.fullmatch(value):
            raise ValueError(f"must be an environment variable name: letters, digits and _, not starting with a "
                             f"digit (got {shown(value)})")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of `file:` or `env:`")
        return self


class Ports(Strict):
    otlp_grpc: Port = 4317
    otlp_http: Port = 4318
    collector_health: Port = 13133
    collector_metrics: Port = 8888
    collector_prometheus: Port = 8889
    jaeger_query: Port = 16686
    jaeger_query_grpc: Port = 16685
    jaeger_otlp_grpc: Port = 14317
    jaeger_health: Port = 14133
    jaeger_metrics: Port = 14269
    prometheus: Port = 9090
    alertmanager: Port = 9093
    grafana: Port = 3000
    verify_sink: Port = 9097
    local_receivers: Port = 9096    # `obs receivers`: PagerDuty/Slack contract receivers and the heartbeat watcher
    verify_metrics: Port = 9098
    # `topology: ha` only. A replicated component's replica i listens on its port + i.
    alertmanager_cluster: Port = 9194   # Alertmanager gossip
    thanos_sidecar_grpc: Port = 10911   # each Prometheus's Thanos sidecar: Store API
    thanos_sidecar_http: Port = 10921
    thanos_query: Port = 10904          # Thanos Query's HTTP API: what `obs verify` and Grafana read under ha
    thanos_query_grpc: Port = 10903
    # The collector gateways all take this port, each on its own loopback address (127.0.0.1, 127.0.0.2, ...),
    # so one DNS name lists them all; their health and metrics ports take + i.
    gateway_otlp_grpc: Port = 4327
    gateway_health: Port = 13143
    gateway_metrics: Port = 8898
    gateway_dns: Port = 9053            # UDP: the name server that lists the gateways to the agent
    gateway_dns_health: Port = 9054
    # Distinctness is checked in obs.model.build, which can point at the port the user wrote.


class Versions(Strict):
    """Release versions; defaults come from obs's pinned version table."""

    otelcol: Version | None = None
    jaeger: Version | None = None
    prometheus: Version | None = None
    alertmanager: Version | None = None
    grafana: Version | None = None


class TLS(Strict):
    cert_file: SecretPath
    key_file: SecretPath
    client_ca_file: SecretPath | None = None


class Receivers(Strict):
    """How the collector's OTLP receivers are exposed."""

    bind: Address = Field("127.0.0.1", description="Address the OTLP receivers listen on.")
    tls: TLS | None = None
    bearer_token: SecretRef | None = Field(None, description="Require this bearer token from senders.")


class Replicas(Strict):
    """How many of each component `topology: ha` runs."""

    alertmanager: StrictInt = Field(3, ge=1, le=9, description="Alertmanagers in the gossip cluster.")
    prometheus: StrictInt = Field(2, ge=1, le=9, description="Prometheus servers with identical rules.")
    gateway: StrictInt = Field(2, ge=1, le=9, description="Collector gateways the agent collector fails over "
                               "between; each writes to the backends.")


class Stack(Strict):
    topology: Literal["single", "ha"] = Field(
        "single", description="single: one of each component. ha: an Alertmanager cluster and a Prometheus pair "
        "with identical rules behind Thanos Query, each page sent once, and a tier of collector gateways the collector "
        "fails over between."
    )
    replicas: Replicas | None = Field(None, description="Replica counts under `topology: ha`.")
    profile: Literal["production", "fast"] = Field(
        "production", description="Timing profile: production defaults, or fast for local loops and tests."
    )
    metrics: Literal["push", "pull"] = Field(
        "push", description="push: collector sends OTLP to Prometheus 3. pull: Prometheus scrapes the collector."
    )
    bind: Address = Field("127.0.0.1", description="Address every stack port binds to.")
    persistent_queue: StrictBool | None = Field(
        None, description="Keep exporter queues on disk across backend outages (default: on in production)."
    )
    receivers: Receivers = default(Receivers)
    ports: Ports = default(Ports)
    versions: Versions = default(Versions)
    verify_budget: Duration | None = Field(None, description="How long `obs verify` waits for each probe.")



class ScrapeTarget(Strict):
    targets: list[HostPort] = Field(min_length=1)
    path: StrictStr = "/metrics"
    interval: Duration | None = None



class Telemetry(Strict):
    otlp: StrictBool = Field(True, description="The service pushes OTLP to the collector.")
    scrape: list[ScrapeTarget] = Field(default_factory=list, description="Prometheus scrapes these targets.")


class LatencySLI(Strict):
    threshold: Duration = Field(description="Requests slower than this are bad, e.g. 500ms.")



class EventsSLI(Strict):
    error_query: StrictStr = Field(description="PromQL counting bad events over {{window}}.")
    total_query: StrictStr = Field(description="PromQL counting all events over {{window}}.")


class RawSLI(Strict):
    error_ratio_query: StrictStr = Field(description="PromQL giving the error ratio over {{window}}.")


class AvailabilitySLI(Strict):
    """5xx responses of http.server.request.duration count as bad."""


class SLI(Strict):
    availability: AvailabilitySLI | None = None
    latency: LatencySLI | None = None
    events: EventsSLI | None = None
    raw: RawSLI | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SLI:
        given = [k for k in ("availability", "latency", "events", "raw") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of availability, latency, events or raw"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class Tier(Strict):
    severity: Literal["page", "ticket"]
    long: Duration
    short: Duration
    burn_rate: Annotated[float, Field(gt=0)]
    for_: Duration | None = Field(None, alias="for")



class Alerting(Strict):
    page: StrictBool = True
    ticket: StrictBool = True
    labels: dict[LabelName, StrictStr] = Field(default_factory=dict)
    annotations: dict[LabelName, StrictStr] = Field(default_factory=dict)
    runbook_url: StrictStr | None = None
    min_events: Annotated[float, Field(ge=0)] | None = Field(
        None, description="Events per short window below which no burn-rate alert fires (default 1 per minute)."
    )
    tiers: list[Tier] | None = Field(None, description="Replace the SRE-workbook tiers.")


class SLO(Strict):
    name: Name
    description: StrictStr | None = None
    objective: float = Field(description="Percent of good events, below 100.")
    window: Duration = "30d"
    sli: SLI
    group_by: list[LabelName] = Field(default_factory=list, description="Evaluate the SLO per value of these labels.")
    max_groups: Annotated[StrictInt, Field(gt=0)] | None = Field(
        None, description="With group_by: the most groups each of the SLO's rules may produce (default 100). Beyond "
        "it Prometheus fails the rule's evaluation instead of recording unbounded series, and the SLO's no-data "
        "ticket fires.")
    # A factory, not a shared instance: pydantic deep-copies a model default for every SLO (at a thousand services,
    # a tenth of loading); the schema still shows the default.
    alerting: Alerting = Field(default_factory=Alerting, json_schema_extra=schema_default(Alerting))



class Service(Strict):
    name: Name
    team: StrictStr | None = None
    owner: StrictStr | None = None
    description: StrictStr | None = None
    http: StrictBool = Field(False, description="Emits the semconv histogram http.server.request.duration.")
    histogram: Literal["native", "classic"] | None = Field(
        None, description="native: the SDK sends exponential histograms (set by `obs env`), read at any latency "
        "threshold. classic: explicit buckets, thresholds must be boundaries. Default: native with metrics: push, "
        "classic with metrics: pull or when latency_buckets are given.")
    latency_buckets: list[Annotated[float, Field(gt=0)]] | None = Field(
        None, description="Classic histogram bucket boundaries in seconds, when not OTel's defaults."
    )
    calls: list[Name] = Field(default_factory=list, description="Services this one calls: edges the service graph "
                              "and `obs verify` expect to carry traces.")
    telemetry: Telemetry = Field(default_factory=Telemetry, json_schema_extra=schema_default(Telemetry))
    slos: list[SLO] = Field(default_factory=list)



class PagerDuty(Strict):
    routing_key: SecretRef


class Slack(Strict):
    api_url: SecretRef
    channel: StrictStr


class Webhook(Strict):
    url: PublicUrl | None = None
    url_secret: SecretRef | None = None

    @model_validator(mode="after")
    def _one(self) -> Webhook:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of `url:` or `url_secret:`")
        return self


class Email(Strict):
    to: StrictStr
    sender: StrictStr = Field(alias="from")
    smarthost: SmtpHost = Field(description="SMTP server as host:port, e.g. smtp.example.com:587.")
    auth_username: StrictStr | None = None
    auth_password: SecretRef | None = None


class Receiver(Strict):
    name: Name
    pagerduty: PagerDuty | None = None
    slack: Slack | None = None
    webhook: Webhook | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Receiver:
        given = [k for k in ("pagerduty", "slack", "webhook", "email") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of pagerduty, slack, webhook or email"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self


class Match(Strict):
    severity: Literal["page", "ticket"] | None = None
    service: StrictStr | None = None
    team: StrictStr | None = None


class Route(Strict):
    match: Match = default(Match)
    receiver: StrictStr
    group_wait: Duration | None = None
    repeat_interval: PositiveDuration | None = None


class Heartbeat(Strict):
    url: SecretRef = Field(description="Ping URL of a dead man's switch (e.g. Healthchecks.io, or `obs receivers` "
                           "/heartbeat): Alertmanager posts the always-firing Watchdog there every heartbeat interval.")


class AlertRouting(Strict):
    receivers: list[Receiver] = Field(default_factory=list)
    heartbeat: Heartbeat | None = Field(None, description="Where the Watchdog goes, so a dead Prometheus or "
                                        "Alertmanager pages through the switch (default: nowhere; lint warns).")
    fallback_receiver: StrictStr | None = Field(
        None, description="Where a failing notifier's alert goes (default: the first receiver of another kind).")
    routes: list[Route] = Field(default_factory=list)
    default_receiver: StrictStr | None = Field(
        None, description="Where unmatched alerts go (default: the first receiver).")


class ClientTLS(Strict):
    """How obs checks an endpoint's certificate and proves itself to it."""

    ca_file: SecretPath | None = Field(None, description="CA bundle that signed the endpoint's certificate "
                                       "(default: the system's).")
    cert_file: SecretPath | None = Field(None, description="Client certificate, for endpoints that ask for one.")
    key_file: SecretPath | None = Field(None, description="The client certificate's private key.")
    server_name: StrictStr | None = Field(None, description="Name the certificate must carry, when it is not the "
                                          "URL's host (an IP address or a tunnel).")
    insecure_skip_verify: StrictBool = Field(False, description="Accept any certificate. Reported loudly on every "
                                             "run: it proves nothing about who answered.")

    @model_validator(mode="after")
    def _pair(self) -> ClientTLS:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("give both `cert_file:` and `key_file:` for a client certificate, or neither")
        return self


class BasicAuth(Strict):
    username: StrictStr = Field(min_length=1)
    password: SecretRef


class ClientAuth(Strict):
    """Credentials, always by reference: `bearer_token: {env: VAR}` or `basic: {username: u, password: {file: f}}`."""

    bearer_token: SecretRef | None = None
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _one(self) -> ClientAuth:
        if (self.bearer_token is None) == (self.basic is None):
            raise ValueError("give exactly one of `bearer_token:` or `basic:`")
        return self


class Connection(Strict):
    """Settings shared by an environment's endpoints; an endpoint's own settings replace them key by key."""

    tls: ClientTLS | None = None
    auth: ClientAuth | None = None
    headers: dict[StrictStr, StrictStr | SecretRef] = Field(
        default_factory=dict, description="Extra request headers, such as a tenant (`X-Scope-OrgID: team-a`); "
        "a value that is a credential goes by reference (`{env: VAR}`).")
    timeout: PositiveDuration | None = Field(None, description="How long one request may take (default 10s).")


class Endpoint(Connection):
    url: HttpUrl


EndpointField = HttpUrl | Endpoint


class Environment(Connection):
    """A deployed stack obs verifies from outside: `obs verify --env NAME`. verify only reads and sends probes."""

    description: StrictStr | None = None
    deployed_with: Literal["files", "kubernetes"] = Field(
        "files", description="How the stack there runs what obs generates: the single-host files, or "
        "deploy/kubernetes through the operators (drift then reads the PrometheusRules, AlertmanagerConfig and "
        "monitors, as the operators name them).")
    otlp_http: EndpointField | None = Field(None, description="The collector's OTLP/HTTP receiver (base URL).")
    otlp_grpc: EndpointField | None = Field(None, description="The collector's OTLP/gRPC receiver.")
    prometheus: EndpointField = Field(description="Prometheus's HTTP API (base URL, e.g. https://prom.example.com).")
    alertmanager: EndpointField = Field(description="Alertmanager's API (base URL).")
    jaeger: EndpointField = Field(description="Jaeger's query API (base URL).")
    receivers: EndpointField | None = Field(None, description="A test overlay of the receivers (`obs receivers`), "
                                            "if the environment runs one.")

    @model_validator(mode="after")
    def _some_otlp(self) -> Environment:
        if self.otlp_http is None and self.otlp_grpc is None:
            raise ValueError("give `otlp_http:` (or `otlp_grpc:`): verify sends its probe span and metric there")
        return self


KubeLabels = dict[KubeLabelKey, KubeLabelValue]


class KubeMonitor(Strict):
    """How Prometheus finds one of the pipeline's components in the cluster: a Service's labels and port name."""

    selector: KubeLabels = Field(min_length=1, description="Labels of the component's Service.")
    port: Name = Field(description="Name of the Service port that serves /metrics.")
    path: StrictStr = "/metrics"


class KubeMonitors(Strict):
    jaeger: KubeMonitor = default(KubeMonitor, selector={"app.kubernetes.io/name": "jaeger"}, port="metrics")
    # The Services the Prometheus Operator itself creates for every Prometheus and Alertmanager.
    prometheus: KubeMonitor = default(KubeMonitor, selector={"operated-prometheus": "true"}, port="web")
    alertmanager: KubeMonitor = default(KubeMonitor, selector={"operated-alertmanager": "true"}, port="web")


class KubeCollector(Strict):
    mode: Literal["deployment", "daemonset"] = Field(
        "deployment", description="deployment: one collector Deployment every service sends to. daemonset: an "
        "agent on every node, which services on that node send to, forwarding to one gateway Deployment.")
    image: StrictStr | None = Field(None, description="Collector image holding every component the generated config "
                                    "uses (default: the contrib image at obs's pinned collector version).")


class KubeSecrets(Strict):
    """Secrets the team creates (never obs): one key per secret reference of the spec, named after it."""

    alerting: Name = Field("obs-alerting", description="Secret holding the receivers' keys, URLs and passwords.")
    collector: Name = Field("obs-collector", description="Secret holding the collector's TLS files and bearer token.")


class Kubernetes(Strict):
    """deploy/kubernetes: objects for the Prometheus Operator, the OpenTelemetry Operator and Grafana's sidecar."""

    namespace: Name = Field("observability", description="Namespace kustomize puts every object in.")
    name_prefix: KubePrefix = Field("", description="kustomize namePrefix for every object's name.")
    labels: KubeLabels = Field(default_factory=dict, description="Labels kustomize adds to every object.")
    rule_labels: KubeLabels = Field(default_factory=dict, description="Labels on every PrometheusRule: what your "
                                    "Prometheus's ruleSelector matches (kube-prometheus-stack: `release: <release>`).")
    monitor_labels: KubeLabels = Field(default_factory=dict, description="Labels on every ServiceMonitor and "
                                       "PodMonitor, for the Prometheus's serviceMonitorSelector/podMonitorSelector.")
    alertmanager_config_labels: KubeLabels = Field(default_factory=dict, description="Labels on the "
                                                   "AlertmanagerConfig, for the Alertmanager's "
                                                   "alertmanagerConfigSelector.")
    dashboard_labels: KubeLabels = Field(default_factory=lambda: {"grafana_dashboard": "1"}, min_length=1,
                                         description="Labels Grafana's dashboard sidecar looks for.")
    collector: KubeCollector = default(KubeCollector)
    jaeger: HostPort = Field("jaeger-collector:4317", description="The trace backend's OTLP/gRPC receiver as the "
                             "collector reaches it in the cluster.")
    prometheus: HostPort = Field("prometheus-operated:9090", description="Prometheus (host:port) as the collector "
                                 "reaches it in the cluster (push: its OTLP receiver, `enableOTLPReceiver`). Under "
                                 "`topology: ha`, the operator's governing Service, whose SRV records list the "
                                 "replicas' Thanos sidecars.")
    prometheus_name: Name = Field("k8s", description="Under `topology: ha`: the name of your Prometheus object "
                                  "(kube-prometheus: k8s; kube-prometheus-stack: <release>-kube-prom-prometheus). The "
                                  "collector pushes to each replica's pod, prometheus-<name>-<i>, by the governing "
                                  "Service.")
    secrets: KubeSecrets = default(KubeSecrets)
    monitors: KubeMonitors = default(KubeMonitors)
    tenant: Name = Field("anonymous", description="Mimir/Cortex tenant the ruler files "
                                                "under deploy/rulers/cortex/ are for.")


class Dashboards(Strict):
    layout: Literal["templated", "per_service"] = Field(
        "templated", description="templated: an overview, one service, one SLO and one pipeline dashboard, whatever "
        "the number of services; $team, $service and $slo pick what they show. per_service: one dashboard per "
        "service and per SLO (thousands at scale).")


class Spec(Strict):
    version: Literal["obs/v1"]
    project: Name
    stack: Stack = default(Stack)
    services: list[Service] = Field(min_length=1)
    alerting: AlertRouting = default(AlertRouting)
    environments: dict[Name, Environment] = Field(
        default_factory=dict, description="Deployed stacks `obs verify --env NAME` checks (`local` is implicit).")
    kubernetes: Kubernetes = Field(default(Kubernetes), description="Settings of the objects under deploy/kubernetes/.")
    dashboards: Dashboards = Field(default(Dashboards),
                                   description="How the generated Grafana dashboards are laid out.")
    rulers: list[Literal["thanos", "cortex"]] = Field(
        default_factory=list, description="Scale-out rulers to write rule files for, besides Prometheus's: thanos "
        "(Thanos Ruler, deploy/rulers/thanos/) and cortex (the Mimir and Cortex rulers, "
        "deploy/rulers/cortex/<kubernetes.tenant>/). None by default: each is a copy of every rule group.")
