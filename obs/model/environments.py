"""Deployed stacks obs verifies from outside: each endpoint's URL, TLS, credentials (by reference), headers.

An environment is data only: nothing here opens a file or a socket. `local` is implicit: the stack `obs up`
runs, reached at the model's own addresses, and is never written here.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from ipaddress import ip_address
from urllib.parse import urlsplit

from obs.model.domain import Secret

LOCAL = "local"
DEFAULT_TIMEOUT_S = 10.0


class EndpointKind(str, Enum):
    OTLP_HTTP = "otlp_http"
    OTLP_GRPC = "otlp_grpc"
    PROMETHEUS = "prometheus"
    ALERTMANAGER = "alertmanager"
    JAEGER = "jaeger"
    RECEIVERS = "receivers"


@dataclass(frozen=True)
class ClientTLS:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class Credentials:
    """Exactly one of a bearer token and basic auth (username plus password)."""

    bearer_token: Secret | None = None
    username: str | None = None
    password: Secret | None = None


@dataclass(frozen=True)
class Header:
    name: str
    value: str | None = None           # a plain value (a tenant), or
    secret: Secret | None = None       # one read at run time
    spec_path: str = ""                # where it is written (the endpoint's or the environment's headers)


@dataclass(frozen=True)
class Endpoint:
    kind: EndpointKind
    url: str
    tls: ClientTLS | None
    auth: Credentials | None
    headers: tuple[Header, ...]
    timeout_s: float
    spec_path: str                     # where it is written, e.g. environments.staging.prometheus
    tls_path: str = ""                 # where its TLS and auth settings are written: its own, or the environment's
    auth_path: str = ""

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def secure(self) -> bool:
        return self.url.startswith("https://")

    @property
    def sends_credentials(self) -> bool:
        return self.auth is not None or any(h.secret is not None for h in self.headers)


@dataclass(frozen=True)
class Environment:
    name: str
    endpoints: tuple[Endpoint, ...]
    description: str | None = None
    kubernetes: bool = False        # deployed from deploy/kubernetes through the operators

    def endpoint(self, kind: EndpointKind) -> Endpoint | None:
        return next((e for e in self.endpoints if e.kind == kind), None)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
