"""obs.stack.build against the real Go module proxy.

These tests build the real binaries when they are missing (the first run on a
machine takes a while) and reuse the cache afterwards, so they never skip.
"""
from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from obs import versions
from obs.emit import yaml_read
from obs.errors import StackError
from obs.stack import build, cache, gotool, otelcol, tools
from tests.support.paths import FIXTURES, REPO

FIXTURE = FIXTURES / "builder-config.yaml"

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def binaries() -> dict[str, Path]:
    return build.ensure(build.ALL, FIXTURE, progress=lambda m: print(m, file=sys.stderr))


def run(*argv: object, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)


EXPECTED_VERSION = {
    "otelcol": versions.OTELCOL_CORE.lstrip("v"),
    "jaeger": versions.JAEGER_RELEASE,
    "prometheus": versions.PROMETHEUS_RELEASE,
    "promtool": versions.PROMETHEUS_RELEASE,
    "alertmanager": versions.ALERTMANAGER.lstrip("v"),
    "amtool": versions.ALERTMANAGER.lstrip("v"),
    "sloth": versions.SLOTH,
    "kustomize": versions.KUSTOMIZE,
    "thanos": versions.THANOS.lstrip("v"),
    "cortextool": versions.CORTEX_TOOLS,
    "controller-gen": versions.CONTROLLER_TOOLS,
    "kubecheck": f"prometheus-operator/pkg/apis/monitoring {versions.PROMETHEUS_OPERATOR}",
}
VERSION_ARGS = {"otelcol": ["--version"], "jaeger": ["version"], "sloth": ["version"], "kustomize": ["version"],
                "cortextool": ["version"]}


@pytest.mark.parametrize("name", sorted(EXPECTED_VERSION))
def test_binary_reports_pinned_version(binaries, name):
    path = binaries[name]
    assert path == build.binary_path(name, FIXTURE if name == "otelcol" else None)
    proc = run(path, *VERSION_ARGS.get(name, ["--version"]))
    assert proc.returncode == 0, proc.stderr
    assert EXPECTED_VERSION[name] in proc.stdout + proc.stderr


def test_ensure_side_by_side_returns_what_one_at_a_time_does(binaries):
    messages: list[str] = []
    assert build.ensure(build.ALL, FIXTURE, progress=messages.append, jobs=3) == binaries
    assert sorted(m.split()[0] for m in messages) == sorted(["otelcol", *build.TARGETS]), messages


def test_ensure_is_idempotent(binaries):
    stamps = {n: cache.read_stamp(p.parent) for n, p in binaries.items()}
    messages: list[str] = []
    again = build.ensure(build.ALL, FIXTURE, progress=messages.append)
    assert again == binaries
    # Nothing rebuilt: the same stamps, and no build started (no wall-clock limit: the stamps say it).
    assert {n: cache.read_stamp(p.parent) for n, p in again.items()} == stamps
    assert not any(m.startswith("building") for m in messages), messages
    # Without a manifest, otelcol means the last one ensured by anyone sharing this
    # cache, which other processes may change at any moment; only check it is usable.
    assert build.binary_path("otelcol").is_file()


