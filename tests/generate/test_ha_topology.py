"""`stack.topology: ha`: what the generators, the native runner and the verifier's clients make of it.

The live behaviour (one page with replicas killed) is in tests/e2e/test_ha_faults.py; these pin down the
artifacts and argv that behaviour rests on, against the single topology where they differ.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from obs import versions
from obs.generate.configs import builder_manifest, compose, otelcol, prometheus
from obs.generate.kubernetes import prometheus as kube_prometheus
from obs.generate.kubernetes import thanos as kube_thanos
from obs.model import conventions as c
from obs.model import network
from obs.project import load_text
from obs.stack.components import stack_components
from obs.verify import clients
from tests.support.stack_spec import port_is_free

SPEC = """\
version: obs/v1
project: shop
stack:
  profile: fast
  topology: {topology}
services:
  - name: api
    http: true
    slos: [{{name: up, objective: 99.9, sli: {{availability: {{}}}}}}]
alerting:
  receivers: [{{name: hook, webhook: {{url: "http://127.0.0.1:5001/hook"}}}}]
"""


@pytest.fixture(scope="module")
def ha():
    return load_text(SPEC.format(topology="ha"), "obs.yaml")


@pytest.fixture(scope="module")
def single():
    return load_text(SPEC.format(topology="single"), "obs.yaml")


def test_ha_defaults_to_three_alertmanagers_and_two_prometheus_and_single_to_one_of_each(ha, single):
    assert (ha.stack.alertmanagers, ha.stack.prometheis) == (3, 2)
    assert (single.stack.alertmanagers, single.stack.prometheis) == (1, 1)
    assert ha.stack.replica_ports("alertmanager") == [9093, 9094, 9095]
    assert ha.stack.replica_ports("alertmanager_cluster") == [9194, 9195, 9196]
    assert single.stack.replica_ports("alertmanager_cluster") == []


def test_every_prometheus_sends_to_every_alertmanager_and_alerts_lose_the_replica_label(ha, single):
    cfg = prometheus.config(ha, network.native(ha))
    assert cfg["global"]["external_labels"][c.REPLICA_LABEL] == "${" + c.PROMETHEUS_REPLICA_ENV + "}"
    targets = cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["127.0.0.1:9093", "127.0.0.1:9094", "127.0.0.1:9095"]
    assert cfg["alerting"]["alert_relabel_configs"] == [{"action": "labeldrop", "regex": c.REPLICA_LABEL}]
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in cfg["scrape_configs"]}
    assert jobs[c.JOB_PROMETHEUS] == ["127.0.0.1:9090", "127.0.0.1:9091"]
    assert jobs[c.JOB_ALERTMANAGER] == ["127.0.0.1:9093", "127.0.0.1:9094", "127.0.0.1:9095"]
    plain = prometheus.config(single, network.native(single))
    assert c.REPLICA_LABEL not in plain["global"]["external_labels"] and "alert_relabel_configs" not in plain["alerting"]


def test_each_gateway_writes_every_point_to_every_prometheus_each_through_its_own_queue(ha, single):
    cfg = otelcol.gateway_config(ha, network.native(ha), 1)
    pushes = {k: v for k, v in cfg["exporters"].items() if k.startswith(otelcol.TO_PROMETHEUS)}
    assert {k: v["endpoint"] for k, v in pushes.items()} == {
        "otlp_http/prometheus-0": "http://127.0.0.1:9090/api/v1/otlp",
        "otlp_http/prometheus-1": "http://127.0.0.1:9091/api/v1/otlp"}
    assert all(v["sending_queue"]["enabled"] for v in pushes.values())
    # Batched once, by the agent collector; the gateway's queue is on disk, in a directory of its own.
    assert all("batch" not in v["sending_queue"] and v["sending_queue"]["storage"] == otelcol.STORAGE
               for v in cfg["exporters"].values())
    assert cfg["extensions"][otelcol.STORAGE]["directory"].endswith("}/otelcol-gateway-1")
    assert cfg["service"]["pipelines"]["metrics"]["exporters"] == list(pushes)
    assert cfg["receivers"]["otlp"]["protocols"] == {"grpc": {"endpoint": "127.0.0.2:4327"}}
    assert cfg["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]["port"] == 8899
    assert otelcol.config(single, network.native(single))["service"]["pipelines"]["metrics"]["exporters"] == [
        otelcol.TO_PROMETHEUS]


def test_the_agent_collector_makes_span_metrics_then_balances_over_the_gateways_by_one_name(ha, single):
    cfg = otelcol.config(ha, network.native(ha))
    assert list(cfg["exporters"]) == [otelcol.TO_GATEWAY]
    to = cfg["exporters"][otelcol.TO_GATEWAY]
    # gRPC asks obs's name server for every gateway and sends only to those whose connection is up.
    assert to["endpoint"] == "dns://127.0.0.1:9053/otelcol-gateway.obs.internal:4327"
    assert to["balancer_name"] == "round_robin" and to["sending_queue"]["storage"] == otelcol.STORAGE
    pipelines = cfg["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == [otelcol.TO_GATEWAY, otelcol.SPANMETRICS]
    assert pipelines["metrics"] == {**pipelines["metrics"], "receivers": ["otlp", otelcol.SPANMETRICS],
                                    "exporters": [otelcol.TO_GATEWAY]}
    # Under compose Docker's DNS lists every container with the alias.
    assert otelcol.config(ha, network.compose(ha))["exporters"][otelcol.TO_GATEWAY]["endpoint"] == \
        "dns:///otelcol-gateway:4327"
    assert otelcol.TO_GATEWAY not in otelcol.config(single, network.native(single))["exporters"]
    # One distribution runs both: the manifest holds the gateways' OTLP/HTTP exporter too.
    manifest = builder_manifest.generate(ha, None)[c.OTELCOL_MANIFEST]
    assert "otlphttpexporter" in manifest and "spanmetricsconnector" in manifest


def test_prometheus_scrapes_each_gateway_as_its_own_job(ha, single):
    jobs = {j["job_name"]: j for j in prometheus.config(ha, network.native(ha))["scrape_configs"]}
    assert jobs[c.JOB_OTELCOL_GATEWAY]["static_configs"][0]["targets"] == ["127.0.0.1:8898", "127.0.0.1:8899"]
    assert c.JOB_OTELCOL_GATEWAY not in {j["job_name"] for j in prometheus.config(single, network.native(single))[
        "scrape_configs"]}


def test_each_replica_is_its_own_process_on_its_own_ports_data_and_gossip_peers(ha, tmp_path: Path):
    comps = stack_components(ha)
    assert list(comps) == ["receivers", "jaeger", "alertmanager-0", "alertmanager-1", "alertmanager-2",
                           "prometheus-0", "prometheus-1", "thanos-sidecar-0", "thanos-sidecar-1", "thanos-query",
                           "gateway-dns", "otelcol-gateway-0", "otelcol-gateway-1", "otelcol"]
    dns = comps["gateway-dns"].argv(ha, tmp_path, Path("/py"))
    assert dns[1:3] == ["-m", "obs.stack.dns"] and dns[-4:] == ["--address", "127.0.0.1", "--address", "127.0.0.2"]
    assert comps["otelcol-gateway-1"].listens(ha) == [("127.0.0.1", 13144), ("127.0.0.1", 8899), ("127.0.0.2", 4327)]
    assert str(tmp_path / c.gateway_config(1)) in comps["otelcol-gateway-1"].argv(ha, tmp_path, Path("/otelcol"))
    query = comps["thanos-query"].argv(ha, tmp_path, Path("/bin/thanos"))
    assert query[1:2] == ["query"] and "--query.replica-label=replica" in query
    assert [a for a in query if a.startswith("--endpoint=")] == ["--endpoint=127.0.0.1:10911",
                                                                   "--endpoint=127.0.0.1:10912"]
    assert "--prometheus.url=http://127.0.0.1:9091" in comps["thanos-sidecar-1"].argv(ha, tmp_path, Path("/t"))
    argv = comps["alertmanager-1"].argv(ha, tmp_path, Path("/bin/alertmanager"))
    assert "127.0.0.1:9094" in argv and str(tmp_path / ".obs" / "alertmanager-1") in argv
    assert [a for a in argv if a.startswith("--cluster.")] == [
        "--cluster.listen-address=127.0.0.1:9195", "--cluster.advertise-address=127.0.0.1:9195",
        "--cluster.peer=127.0.0.1:9194", "--cluster.peer=127.0.0.1:9196", "--cluster.peer-timeout=250ms",
        "--cluster.gossip-interval=50ms"]
    assert comps["alertmanager-2"].listens(ha) == [("127.0.0.1", 9095), ("127.0.0.1", 9196)]
    prom = comps["prometheus-1"]
    assert prom.env == ((c.PROMETHEUS_REPLICA_ENV, "1"),)
    assert prom.health_url(ha) == "http://127.0.0.1:9091/-/ready"
    assert str(tmp_path / ".obs" / "prometheus-1") in prom.argv(ha, tmp_path, Path("/bin/prometheus"))


def test_a_single_alertmanager_gossips_with_nobody(single, tmp_path: Path):
    argv = stack_components(single)["alertmanager"].argv(single, tmp_path, Path("/bin/alertmanager"))
    assert [a for a in argv if a.startswith("--cluster.")] == ["--cluster.listen-address="]


def test_compose_runs_the_same_replicas_as_services_peering_by_name(ha):
    svcs = compose.document(ha)["services"]
    assert list(svcs) == ["jaeger", "alertmanager-0", "alertmanager-1", "alertmanager-2", "prometheus-0",
                          "prometheus-1", "thanos-sidecar-0", "thanos-sidecar-1", "thanos-query",
                          "otelcol-gateway-0", "otelcol-gateway-1", "otelcol", "grafana"]
    gateway = svcs["otelcol-gateway-1"]
    assert gateway["networks"] == {"default": {"aliases": [c.GATEWAY]}}
    assert gateway["ports"] == ["127.0.0.1:13144:13144", "127.0.0.1:8899:8899"]
    assert gateway["command"] == [f"--config={c.compose_gateway_config(1)}"]
    assert f"otelcol-gateway-1-queue:{c.COMPOSE_WORKDIR}/.obs/otelcol-gateway-1" in gateway["volumes"]
    assert "--endpoint=thanos-sidecar-1:10912" in svcs["thanos-query"]["command"]
    am = svcs["alertmanager-0"]["command"]
    assert "--cluster.peer=alertmanager-1:9195" in am and "--cluster.peer=alertmanager-2:9196" in am
    assert svcs["prometheus-1"]["environment"] == {c.PROMETHEUS_REPLICA_ENV: "1"}
    assert "prometheus-1-data:/prometheus" in svcs["prometheus-1"]["volumes"]
    assert set(svcs["otelcol"]["depends_on"]) == {"otelcol-gateway-0", "otelcol-gateway-1"}
    assert set(gateway["depends_on"]) == {"jaeger", "prometheus-0", "prometheus-1"}
    assert {"alertmanager-0-data", "prometheus-1-data"} <= set(compose.document(ha)["volumes"])


def test_dashboards_and_the_verifier_read_thanos_query_under_ha(ha, single):
    from obs.generate.configs import grafana_provisioning
    from obs.stack.components import urls
    assert grafana_provisioning.datasources(ha, network.native(ha))["datasources"][0]["url"] == \
        "http://127.0.0.1:10904"
    assert grafana_provisioning.datasources(ha, network.compose(ha))["datasources"][0]["url"] == \
        "http://thanos-query:10904"
    assert (urls(ha)["prometheus"], urls(single)["prometheus"]) == ("http://127.0.0.1:10904", "http://127.0.0.1:9090")


def test_the_kubernetes_prometheus_patch_asks_the_operator_for_the_pair(ha, single):
    spec = kube_prometheus.settings(ha)["spec"]
    assert (spec["replicas"], spec["replicaExternalLabelName"]) == (2, c.REPLICA_LABEL)
    assert "replicas" not in kube_prometheus.settings(single)["spec"]
    # A Thanos sidecar in every replica, at the pin the local stack runs.
    assert spec["thanos"] == {"image": versions.IMAGES["thanos"].ref}
    assert "thanos" not in kube_prometheus.settings(single)["spec"]


def test_in_kubernetes_thanos_query_finds_every_sidecar_by_the_operators_service_and_dedups_the_pair(ha, single):
    objs = kube_thanos.objects(ha)
    deployment = objs[c.kube_file("thanos", "query-deployment")]
    service = objs[c.kube_file("thanos", "query-service")]
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"] == service["spec"]["selector"]
    args = pod["spec"]["containers"][0]["args"]
    # The operator lists each sidecar's Store API as port `grpc` of the Service kubernetes.prometheus names.
    assert "--endpoint=dnssrv+_grpc._tcp.prometheus-operated" in args and "--query.replica-label=replica" in args
    assert kube_thanos.objects(single) == {}


def test_in_kubernetes_the_collector_pushes_to_each_replica_pod_by_the_governing_service(ha, single):
    exporters = otelcol.config(ha, network.kubernetes(ha))["exporters"]
    assert {k: v["endpoint"] for k, v in exporters.items() if k.startswith(otelcol.TO_PROMETHEUS)} == {
        "otlp_http/prometheus-0": "http://prometheus-k8s-0.prometheus-operated:9090/api/v1/otlp",
        "otlp_http/prometheus-1": "http://prometheus-k8s-1.prometheus-operated:9090/api/v1/otlp"}
    assert otelcol.config(single, network.kubernetes(single))["exporters"][otelcol.TO_PROMETHEUS]["endpoint"] == \
        "http://prometheus-operated:9090/api/v1/otlp"


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "success", "data": {"resultType": "vector", "result": []}}')

    def log_message(self, *args: object) -> None:
        pass


def test_a_client_with_replicas_asks_the_next_when_one_does_not_answer_and_stays_with_it():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dead = next(p for p in range(29990, 29000, -1) if port_is_free(p))
    try:
        prom = clients.Prometheus(f"http://127.0.0.1:{dead}", alternates=(f"http://127.0.0.1:{server.server_port}",))
        assert prom.query("up") == []
        assert prom.base == f"http://127.0.0.1:{server.server_port}"
        alone = clients.Prometheus(f"http://127.0.0.1:{dead}")
        with pytest.raises(clients.Unreachable):
            alone.query("up")
    finally:
        server.shutdown()
