"""docker-compose.yml and the compose variants of the component configs.

Every container works in COMPOSE_WORKDIR, where the output directory's deploy/,
alerts/ and dashboards/ are mounted read-only, so the relative paths of the native
stack (configs, rule globs, `.obs/secrets/<ENV>`) name the same files. Inside its
container a component listens on 0.0.0.0 and reaches its peers by service name
(deploy/compose/*); Docker publishes each port on `stack.bind` of the host only.

Secrets are compose `secrets:` (single files mounted read-only, never values in
this file); Grafana's admin password is the file `obs up` generates. Grafana runs
only here: it is AGPL, obs never builds or links it.

The collector image is `FROM scratch` (no shell, no wget), so it has no
healthcheck; nothing depends on it being healthy. With a persistent queue it runs
as root, because its image user cannot write to a fresh named volume.
"""
from __future__ import annotations

import copy
import posixpath
from typing import Any

from obs import versions
from obs.generate.common import Inputs, yaml
from obs.generate.configs import alertmanager, jaeger, otelcol, prometheus
from obs.model import conventions as c
from obs.model import network
from obs.model.domain import Model, Secret
from obs.model.kinds import MetricsPath

W = c.COMPOSE_WORKDIR
DEPLOY_MOUNT = f"./deploy:{W}/deploy:ro"
HOST_GATEWAY = f"{network.DOCKER_HOST}:host-gateway"
GRAFANA_SECRET = "grafana-admin-password"
HEALTH = {"interval": "5s", "timeout": "3s", "retries": 12, "start_period": "30s", "start_interval": "1s"}


def image(model: Model, name: str) -> str:
    """The pinned image, or the release the spec's `stack.versions` asks for."""
    pinned = versions.IMAGES[name]
    wanted = model.stack.versions.get(name)
    if not wanted:
        return pinned.ref
    tag = wanted if wanted.startswith("v") or not pinned.tag.startswith("v") else "v" + wanted
    return f"{pinned.name}:{tag}"


def _publish(host: str, port: int, container_port: int | None = None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}:{container_port or port}"


def _healthcheck(port: int, path: str) -> dict[str, Any]:
    return {"test": ["CMD", "wget", "-q", "--spider", f"http://127.0.0.1:{port}{path}"], **HEALTH}


def _healthy(*names: str) -> dict[str, dict[str, str]]:
    return {n: {"condition": "service_healthy"} for n in names}


class _Secrets:
    """Collects compose secrets (env secrets) and read-only mounts (file secrets) per service."""

    def __init__(self) -> None:
        self.top: dict[str, dict[str, Any]] = {}

    def attach(self, service: dict[str, Any], secret: Secret | None) -> None:
        if secret is None:
            return
        if secret.env is not None:
            path = c.secret_file(secret.env)
            self.top[secret.env] = {"file": f"./{path}"}
            service.setdefault("secrets", []).append({"source": secret.env, "target": f"{W}/{path}"})
        else:
            self.mount(service, secret.file or "")

    @staticmethod
    def mount(service: dict[str, Any], path: str) -> None:
        if posixpath.isabs(path):
            service["volumes"].append(f"{path}:{path}:ro")
        else:
            service["volumes"].append(f"./{posixpath.normpath(path)}:{W}/{posixpath.normpath(path)}:ro")


def _base(model: Model, name: str, command: list[str]) -> dict[str, Any]:
    return {"image": image(model, name), "restart": "unless-stopped", "working_dir": W, "command": command,
            "volumes": [DEPLOY_MOUNT]}


