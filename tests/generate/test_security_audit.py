"""Security audit of every generated artifact: no secret inline, no default credential, loopback
binds by default, Grafana anonymous access off, and TLS plus auth where the spec exposes receivers.

Audited trees: the repo's obs.yaml, and a spec with every receiver kind, each secret once by
environment variable and once by file. Secret values are sentinels, put in the environment and
in the secret files while generating, and must appear in no generated file.
"""
from __future__ import annotations

import ipaddress
import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from obs.cli import main
from obs.model import conventions as c
from tests.support.paths import REPO

ENV_SECRETS = ("PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL", "PD_ROUTING_KEY", "SLACK_API_URL", "HOOK_URL",
               "SMTP_PASSWORD", "OTLP_BEARER_TOKEN")
FILE_SECRETS = ("pd", "slack", "hook", "smtp")

EVERY_RECEIVER = """\
version: obs/v1
project: audit
stack:
  receivers:
    bearer_token: {{env: OTLP_BEARER_TOKEN}}
services:
  - name: api
    http: true
    slos: [{{name: up, objective: 99.9, sli: {{availability: {{}}}}}}]
alerting:
  receivers:
    - {{name: pd-env, pagerduty: {{routing_key: {{env: PD_ROUTING_KEY}}}}}}
    - {{name: pd-file, pagerduty: {{routing_key: {{file: {secrets}/pd}}}}}}
    - {{name: slack-env, slack: {{api_url: {{env: SLACK_API_URL}}, channel: "#a"}}}}
    - {{name: slack-file, slack: {{api_url: {{file: {secrets}/slack}}, channel: "#b"}}}}
    - {{name: hook-env, webhook: {{url_secret: {{env: HOOK_URL}}}}}}
    - {{name: hook-file, webhook: {{url_secret: {{file: {secrets}/hook}}}}}}
    - {{name: hook-plain, webhook: {{url: "http://127.0.0.1:9/hook"}}}}
    - name: mail-env
      email: {{to: a@example.com, from: obs@example.com, smarthost: "smtp.example.com:587", auth_username: obs,
              auth_password: {{env: SMTP_PASSWORD}}}}
    - name: mail-file
      email: {{to: a@example.com, from: obs@example.com, smarthost: "smtp.example.com:587", auth_username: obs,
              auth_password: {{file: {secrets}/smtp}}}}
  routes:
    - {{match: {{severity: page}}, receiver: pd-env}}
    - {{match: {{severity: ticket}}, receiver: slack-file}}
"""
# Which config field must hold the file reference, and which must never appear, per receiver.
SECRET_FIELDS = {"pd-env": ("pagerduty_configs", "routing_key_file", ("routing_key", "service_key")),
                 "pd-file": ("pagerduty_configs", "routing_key_file", ("routing_key", "service_key")),
                 "slack-env": ("slack_configs", "api_url_file", ("api_url",)),
                 "slack-file": ("slack_configs", "api_url_file", ("api_url",)),
                 "hook-env": ("webhook_configs", "url_file", ("url",)),
                 "hook-file": ("webhook_configs", "url_file", ("url",)),
                 "mail-env": ("email_configs", "auth_password_file", ("auth_password",)),
                 "mail-file": ("email_configs", "auth_password_file", ("auth_password",))}
SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|routing_key|service_key|credentials|api_url)$",
                        re.IGNORECASE)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def sentinel(name: str) -> str:
    return f"sentinel-{name.lower()}-5b1e9c"


def generate(which: str, tmp_path: Path, monkeypatch, capsys) -> tuple[Path, dict[str, bytes]]:
    """The generated tree of one audited spec, generated with sentinel secrets in env and files."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in FILE_SECRETS:
        (secrets / name).write_text(sentinel("file-" + name))
    for name in ENV_SECRETS:
        monkeypatch.setenv(name, sentinel(name))
    spec = tmp_path / "obs.yaml"
    if which == "repo":
        shutil.copy(REPO / "obs.yaml", spec)
    else:
        spec.write_text(EVERY_RECEIVER.format(secrets=secrets))
    assert main(["generate", str(spec), "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert files
    return secrets, files


@pytest.fixture(params=["repo", "every-receiver"])
def files(request, tmp_path, monkeypatch, capsys) -> dict[str, bytes]:
    return generate(request.param, tmp_path, monkeypatch, capsys)[1]


def documents(files: dict[str, bytes]):
    """Every generated YAML or JSON artifact, parsed."""
    for rel, raw in files.items():
        if rel.endswith((".yml", ".yaml")):
            yield rel, YAML(typ="safe", pure=True).load(raw.decode())
        elif rel.endswith(".json"):
            yield rel, json.loads(raw)


def walk(node, path=()):
    """(path, key, value) for every mapping entry, and (path, None, item) for every list item."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path, None, v
            yield from walk(v, path + (i,))


