"""`environments:` in the spec: what is accepted, what is refused (located, all at once), how settings merge."""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent, indent

import pytest

from obs.cli import main
from obs.errors import SpecError
from obs.model.environments import EndpointKind
from obs.project import load_text

HEAD = "version: obs/v1\nproject: shop\nservices:\n  - name: api\n"


def spec(environments: str) -> str:
    return HEAD + "environments:\n" + indent(dedent(environments).strip("\n"), "  ") + "\n"


STAGING = """
  staging:
    otlp_http: {url: https://otel.staging.example.com:4318, auth: {bearer_token: {env: OTLP_TOKEN}}}
    prometheus: {url: https://prom.staging.example.com, headers: {X-Scope-OrgID: team-b}, timeout: 30s}
    alertmanager: https://am.staging.example.com
    jaeger: {url: https://jaeger.staging.example.com, tls: {insecure_skip_verify: true}}
    tls: {ca_file: certs/ca.pem}
    auth: {basic: {username: obs, password: {file: secrets/prom-password}}}
    headers: {X-Scope-OrgID: team-a, X-Api-Key: {env: API_KEY}}
"""


def test_an_endpoint_inherits_what_it_does_not_say_and_keeps_what_it_says():
    env = load_text(spec(STAGING), "obs.yaml").environment("staging")
    assert env is not None
    otlp, prom = env.endpoint(EndpointKind.OTLP_HTTP), env.endpoint(EndpointKind.PROMETHEUS)
    jaeger, am = env.endpoint(EndpointKind.JAEGER), env.endpoint(EndpointKind.ALERTMANAGER)
    assert otlp is not None and prom is not None and jaeger is not None and am is not None
    assert otlp.auth is not None and otlp.auth.bearer_token is not None and otlp.auth.bearer_token.env == "OTLP_TOKEN"
    assert am.auth is not None and am.auth.username == "obs"
    assert am.tls is not None and am.tls.ca_file == "certs/ca.pem"
    # An endpoint's `tls:` replaces the environment's whole; its headers merge over the environment's.
    assert jaeger.tls is not None and jaeger.tls.insecure_skip_verify and jaeger.tls.ca_file is None
    assert {h.name: h.value for h in prom.headers} == {"X-Scope-OrgID": "team-b", "X-Api-Key": None}
    assert prom.timeout_s == 30 and am.timeout_s == 10
    assert env.endpoint(EndpointKind.OTLP_GRPC) is None


@pytest.mark.parametrize("written, kubernetes", [("", False), ("    deployed_with: files\n", False),
                                                 ("    deployed_with: kubernetes\n", True)])
def test_an_environment_says_whether_the_operators_run_deploy_kubernetes_there(written, kubernetes):
    env = load_text(spec(STAGING + written), "obs.yaml").environment("staging")
    assert env is not None and env.kubernetes is kubernetes


def test_an_unknown_way_of_deploying_is_refused_where_it_is_written():
    with pytest.raises(SpecError) as info:
        load_text(spec(STAGING + "    deployed_with: helm\n"), "obs.yaml")
    assert "obs.yaml:14:" in str(info.value) and "environments.staging.deployed_with" in str(info.value)


def test_plain_http_without_credentials_is_accepted_and_drops_the_environments_tls():
    env = load_text(spec("""
      dev:
        otlp_http: http://10.0.0.5:4318
        prometheus: http://10.0.0.5:9090
        alertmanager: http://10.0.0.5:9093
        jaeger: http://10.0.0.5:16686
        tls: {ca_file: ca.pem}
    """), "obs.yaml").environment("dev")
    assert env is not None and all(e.tls is None for e in env.endpoints)


