"""A secured deployment of the real stack, for `obs verify --env`: TLS on every endpoint, a bearer token on the
collector's OTLP receivers, basic auth on Prometheus and Alertmanager.

Everything comes from the configs `obs generate` writes for the spec, patched only where a deployment would
patch them: Jaeger's query API gets a certificate, Prometheus gets a web config and reaches the secured
Alertmanager over https with credentials, rule files are copied beside the running Prometheus (so a test can
change one, as a hand edit on a server would). Alertmanager runs the production configuration, whose
receivers are a closed local port (nothing pages) and a local heartbeat server.

Certificates are made here with `cryptography`: a CA, a server certificate for 127.0.0.1 and localhost signed
by it, the same server certificate already expired, and an unrelated second CA.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import shutil
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import bcrypt
import requests
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ruamel.yaml import YAML

from obs.commands.generate import generate
from obs.generate.configs.prometheus import required_flags
from obs.model import conventions as c
from obs.model.domain import Model
from obs.project import load_model
from obs.stack import build
from tests.support.stack_spec import free_ports, port_is_free

USER = "obs"
ENV = "secured"
# How long one component may take to start before the environment is declared broken (not a test assertion).
START_TIMEOUT_S = 90.0

# -- certificates --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server: Path
    server_key: Path
    expired: Path                 # the same names, signed by the same CA, no longer valid
    expired_key: Path
    other_ca: Path                # signed nothing this environment serves


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _ca(common: str, now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common)).issuer_name(_name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _server(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, not_before: dt.datetime,
            not_after: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None,
           key_path: Path | None = None) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None and key_path is not None:
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)


def make_certificates(directory: Path) -> Certificates:
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key, ca = _ca("obs test CA", now)
    _, other = _ca("an unrelated CA", now)
    key, cert = _server(ca_key, ca, now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    old_key, old = _server(ca_key, ca, now - dt.timedelta(days=30), now - dt.timedelta(days=1))
    certs = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key",
                         directory / "expired.pem", directory / "expired.key", directory / "other-ca.pem")
    _write(certs.ca, ca)
    _write(certs.other_ca, other)
    _write(certs.server, cert, key, certs.server_key)
    _write(certs.expired, old, old_key, certs.expired_key)
    return certs


# -- secrets and the spec ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secrets:
    password: str
    token: str
    password_file: Path
    token_file: Path
    heartbeat_url_file: Path


def make_secrets(directory: Path, heartbeat_url: str) -> Secrets:
    directory.mkdir(parents=True, exist_ok=True)
    s = Secrets(f"pw-{secrets.token_hex(12)}", f"tok-{secrets.token_hex(16)}", directory / "password",
                directory / "otlp-token", directory / "heartbeat-url")
    for path, value in ((s.password_file, s.password), (s.token_file, s.token), (s.heartbeat_url_file, heartbeat_url)):
        path.write_text(value + "\n")
        path.chmod(0o600)
    return s


def spec_text(ports: dict[str, int], certs: Certificates, sec: Secrets, closed_port: int) -> str:
    """The spec: fast profile, metrics pulled (the collector never authenticates to Prometheus), the OTLP
    receivers behind TLS and a bearer token, a webhook to a closed port, and the `secured` environment."""
    port_lines = "\n".join(f"    {k}: {v}" for k, v in ports.items())
    basic = f"auth: {{basic: {{username: {USER}, password: {{file: {sec.password_file}}}}}}}"
    return f"""\
version: obs/v1
project: secured-test
stack:
  profile: fast
  metrics: pull
  receivers:
    tls: {{cert_file: {certs.server}, key_file: {certs.server_key}}}
    bearer_token: {{file: {sec.token_file}}}
  ports:
{port_lines}
services:
  - name: checkout
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli:
          availability: {{}}
alerting:
  receivers:
    - name: oncall
      webhook:
        url: http://127.0.0.1:{closed_port}/page
  heartbeat:
    url: {{file: {sec.heartbeat_url_file}}}
environments:
  {ENV}:
    description: the stack of this test, behind TLS and credentials
    tls: {{ca_file: {certs.ca}}}
    otlp_http:
      url: https://127.0.0.1:{ports["otlp_http"]}
      auth: {{bearer_token: {{file: {sec.token_file}}}}}
    prometheus:
      url: https://127.0.0.1:{ports["prometheus"]}
      {basic}
    alertmanager:
      url: https://127.0.0.1:{ports["alertmanager"]}
      {basic}
    jaeger: https://127.0.0.1:{ports["jaeger_query"]}