def leaked_secrets(files: dict[str, bytes]) -> list:
    sentinels = [sentinel(n) for n in ENV_SECRETS] + [sentinel("file-" + n) for n in FILE_SECRETS]
    return [(rel, s) for rel, raw in files.items() for s in sentinels if s.encode() in raw]


def test_no_secret_value_from_the_environment_or_a_secret_file_appears_in_any_generated_file(files):
    assert leaked_secrets(files) == []


def test_every_receiver_secret_is_referenced_by_file_in_every_alertmanager_config(tmp_path, monkeypatch, capsys):
    secrets, files = generate("every-receiver", tmp_path, monkeypatch, capsys)
    by_file = {"pd-file": "pd", "slack-file": "slack", "hook-file": "hook", "mail-file": "smtp"}
    by_env = {"pd-env": "PD_ROUTING_KEY", "slack-env": "SLACK_API_URL", "hook-env": "HOOK_URL",
              "mail-env": "SMTP_PASSWORD"}
    for rel in (c.ALERTMANAGER_CONFIG, c.COMPOSE_ALERTMANAGER_CONFIG, c.ALERTMANAGER_LOCAL_CONFIG):
        config = YAML(typ="safe", pure=True).load(files[rel].decode())
        receivers = {r["name"]: r for r in config["receivers"]}
        for name, (kind, field, forbidden) in SECRET_FIELDS.items():
            (cfg,) = receivers[name][kind]
            assert not set(forbidden) & set(cfg), (rel, name, cfg)
            # Production: the spec's file, or where `obs up` writes the env secret. Email keeps its real
            # smarthost and password locally too (there is no contract receiver for SMTP).
            if rel == c.ALERTMANAGER_CONFIG or kind == "email_configs":
                expected = str(secrets / by_file[name]) if name in by_file else c.secret_file(by_env[name])
                assert cfg[field] == expected, (name, cfg)
            else:   # the local overlays read stand-ins `obs up` writes, never the real secret
                assert cfg[field] == c.local_stand_in_file(kind.split("_")[0], name), (name, cfg)
        hook = receivers["hook-plain"]["webhook_configs"][0]
        assert hook == ({"url": "http://127.0.0.1:9/hook", "send_resolved": True} if rel == c.ALERTMANAGER_CONFIG
                        else {"url_file": c.local_stand_in_file("webhook", "hook-plain"), "send_resolved": True})


def literal_credentials(files: dict[str, bytes]) -> list:
    found = []
    for rel, doc in documents(files):
        for path, key, value in walk(doc):
            if isinstance(key, str) and SECRET_KEY.search(key) and isinstance(value, (str, int)) and value != "":
                found.append((rel, path, key, value))
            if key is None and isinstance(value, str) and re.match(r"^[A-Z0-9_]*(PASSWORD|TOKEN|SECRET)[A-Z0-9_]*=.",
                                                                     value):
                found.append((rel, path, value))   # KEY=value in a compose environment list
    texts = {rel: raw.decode("utf-8", "replace") for rel, raw in files.items()}
    found += [(rel, "admin:admin") for rel, text in texts.items() if "admin:admin" in text]
    found += [(rel, "GF_SECURITY_ADMIN_PASSWORD literal") for rel, text in texts.items()
              if re.search(r"GF_SECURITY_ADMIN_PASSWORD\s*[=:]", text)]
    return found


def test_no_credential_is_written_as_a_literal_value(files):
    assert literal_credentials(files) == []


def _host(address: str) -> str:
    if "://" in address:
        return urlsplit(address).hostname or ""
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return host.strip("[]")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def published_host(port: object) -> str:
    """The host address a compose port is published on; "8080:80" and "80" mean every interface."""
    if isinstance(port, dict):
        return str(port.get("host_ip", "0.0.0.0"))
    parts = str(port).split(":")
    return ":".join(parts[:-2]).strip("[]") if len(parts) >= 3 else "0.0.0.0"


def exposed_listeners(files: dict[str, bytes]) -> list:
    compose = YAML(typ="safe", pure=True).load(files[c.COMPOSE_FILE].decode())
    exposed = [(c.COMPOSE_FILE, name, "network_mode: host") for name, service in compose["services"].items()
               if service.get("network_mode") == "host"]
    exposed += [(c.COMPOSE_FILE, name, port) for name, service in compose["services"].items()
                for port in service.get("ports", []) if not _is_loopback(published_host(port))]
    for rel, doc in documents(files):
        if not rel.startswith("deploy/") or rel.startswith(("deploy/compose/", c.KUBERNETES_DIR + "/")):
            # compose variants listen on 0.0.0.0 inside their container (only published ports count); pods listen
            # on their own IP (the next test)
            continue
        for path, key, value in walk(doc):
            if key in ("endpoint", "host", "listen_address", "address") and isinstance(value, str):
                if not _is_loopback(_host(value)):
                    exposed.append((rel, path, key, value))
    return exposed


def test_every_published_port_and_native_listener_binds_loopback_by_default(files):
    compose = YAML(typ="safe", pure=True).load(files[c.COMPOSE_FILE].decode())
    assert any(s.get("ports") for s in compose["services"].values())
    assert exposed_listeners(files) == []