def services(model: Model, secrets: _Secrets) -> dict[str, Any]:
    st, p = model.stack, model.stack.ports
    listen = "0.0.0.0"

    jg = _base(model, "jaeger", ["--config", c.COMPOSE_JAEGER_CONFIG])
    jg["ports"] = [_publish(st.bind, p[k]) for k in ("jaeger_query", "jaeger_health", "jaeger_metrics")]
    jg["healthcheck"] = _healthcheck(p["jaeger_health"], jaeger.HEALTH_PATH)

    am = _base(model, "alertmanager", [f"--config.file={c.COMPOSE_ALERTMANAGER_CONFIG}", "--storage.path=/alertmanager",
                                       f"--web.listen-address={listen}:{p['alertmanager']}",
                                       "--cluster.listen-address="])
    am["volumes"].append("alertmanager-data:/alertmanager")
    am["ports"] = [_publish(st.bind, p["alertmanager"])]
    am["extra_hosts"] = [HOST_GATEWAY]   # the verifier's webhook sink runs on the host
    am["healthcheck"] = _healthcheck(p["alertmanager"], "/-/ready")
    for r in model.receivers:
        secrets.attach(am, r.secret)

    pr = _base(model, "prometheus", [f"--config.file={c.COMPOSE_PROMETHEUS_CONFIG}", "--storage.tsdb.path=/prometheus",
                                     f"--web.listen-address={listen}:{p['prometheus']}",
                                     *prometheus.required_flags(model)])
    pr["volumes"] += [f"./{c.ALERTS_DIR}:{W}/{c.ALERTS_DIR}:ro", "prometheus-data:/prometheus"]
    pr["ports"] = [_publish(st.bind, p["prometheus"])]
    pr["extra_hosts"] = [HOST_GATEWAY]   # services' loopback scrape targets and the verifier's metrics
    pr["healthcheck"] = _healthcheck(p["prometheus"], "/-/ready")
    # Alertmanager first: an alert fired before Prometheus knows it waits a whole resend delay.
    pr["depends_on"] = _healthy("alertmanager")

    oc = _base(model, "otelcol", [f"--config={c.COMPOSE_OTELCOL_CONFIG}"])
    oc["ports"] = [_publish(st.receivers_bind, p[k]) for k in ("otlp_grpc", "otlp_http")]
    oc["ports"] += [_publish(st.bind, p[k]) for k in ("collector_health", "collector_metrics")]
    if st.metrics == MetricsPath.PULL:
        oc["ports"].append(_publish(st.bind, p["collector_prometheus"]))
    if st.persistent_queue:
        oc["user"] = "0:0"
        oc["volumes"].append(f"otelcol-queue:{W}/{c.state_data_dir('otelcol')}")
    if st.receivers_tls is not None:
        tls = st.receivers_tls
        for path in filter(None, (tls.cert_file, tls.key_file, tls.client_ca_file)):
            secrets.mount(oc, path)
    secrets.attach(oc, st.receivers_bearer)
    oc["depends_on"] = _healthy("jaeger", "prometheus")

    gf = {"image": image(model, "grafana"), "restart": "unless-stopped",
          "environment": {
              "GF_SECURITY_ADMIN_PASSWORD__FILE": f"/run/secrets/{GRAFANA_SECRET}",
              "GF_AUTH_ANONYMOUS_ENABLED": "false",
              "GF_USERS_ALLOW_SIGN_UP": "false",
              "GF_SERVER_HTTP_PORT": str(p["grafana"]),
              "GF_ANALYTICS_REPORTING_ENABLED": "false",
          },
          "secrets": [GRAFANA_SECRET],
          "volumes": [f"./{c.GRAFANA_PROVISIONING}:/etc/grafana/provisioning:ro",
                      f"./{c.DASHBOARDS_DIR}:{W}/{c.DASHBOARDS_DIR}:ro", "grafana-data:/var/lib/grafana"],
          "ports": [_publish(st.bind, p["grafana"])],
          "healthcheck": _healthcheck(p["grafana"], "/api/health"),
          "depends_on": _healthy("prometheus", "jaeger", "alertmanager")}
    secrets.top[GRAFANA_SECRET] = {"file": f"./{c.GRAFANA_ADMIN_PASSWORD_FILE}"}
    svcs = {"jaeger": jg, "alertmanager": am, "prometheus": pr, "otelcol": oc, "grafana": gf}
    return _replicated(model, svcs) if st.ha else svcs


