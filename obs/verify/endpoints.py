"""Where verify reaches each component of the stack, from the model's bind address and ports."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from obs.errors import Problem, SpecError
from obs.model import conventions as c
from obs.model.domain import Model, Secret
from obs.model.environments import LOCAL, EndpointKind, Environment
from obs.model.network import host_port, reach
from obs.stack.components import http_url, urls
from obs.verify.connection import LOCAL as LOCAL_SETTINGS
from obs.verify.connection import Settings, read_secret_into, settings


@dataclass(frozen=True)
class Endpoints:
    otlp_http: str               # base URL of the collector's OTLP/HTTP receiver
    otlp_headers: dict[str, str]
    otlp_ca_file: str | None
    collector_health: str
    collector_metrics: str
    jaeger: str
    prometheus: str
    alertmanager: str
    sink_host: str
    sink_port: int
    verify_metrics_port: int
    bind: str
    env: str = LOCAL
    # A deployed environment's TLS, credentials and headers, per component (none for the local stack).
    settings: dict[EndpointKind, Settings] = field(default_factory=dict)
    insecure: tuple[str, ...] = ()           # endpoints whose certificate is not checked, to be reported
    # `topology: ha`: the other replicas, asked in turn when one does not answer (any of them has every alert).
    prometheus_replicas: tuple[str, ...] = ()
    alertmanager_replicas: tuple[str, ...] = ()

    @property
    def deployed(self) -> bool:
        return self.env != LOCAL

    def settings_for(self, kind: EndpointKind) -> Settings:
        return self.settings.get(kind, LOCAL_SETTINGS)

    @property
    def otlp_setting(self) -> str | None:
        """Where the spec names a deployed environment's OTLP endpoint, its credentials and TLS (None locally)."""
        return f"environments.{self.env}.{EndpointKind.OTLP_HTTP.value}" if self.deployed else None

    @property
    def sink_url(self) -> str:
        return f"http://{host_port(self.sink_host, self.sink_port)}"


def read_secret(secret: Secret, base: Path) -> str:
    """The local stack's receiver token (raises SpecError when it cannot be read)."""
    if secret.env is not None and secret.env not in os.environ:
        # `obs up` writes env secrets to a file under the state dir; read it from there if the env is gone.
        path = base / c.secret_file(secret.env)
        if path.is_file():
            return path.read_text().strip()
    problems: list[Problem] = []
    value = read_secret_into(secret, base, "stack.receivers.bearer_token", problems)
    if value is None:
        raise SpecError("obs.yaml", problems)
    return value


def endpoints(model: Model, base: Path = Path(".")) -> Endpoints:
    """URLs as obs.stack.components gives them to `obs status`, plus what a probe needs to send OTLP."""
    st = model.stack
    u = urls(model)
    headers = {}
    if st.receivers_bearer is not None:
        headers["Authorization"] = f"Bearer {read_secret(st.receivers_bearer, base)}"
    ca = None
    if st.receivers_tls is not None:
        # The receiver's own certificate doubles as the CA that signed it when it is self-signed.
        ca_path = Path(st.receivers_tls.cert_file).expanduser()
        ca = str(ca_path if ca_path.is_absolute() else base / ca_path)
    return Endpoints(
        otlp_http=u["otlp_http"], otlp_headers=headers, otlp_ca_file=ca,
        collector_health=u["collector_health"], collector_metrics=u["collector_metrics"],
        jaeger=u["jaeger_query"], prometheus=u["prometheus"], alertmanager=u["alertmanager"],
        sink_host=reach(st.bind), sink_port=st.ports["verify_sink"], verify_metrics_port=st.ports["verify_metrics"],
        bind=st.bind,
        # Under `topology: ha` the verifier reads Thanos Query, and each replica directly should Query not answer.
        prometheus_replicas=tuple(http_url(st.bind, p) for p in st.replica_ports("prometheus")) if st.ha else (),
        alertmanager_replicas=tuple(http_url(st.bind, p) for p in st.replica_ports("alertmanager")[1:]),
    )


def environment_endpoints(model: Model, env: Environment, base: Path) -> Endpoints:
    """A deployed environment's endpoints. Raises SpecError listing every secret or file that cannot be read."""
    problems: list[Problem] = []
    conf = {ep.kind: settings(ep, base, problems) for ep in env.endpoints}
    if problems:
        raise SpecError(model.source, problems)

    def url(kind: EndpointKind) -> str:
        ep = env.endpoint(kind)
        return ep.base if ep is not None else ""

    otlp = conf.get(EndpointKind.OTLP_HTTP, LOCAL_SETTINGS)
    st = model.stack
    return Endpoints(
        otlp_http=url(EndpointKind.OTLP_HTTP), otlp_headers=dict(otlp.headers),
        otlp_ca_file=otlp.verify if isinstance(otlp.verify, str) else None,
        # A deployed collector's health and own metrics are not published; diagnosis does without them.
        collector_health="", collector_metrics="",
        jaeger=url(EndpointKind.JAEGER), prometheus=url(EndpointKind.PROMETHEUS),
        alertmanager=url(EndpointKind.ALERTMANAGER),
        sink_host=reach(st.bind), sink_port=st.ports["verify_sink"], verify_metrics_port=st.ports["verify_metrics"],
        bind=st.bind, env=env.name, settings=conf,
        insecure=tuple(ep.url for ep in env.endpoints if ep.tls is not None and ep.tls.insecure_skip_verify),
    )
