"""The spec's `environments:` as model environments: an endpoint's own settings over its environment's."""
from __future__ import annotations

from obs.errors import Problem
from obs.model.domain import Secret
from obs.model.durations import Duration
from obs.model.environments import (
    DEFAULT_TIMEOUT_S,
    LOCAL,
    ClientTLS,
    Credentials,
    Endpoint,
    EndpointKind,
    Environment,
    Header,
    is_loopback,
)
from obs.spec import v1


def _secret(ref: v1.SecretRef) -> Secret:
    return Secret(file=ref.file, env=ref.env)


def _tls(t: v1.ClientTLS | None) -> ClientTLS | None:
    if t is None:
        return None
    return ClientTLS(t.ca_file, t.cert_file, t.key_file, t.server_name, t.insecure_skip_verify)


def _auth(a: v1.ClientAuth | None) -> Credentials | None:
    if a is None:
        return None
    if a.bearer_token is not None:
        return Credentials(bearer_token=_secret(a.bearer_token))
    assert a.basic is not None   # the schema requires exactly one
    return Credentials(username=a.basic.username, password=_secret(a.basic.password))


def _endpoint(kind: EndpointKind, env: v1.Environment, raw: v1.EndpointField, path: str) -> Endpoint:
    own = raw if isinstance(raw, v1.Endpoint) else None
    url = raw if isinstance(raw, str) else raw.url
    # Key by key: an endpoint that says `tls:` replaces the environment's TLS block whole; headers merge.
    env_path = path.rsplit(".", 1)[0]
    own_tls = own is not None and "tls" in own.model_fields_set
    own_auth = own is not None and "auth" in own.model_fields_set
    tls = own.tls if own is not None and own_tls else env.tls
    if url.startswith("http://") and not own_tls:
        tls = None   # the environment's TLS is for its https:// endpoints
    auth = own.auth if own is not None and own_auth else env.auth
    timeout = own.timeout if own is not None and own.timeout is not None else env.timeout
    own_headers = own.headers if own is not None else {}
    headers = {**env.headers, **own_headers}

    def header(name: str, v: str | v1.SecretRef) -> Header:
        where = f"{path if name in own_headers else env_path}.headers.{name}"
        return Header(name, value=v, spec_path=where) if isinstance(v, str) else \
            Header(name, secret=_secret(v), spec_path=where)

    return Endpoint(
        kind=kind, url=url, tls=_tls(tls), auth=_auth(auth),
        headers=tuple(header(k, v) for k, v in headers.items()),
        timeout_s=Duration.parse(timeout).s if timeout else DEFAULT_TIMEOUT_S,
        spec_path=path, tls_path=f"{path if own_tls else env_path}.tls",
        auth_path=f"{path if own_auth else env_path}.auth",
    )


def build(spec: v1.Spec) -> tuple[tuple[Environment, ...], list[Problem]]:
    problems: list[Problem] = []
    out = []
    for name, env in spec.environments.items():
        base = f"environments.{name}"
        if name == LOCAL:
            problems.append(Problem(base, "`local` is the stack `obs up` runs and is always there; give this "
                                          "environment another name, such as `staging`"))
            continue
        endpoints = []
        for kind in EndpointKind:
            raw = getattr(env, kind.value)
            if raw is None:
                continue
            ep = _endpoint(kind, env, raw, f"{base}.{kind.value}")
            endpoints.append(ep)
            if ep.sends_credentials and not ep.secure and not is_loopback(ep.host):
                problems.append(Problem(ep.spec_path, f"{ep.url} is plain http:// and this endpoint sends credentials, "
                                        "which would cross the network in clear; use https://, or drop the "
                                        "credentials (plain http is accepted only on loopback)"))
            if ep.tls is not None and not ep.secure:
                problems.append(Problem(ep.spec_path, f"{ep.url} is plain http:// but has `tls:` settings; use "
                                        "https:// or drop `tls:`"))
        out.append(Environment(name, tuple(endpoints), env.description, env.deployed_with == "kubernetes"))
    return tuple(out), problems