def test_credentials_over_plain_http_are_accepted_on_loopback_only():
    text = spec("""
      tunnel:
        otlp_http: http://127.0.0.1:4318
        prometheus: http://localhost:9090
        alertmanager: http://[::1]:9093
        jaeger: http://127.0.0.1:16686
        auth: {bearer_token: {env: TOKEN}}
    """)
    env = load_text(text, "obs.yaml").environment("tunnel")
    assert env is not None and all(e.auth is not None for e in env.endpoints)


BAD = [
    ("credentials over plain http to another host", """
      staging:
        otlp_http: http://otel.example.com:4318
        prometheus: https://prom.example.com
        alertmanager: https://am.example.com
        jaeger: https://jaeger.example.com
        auth: {bearer_token: {env: TOKEN}}
    """, ["obs.yaml:7:5: environments.staging.otlp_http: http://otel.example.com:4318 is plain http:// and this "
          "endpoint sends credentials, which would cross the network in clear; use https://, or drop the credentials "
          "(plain http is accepted only on loopback)"]),
    ("a secret header over plain http", """
      staging:
        otlp_http: {url: http://otel.example.com:4318, headers: {X-Api-Key: {file: key}}}
        prometheus: https://prom.example.com
        alertmanager: https://am.example.com
        jaeger: https://jaeger.example.com
    """, ["obs.yaml:7:5: environments.staging.otlp_http: http://otel.example.com:4318 is plain http:// and this "
          "endpoint sends credentials, which would cross the network in clear; use https://, or drop the credentials "
          "(plain http is accepted only on loopback)"]),
    ("an inline password, an unknown key, half a client certificate, every one at once", """
      staging:
        otlp_http: https://otel.example.com
        prometheus: https://prom.example.com
        alertmanager: https://am.example.com
        jaeger: https://jaeger.example.com
        tls: {cert_file: client.pem}
        auth: {basic: {username: obs, password: hunter2}}
        headrs: {X-Scope-OrgID: a}
    """, ["obs.yaml:11:5: environments.staging.tls: give both `cert_file:` and `key_file:` for a client certificate, "
          "or neither",
          "obs.yaml:12:35: environments.staging.auth.basic.password: secrets must not be written inline; use "
          "`{file: /path/to/secret}` or `{env: VAR_NAME}`",
          "obs.yaml:13:5: environments.staging.headrs: unknown key; remove it"]),
    ("both kinds of auth", """
      staging:
        otlp_http: https://otel.example.com
        prometheus: https://prom.example.com
        alertmanager: https://am.example.com
        jaeger: https://jaeger.example.com
        auth: {bearer_token: {env: T}, basic: {username: u, password: {env: P}}}
    """, ["obs.yaml:11:5: environments.staging.auth: give exactly one of `bearer_token:` or `basic:`"]),
    ("no OTLP endpoint", """
      staging:
        prometheus: https://prom.example.com
        alertmanager: https://am.example.com
        jaeger: https://jaeger.example.com
    """, ["obs.yaml:6:3: environments.staging: give `otlp_http:` (or `otlp_grpc:`): verify sends its probe span "
          "and metric there"]),
    ("an environment named local", """
      local:
        otlp_http: http://127.0.0.1:4318
        prometheus: http://127.0.0.1:9090
        alertmanager: http://127.0.0.1:9093
        jaeger: http://127.0.0.1:16686
    """, ["obs.yaml:6:3: environments.local: `local` is the stack `obs up` runs and is always there; give this "
          "environment another name, such as `staging`"]),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_environment_is_refused_where_it_is_written(case, text, expected, tmp_path, capsys):
    path = tmp_path / "obs.yaml"
    path.write_text(spec(text))
    with pytest.raises(SpecError):
        load_text(path.read_text(), "obs.yaml")
    rc = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert [line.replace(str(tmp_path) + "/", "") for line in err.strip().splitlines()] == expected
    assert "Traceback" not in err


def test_the_repositorys_own_spec_carries_a_commented_example_environment():
    text = (Path(__file__).resolve().parents[2] / "obs.yaml").read_text()
    assert "# environments:" in text and "#   staging:" in text