"""


def variant(spec: Path, directory: Path, replace: dict[str, str]) -> Path:
    """A copy of the spec in a directory of its own, each `old` replaced by `new` wherever it occurs (every path in
    the spec is absolute, so the copy reads the same files)."""
    text = spec.read_text()
    for old, new in replace.items():
        assert old in text, f"{old!r} is not in the spec"
        text = text.replace(old, new)
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / "obs.yaml"
    copy.write_text(text)
    return copy


# -- the heartbeat -------------------------------------------------------------------------------------------


class Heartbeat:
    """A dead man's switch of our own: keeps what Alertmanager posts to it."""

    def __init__(self, port: int):
        received: list[bytes] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/heartbeat"
        self.thread = threading.Thread(target=self.server.serve_forever, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.thread.start()
        return self

    def watchdogs(self) -> int:
        return sum(1 for body in list(self.received) if c.WATCHDOG_ALERT.encode() in body)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- processes -----------------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _load(path: Path) -> Any:
    return YAML().load(path.read_text())


def _dump(doc: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        YAML().dump(doc, f)


@dataclass
class Secured:
    """The four components, secured, on the spec's ports; `run` holds every patched config, data dir and log."""

    spec: Path
    certs: Certificates
    secrets: Secrets
    heartbeat: Heartbeat
    closed_port: int              # the paging webhook's: nothing listens there
    model: Model = field(init=False)
    out: Path = field(init=False)
    run: Path = field(init=False)
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model = load_model(self.spec)
        self.out = self.spec.parent
        self.run = self.out.parent / "run"

    # -- addresses and clients

    def port(self, key: str) -> int:
        return int(self.model.stack.ports[key])

    def spare_port(self) -> int:
        """A free port none of the environment's addresses uses, for a second instance beside it."""
        taken = {*self.model.stack.ports.values(), self.closed_port, self.heartbeat.server.server_port}
        return spare_ports(taken, 1)[0]

    def url(self, key: str, port: int | None = None) -> str:
        return f"https://127.0.0.1:{port or self.port(key)}"

    def get(self, url: str, check_certificate: bool = True) -> requests.Response:
        """With the right CA and credentials. `verify` goes with the request: requests lets REQUESTS_CA_BUNDLE
        replace a session's own."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return requests.get(url, verify=str(self.certs.ca) if check_certificate else False,
                                auth=(USER, self.secrets.password), timeout=5)

    @property
    def rules_dir(self) -> Path:
        return self.run / "prometheus" / "rules"

    # -- configs

    def web_config(self, name: str, cert: Path, key: Path) -> Path:
        """exporter-toolkit's web config (Prometheus, Alertmanager): TLS and basic auth with a bcrypt hash."""
        hashed = bcrypt.hashpw(self.secrets.password.encode(), bcrypt.gensalt(rounds=4)).decode()
        path = self.run / f"{name}-web.yml"
        _dump({"tls_server_config": {"cert_file": str(cert), "key_file": str(key)},
               "basic_auth_users": {USER: hashed}}, path)
        return path

    def _client(self) -> dict[str, Any]:
        return {"scheme": "https", "tls_config": {"ca_file": str(self.certs.ca)},
                "basic_auth": {"username": USER, "password_file": str(self.secrets.password_file)}}

    def prometheus_config(self) -> Path:
        """The generated prometheus.yml, its rule files copied beside it, every secured peer reached over https
        with credentials (Alertmanager for alerts; Prometheus and Alertmanager for their own metrics)."""
        doc = _load(self.out / c.PROMETHEUS_CONFIG)
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        for rules in sorted((self.out / c.ALERTS_DIR).glob("*.rules.yml")):
            shutil.copyfile(rules, self.rules_dir / rules.name)
        doc["rule_files"] = [str(self.rules_dir / "*.rules.yml")]
        for am in doc["alerting"]["alertmanagers"]:
            am.update(self._client())
        for job in doc["scrape_configs"]:
            if job["job_name"] in ("prometheus", "alertmanager"):
                job.update(self._client())
        path = self.run / "prometheus" / "prometheus.yml"
        _dump(doc, path)
        return path

    def jaeger_config(self) -> Path:
        doc = _load(self.out / c.JAEGER_CONFIG)
        doc["extensions"]["jaeger_query"]["http"]["tls"] = {"cert_file": str(self.certs.server),
                                                            "key_file": str(self.certs.server_key)}
        path = self.run / "jaeger" / "config.yaml"
        _dump(doc, path)
        return path

    # -- starting

    def _spawn(self, name: str, argv: list[str]) -> Process:
        log = self.run / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as f:
            popen = subprocess.Popen(argv, cwd=self.out, stdout=f, stderr=subprocess.STDOUT)
        proc = self.processes[name] = Process(name, popen, log)
        return proc

    def _until(self, proc: Process, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode} before {what}:\n{proc.tail()}")
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{proc.name} not {what} after {START_TIMEOUT_S:g}s:\n{proc.tail()}")

    def _answers(self, url: str, check_certificate: bool = True) -> bool:
        return self.get(url, check_certificate).status_code == 200

    def start_alertmanager(self, name: str = "alertmanager", port: int | None = None, expired: bool = False) -> Process:
        """The production alertmanager.yml behind TLS (the expired certificate if asked) and basic auth,
        clustering off (one instance)."""
        port = port or self.port("alertmanager")
        cert, key = ((self.certs.expired, self.certs.expired_key) if expired
                     else (self.certs.server, self.certs.server_key))
        proc = self._spawn(name, [
            str(build.binary_path("alertmanager")),
            "--config.file", str(self.out / c.ALERTMANAGER_CONFIG),
            "--storage.path", str(self.run / name / "data"),
            "--web.listen-address", f"127.0.0.1:{port}",
            "--web.config.file", str(self.web_config(name, cert, key)),
            "--cluster.listen-address=",
            f"--data.maintenance-interval={self.model.stack.timing.state_snapshot}",
        ])
        # An expired certificate is what that instance is for: its readiness is read without checking it.
        self._until(proc, "ready", lambda: self._answers(f"{self.url('alertmanager', port)}/-/ready",
                                                          check_certificate=not expired))
        return proc

    def start(self) -> Secured:
        bins = build.ensure(["jaeger", "prometheus", "alertmanager"])
        otelcol = build.ensure(["otelcol"], manifest=self.out / c.OTELCOL_MANIFEST)["otelcol"]
        jaeger = self._spawn("jaeger", [str(bins["jaeger"]), "--config", str(self.jaeger_config())])
        self._until(jaeger, "serving its query API over TLS",
                    lambda: self._answers(f"{self.url('jaeger_query')}/api/services"))
        self.start_alertmanager()
        prometheus = self._spawn("prometheus", [
            str(bins["prometheus"]),
            "--config.file", str(self.prometheus_config()),
            "--storage.tsdb.path", str(self.run / "prometheus" / "data"),
            "--web.listen-address", f"127.0.0.1:{self.port('prometheus')}",
            "--web.config.file", str(self.web_config("prometheus", self.certs.server, self.certs.server_key)),
            "--web.enable-lifecycle",
            *required_flags(self.model),
        ])
        self._until(prometheus, "ready", lambda: self._answers(f"{self.url('prometheus')}/-/ready"))
        collector = self._spawn("otelcol", [str(otelcol), "--config", str(self.out / c.OTELCOL_CONFIG)])
        health = f"http://127.0.0.1:{self.port('collector_health')}/"
        self._until(collector, "healthy", lambda: requests.get(health, timeout=2).status_code == 200)
        # Up, as a deployed stack is: Prometheus scrapes the collector's exporter (it applies new targets only
        # every few seconds after a start) and the always-firing Watchdog went Prometheus -> Alertmanager (both
        # secured) -> the heartbeat.
        self._until(prometheus, "scraping the collector", self._scrapes_the_collector)
        self._until(prometheus, "delivering the Watchdog to the heartbeat", lambda: self.heartbeat.watchdogs() > 0)
        return self

    def _scrapes_the_collector(self) -> bool:
        targets = self.get(f"{self.url('prometheus')}/api/v1/targets").json()["data"]["activeTargets"]
        return any(t["labels"].get("job") == c.JOB_OTELCOL_EXPORTER and t["health"] == "up" for t in targets)

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop()

    # -- what a test changes

    def reload_prometheus(self) -> None:
        self.processes["prometheus"].popen.send_signal(signal.SIGHUP)   # rereads its config and rule files

    def rule_query(self, rule: str) -> str | None:
        r = self.get(f"{self.url('prometheus')}/api/v1/rules")
        r.raise_for_status()
        for group in r.json()["data"]["groups"]:
            for loaded in group["rules"]:
                if loaded["name"] == rule:
                    return str(loaded["query"])
        return None

    def until_rule(self, rule: str, holds: Callable[[str], bool]) -> None:
        def shown() -> bool:
            query = self.rule_query(rule)
            return query is not None and holds(query)
        self._until(self.processes["prometheus"], f"showing the rule {rule} as expected", shown)


def spare_ports(taken: set[int], n: int) -> list[int]:
    """Free ports outside `taken`, from the stack tests' range."""
    return [p for p in range(29000, 30000) if p not in taken and port_is_free(p)][:n]


def environment(directory: Path) -> Secured:
    """Certificates, secrets, the spec and its generated configs and the heartbeat, on free ports; not started."""
    ports = free_ports()
    closed, heartbeat_port = spare_ports(set(ports.values()), 2)
    certs = make_certificates(directory / "certs")
    heartbeat = Heartbeat(heartbeat_port)
    sec = make_secrets(directory / "secrets", heartbeat.url)
    spec = directory / "repo" / "obs.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(spec_text(ports, certs, sec, closed))
    generate(spec, None, check=False)
    heartbeat.start()
    return Secured(spec, certs, sec, heartbeat, closed)