def test_collector_pods_listen_on_their_own_ip_never_on_every_interface(files):
    listeners = [(rel, path, value) for rel, doc in documents(files) if rel.startswith(c.KUBERNETES_DIR + "/collector/")
                 for path, key, value in walk(doc)
                 if (key == "endpoint" and ("receivers" in path or "health_check" in path))
                 or (key == "host" and "telemetry" in path)]
    assert listeners
    pod_ip = "${env:" + c.KUBE_POD_IP_ENV + "}"
    assert [x for x in listeners if not str(x[2]).startswith(pod_ip)] == []


def test_grafana_anonymous_access_is_off(files):
    compose = YAML(typ="safe", pure=True).load(files[c.COMPOSE_FILE].decode())
    grafana = compose["services"]["grafana"]
    env = grafana.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    assert str(env.get("GF_AUTH_ANONYMOUS_ENABLED", "false")).lower() == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE" in env or "GF_SECURITY_ADMIN_PASSWORD" not in env
    on = [(rel, path, key) for rel, doc in documents(files) for path, key, value in walk(doc)
          if isinstance(key, str) and "anonymous" in key.lower() and str(value).lower() in ("true", "1")]
    assert on == []


def test_receivers_exposed_beyond_loopback_get_the_tls_and_bearer_auth_the_spec_asks_for(tmp_path, monkeypatch,
                                                                                     capsys):
    monkeypatch.setenv("OTLP_TOKEN", sentinel("otlp-token"))
    spec = tmp_path / "obs.yaml"
    spec.write_text("version: obs/v1\nproject: edge\nstack:\n  receivers:\n    bind: 0.0.0.0\n"
                    "    tls: {cert_file: /etc/obs/tls.crt, key_file: /etc/obs/tls.key}\n"
                    "    bearer_token: {env: OTLP_TOKEN}\nservices: [{name: api}]\n")
    assert main(["generate", str(spec)]) == 0
    capsys.readouterr()
    for rel in (c.OTELCOL_CONFIG, c.COMPOSE_OTELCOL_CONFIG):
        text = (tmp_path / rel).read_text()
        assert sentinel("otlp-token") not in text
        config = YAML(typ="safe", pure=True).load(text)
        protocols = config["receivers"]["otlp"]["protocols"]
        for proto in ("grpc", "http"):
            receiver = protocols[proto]
            assert receiver["tls"] == {"cert_file": "/etc/obs/tls.crt", "key_file": "/etc/obs/tls.key"}
            extension = receiver["auth"]["authenticator"]
            assert extension in config["service"]["extensions"]
            assert config["extensions"][extension]["filename"] == c.secret_file("OTLP_TOKEN")
        assert _host(protocols["grpc"]["endpoint"]) == "0.0.0.0"
    manifest = (tmp_path / c.OTELCOL_MANIFEST).read_text()
    assert "bearertokenauthextension" in manifest
    compose = YAML(typ="safe", pure=True).load((tmp_path / c.COMPOSE_FILE).read_text())
    ports = [p for s in compose["services"].values() for p in s.get("ports", [])]
    widened = sorted(p for p in ports if not p.startswith("127.0.0.1:"))
    assert widened == ["0.0.0.0:4317:4317", "0.0.0.0:4318:4318"]   # only the receivers the spec widened


def test_the_audit_itself_catches_each_kind_of_violation():
    """The checks above must be able to fail: a tree with one of each violation is flagged by each."""
    bad = {
        c.COMPOSE_FILE: (b"services:\n  grafana:\n    environment: [GF_SECURITY_ADMIN_PASSWORD=admin]\n"
                         b"    ports: ['3000:3000', '127.0.0.1:9090:9090', {target: 80, published: 8080}]\n"
                         b"  prom:\n    network_mode: host\n"),
        c.ALERTMANAGER_CONFIG: (b"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: "
                                + sentinel("PD_ROUTING_KEY").encode() + b"\n"),
        c.OTELCOL_CONFIG: b"receivers:\n  otlp:\n    protocols:\n      grpc: {endpoint: '0.0.0.0:4317'}\n",
        c.JAEGER_CONFIG: b"extensions:\n  q: {http: {endpoint: ':16686'}}\n",
    }
    assert leaked_secrets(bad) == [(c.ALERTMANAGER_CONFIG, sentinel("PD_ROUTING_KEY"))]
    credentials = [str(f) for f in literal_credentials(bad)]
    assert any(c.ALERTMANAGER_CONFIG in f and "'routing_key'" in f for f in credentials)
    assert any(c.COMPOSE_FILE in f and "GF_SECURITY_ADMIN_PASSWORD=admin" in f for f in credentials)
    assert sorted(str(f[-1]) for f in exposed_listeners(bad)) == sorted([
        "network_mode: host", "3000:3000", "{'target': 80, 'published': 8080}", "0.0.0.0:4317", ":16686"])