def _replicated(model: Model, svcs: dict[str, Any]) -> dict[str, Any]:
    """`topology: ha`: each replica its own service, named and ported as in the native stack (port + i)."""
    st, p = model.stack, model.stack.ports
    am, pr = svcs.pop("alertmanager"), svcs.pop("prometheus")
    ams = [c.replica("alertmanager", i) for i in range(st.alertmanagers)]
    proms = [c.replica("prometheus", i) for i in range(st.prometheis)]
    out: dict[str, Any] = {"jaeger": svcs["jaeger"]}
    for i, name in enumerate(ams):
        web, gossip = p["alertmanager"] + i, p["alertmanager_cluster"] + i
        peers = [f"--cluster.peer={peer}:{p['alertmanager_cluster'] + j}" for j, peer in enumerate(ams) if j != i]
        out[name] = {**copy.deepcopy(am),
                     "command": [*am["command"][:2], f"--web.listen-address=0.0.0.0:{web}",
                                 f"--cluster.listen-address=0.0.0.0:{gossip}", *peers,
                                 f"--cluster.peer-timeout={st.timing.peer_timeout}",
                                 f"--cluster.gossip-interval={st.timing.gossip_interval}"],
                     "ports": [_publish(st.bind, web)], "healthcheck": _healthcheck(web, "/-/ready")}
        out[name]["volumes"] = [DEPLOY_MOUNT, f"{name}-data:/alertmanager", *am["volumes"][2:]]
    for i, name in enumerate(proms):
        web = p["prometheus"] + i
        command = [f"--web.listen-address=0.0.0.0:{web}" if a.startswith("--web.listen-address") else a
                   for a in pr["command"]]
        out[name] = {**copy.deepcopy(pr), "command": command, "environment": {c.PROMETHEUS_REPLICA_ENV: str(i)},
                     "ports": [_publish(st.bind, web)], "healthcheck": _healthcheck(web, "/-/ready"),
                     "depends_on": _healthy(*ams)}
        out[name]["volumes"] = [v.replace("prometheus-data:", f"{name}-data:") for v in pr["volumes"]]
    sidecars = [c.replica("thanos-sidecar", i) for i in range(st.prometheis)]
    for i, name in enumerate(sidecars):
        grpc, http = p["thanos_sidecar_grpc"] + i, p["thanos_sidecar_http"] + i
        out[name] = {"image": image(model, "thanos"), "restart": "unless-stopped",
                     "command": ["sidecar", f"--prometheus.url=http://{proms[i]}:{p['prometheus'] + i}",
                                 f"--grpc-address=0.0.0.0:{grpc}", f"--http-address=0.0.0.0:{http}"],
                     "healthcheck": _healthcheck(http, "/-/ready"), "depends_on": _healthy(proms[i])}
    query = p["thanos_query"]
    out["thanos-query"] = {"image": image(model, "thanos"), "restart": "unless-stopped",
                           "command": ["query", f"--http-address=0.0.0.0:{query}",
                                       f"--grpc-address=0.0.0.0:{p['thanos_query_grpc']}",
                                       *[f"--endpoint={name}:{p['thanos_sidecar_grpc'] + i}"
                                         for i, name in enumerate(sidecars)],
                                       f"--query.replica-label={c.REPLICA_LABEL}"],
                           "ports": [_publish(st.bind, query)], "healthcheck": _healthcheck(query, "/-/ready"),
                           "depends_on": _healthy(*sidecars)}
    gateways = [c.replica(c.GATEWAY, i) for i in range(st.gateways)]
    for i, name in enumerate(gateways):
        # Every gateway carries the alias the collector resolves: Docker's DNS lists them all.
        gw = {**copy.deepcopy(svcs["otelcol"]), "command": [f"--config={c.compose_gateway_config(i)}"],
              # Health and metrics published as the native stack has them, for `obs up` and `obs status`; the OTLP
              # port only inside the network, where the collector reaches it.
              "ports": [_publish(st.bind, p[k] + i) for k in ("gateway_health", "gateway_metrics")],
              "networks": {"default": {"aliases": [c.GATEWAY]}}, "depends_on": _healthy("jaeger", *proms)}
        gw["volumes"] = [v for v in gw["volumes"] if not v.startswith("otelcol-queue:")]
        if st.persistent_queue:
            gw["volumes"].append(f"{name}-queue:{W}/{c.state_data_dir(name)}")
        out[name] = gw
    # The collector image has no healthcheck (FROM scratch): started after the gateways, not after them healthy.
    out["otelcol"] = {**svcs["otelcol"], "depends_on": {g: {"condition": "service_started"} for g in gateways}}
    out["grafana"] = {**svcs["grafana"], "depends_on": _healthy("thanos-query", "jaeger", ams[0])}
    return out


def document(model: Model) -> dict[str, Any]:
    secrets = _Secrets()
    svcs = services(model, secrets)
    volumes = ["alertmanager-data", "prometheus-data", "grafana-data"]
    if model.stack.ha:
        volumes = [f"{name}-data" for name in svcs if name.startswith(("alertmanager-", "prometheus-"))]
        volumes.append("grafana-data")
    if model.stack.persistent_queue:
        volumes.append("otelcol-queue")
        volumes += [f"{c.replica(c.GATEWAY, i)}-queue" for i in range(model.stack.gateways)]
    # Your own services join this project's network from docker-compose.override.yml, with
    # `env_file: [<the file named here>]`: their OTEL_* settings, reaching the collector as `otelcol`.
    instrumented = {s.name: {"env_file": [c.instrumentation_file(s.name, "compose")]} for s in model.services if s.otlp}
    return {"name": model.project, "services": svcs, "volumes": {v: {} for v in volumes},
            "secrets": dict(sorted(secrets.top.items())), "x-obs-instrumentation": instrumented}


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    net = network.compose(model)
    return {
        c.COMPOSE_FILE: yaml(model, document(model)),
        c.COMPOSE_OTELCOL_CONFIG: yaml(model, otelcol.config(model, net)),
        c.COMPOSE_JAEGER_CONFIG: yaml(model, jaeger.config(model, net)),
        c.COMPOSE_PROMETHEUS_CONFIG: yaml(model, prometheus.config(model, net, c.COMPOSE_PROMETHEUS_CONFIG)),
        c.COMPOSE_ALERTMANAGER_CONFIG: yaml(model, alertmanager.local_config(model, net)),
        **{c.compose_gateway_config(i): yaml(model, otelcol.gateway_config(model, net, i))
           for i in range(model.stack.gateways)},
    }