def test_promtool_checks_a_config(binaries, tmp_path):
    (tmp_path / "rules.yml").write_text(
        "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 0\n    for: 0s\n"
    )
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [rules.yml]\n"
        "alerting:\n  alertmanagers:\n  - static_configs: [{targets: ['127.0.0.1:9093']}]\n"
        "scrape_configs:\n- job_name: self\n  static_configs: [{targets: ['127.0.0.1:9090']}]\n"
    )
    proc = run(binaries["promtool"], "check", "config", cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_amtool_checks_a_config(binaries, tmp_path):
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(
        "route:\n  receiver: sink\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n"
        "receivers:\n- name: sink\n  webhook_configs: [{url: 'http://127.0.0.1:9999/hook'}]\n"
    )
    proc = run(binaries["amtool"], "check-config", cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_otelcol_validates_a_config_using_every_component(binaries, tmp_path):
    (tmp_path / "storage").mkdir()
    cfg = tmp_path / "otelcol.yaml"
    # Type names are the v0.165 ones: otlp_grpc, otlp_http and span_metrics replaced
    # otlp, otlphttp and spanmetrics (still accepted as deprecated aliases).
    cfg.write_text(f"""
extensions:
  health_check: {{endpoint: "127.0.0.1:13133"}}
  file_storage: {{directory: "{tmp_path / 'storage'}"}}
receivers:
  otlp:
    protocols: {{grpc: {{endpoint: "127.0.0.1:4317"}}, http: {{endpoint: "127.0.0.1:4318"}}}}
processors:
  memory_limiter: {{check_interval: 1s, limit_mib: 256}}
  batch: {{timeout: 50ms}}
connectors:
  span_metrics: {{}}
exporters:
  otlp_grpc: {{endpoint: "127.0.0.1:4327", tls: {{insecure: true}}, sending_queue: {{storage: file_storage}}}}
  otlp_http: {{endpoint: "http://127.0.0.1:9090/api/v1/otlp"}}
  debug: {{}}
  prometheus: {{endpoint: "127.0.0.1:8889"}}
service:
  extensions: [health_check, file_storage]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp_grpc, span_metrics, debug]
    metrics:
      receivers: [otlp, span_metrics]
      processors: [memory_limiter, batch]
      exporters: [otlp_http, prometheus]
""")
    proc = run(binaries["otelcol"], "validate", f"--config={cfg}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prometheus_accepts_otlp_pushes(binaries, tmp_path):
    port = _free_port()
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 1s}\n")
    proc = subprocess.Popen(
        [str(binaries["prometheus"]), f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--web.enable-otlp-receiver"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/-/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, "prometheus exited during startup"
            assert time.monotonic() < deadline, "prometheus did not become ready in 30s"
            time.sleep(0.2)
        # An empty protobuf body is a valid, empty ExportMetricsServiceRequest.
        resp = requests.post(f"{base}/api/v1/otlp/v1/metrics", data=b"",
                             headers={"Content-Type": "application/x-protobuf"}, timeout=5)
        assert resp.status_code == 200, resp.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_prints_paths(binaries):
    proc = run(sys.executable, "-m", "obs.stack.build", "promtool", "sloth")
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split("\t") for line in proc.stdout.splitlines())
    # promtool is a target of its own: asking for it neither builds nor prints the server.
    assert lines == {"promtool": str(binaries["promtool"]), "sloth": str(binaries["sloth"])}


def test_jaeger_is_built_with_only_the_components_obs_configures(binaries):
    proc = run(binaries["jaeger"], "components")
    assert proc.returncode == 0, proc.stderr
    listed = yaml_read.load(proc.stdout)
    assert isinstance(listed, dict), proc.stdout
    names = {kind: {c["name"] for c in listed.get(kind) or []} for kind in ("receivers", "exporters", "extensions")}
    assert names["receivers"] == {"otlp", "nop"}
    assert {"jaeger_storage_exporter", "otlp"} <= names["exporters"] and "kafka" not in names["exporters"]
    assert {"jaeger_storage", "jaeger_query", "healthcheckv2"} <= names["extensions"]
    # And the configuration obs generates for it is one it accepts.
    config = REPO / "deploy" / "jaeger" / "config.yaml"
    proc = run(binaries["jaeger"], "validate", f"--config={config}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- no building needed below -------------------------------------------------------

def test_manifest_key_changes_when_a_component_is_added():
    base = otelcol.load_manifest(FIXTURE)
    grown = json.loads(json.dumps(base))
    grown["processors"].append(
        {"gomod": "github.com/open-telemetry/opentelemetry-collector-contrib/processor/"
                  f"deltatocumulativeprocessor {versions.OTELCOL_CONTRIB}"}
    )
    assert otelcol.manifest_key(grown) != otelcol.manifest_key(base)
    bumped = json.loads(json.dumps(base))
    bumped["receivers"][0]["gomod"] = bumped["receivers"][0]["gomod"].replace("v0.165.0", "v0.164.0")
    assert otelcol.manifest_key(bumped) != otelcol.manifest_key(base)


def test_manifest_key_ignores_order_and_description():
    base = otelcol.load_manifest(FIXTURE)
    shuffled = json.loads(json.dumps(base))
    shuffled["exporters"].reverse()
    shuffled["dist"]["description"] = "something else"
    assert otelcol.manifest_key(shuffled) == otelcol.manifest_key(base)


def test_bad_version_raises_stack_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OBS_CACHE_DIR", str(tmp_path))
    bogus = dataclasses.replace(build.TARGETS["sloth"], version="v0.0.999")
    monkeypatch.setitem(build.TARGETS, "sloth", bogus)
    with pytest.raises(StackError) as exc:
        build.ensure(["sloth"])
    msg = str(exc.value)
    assert "not found on (or is not served by) the module proxy" in msg
    assert "v0.0.999" in msg
    assert "full log:" in msg
    assert not (tmp_path / "bin" / "sloth-v0.0.999").exists()
    assert not list((tmp_path / "bin").glob(".tmp-*"))


def test_missing_manifest_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("OBS_CACHE_DIR", str(tmp_path))
    with pytest.raises(StackError, match="--manifest"):
        build.ensure(["otelcol"], tmp_path / "nope.yaml")


def test_unknown_name_is_rejected():
    with pytest.raises(StackError, match="known:"):
        build.ensure(["grafana"])


def test_missing_go_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(tools.SYSTEM, "go", dataclasses.replace(tools.SYSTEM["go"], fallbacks=(str(tmp_path / "go"),)))
    with pytest.raises(StackError, match="`go` is not on PATH.*Go >= 1.26"):
        gotool.Go(tmp_path / "log")


def test_unreachable_proxy_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("OBS_CACHE_DIR", str(tmp_path))
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    monkeypatch.setenv("OBS_GOPROXY", "http://127.0.0.1:9")
    bogus = dataclasses.replace(build.TARGETS["sloth"], version="v0.0.998")
    monkeypatch.setitem(build.TARGETS, "sloth", bogus)
    with pytest.raises(StackError, match="could not be reached"):
        build.ensure(["sloth"])
