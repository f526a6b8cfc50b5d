"""The generated configs, checked by the real tools they are written for (built via obs.stack.build.ensure).

Every check is also shown to fail on a broken input, so a tool that accepts anything
would not pass these tests.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from obs.model import conventions as c
from obs.model.build import build
from obs.project import load_model
from obs.spec.loader import parse_text
from obs.stack import tools
from obs.stack.build import ensure
from tests.support.paths import REPO
from tests.support.pipeline_specs import SECURE_RECEIVERS, load, model, write_tree

REPO_SPEC = REPO / "obs.yaml"
MINIMAL = """
version: obs/v1
project: tiny
services:
  - name: web
    http: true
"""
VARIANTS = {
    "repo": None,
    "fast-pull": ("fast", "pull", ""),
    "secure-receivers": ("production", "push", SECURE_RECEIVERS),
    "no-receivers": MINIMAL,
}


# Every program comes from the project's own environment: the venv, obs's binary cache, or the system.
tool = tools.find


def run(argv: list, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name, args in VARIANTS.items():
        folder = tmp_path_factory.mktemp(name)
        if args is None:
            m = load_model(REPO_SPEC)
        elif isinstance(args, str):
            m = build(parse_text(args, "obs.yaml")[0])
        else:
            m = model(args[0], args[1], stack_extra=args[2])
        write_tree(m, folder)
        out[name] = folder
    return out


def otelcol_for(tree: Path) -> Path:
    return ensure(["otelcol"], manifest=tree / c.OTELCOL_MANIFEST, progress=lambda _: None)["otelcol"]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("config", [c.OTELCOL_CONFIG, c.COMPOSE_OTELCOL_CONFIG])
@pytest.mark.stack
def test_the_collector_built_from_the_generated_manifest_accepts_the_generated_config(trees, variant, config):
    result = run([otelcol_for(trees[variant]), "validate", f"--config={config}"], cwd=trees[variant])
    assert result.returncode == 0, result.stderr


@pytest.mark.stack
def test_a_collector_built_for_push_mode_rejects_the_pull_mode_config(trees):
    # The manifest lists only what its config uses: the push distribution has no prometheus exporter.
    pull_config = trees["fast-pull"] / c.OTELCOL_CONFIG
    result = run([otelcol_for(trees["repo"]), "validate", f"--config={pull_config}"], cwd=trees["repo"])
    assert result.returncode != 0
    assert "prometheus" in result.stderr


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("config", [c.PROMETHEUS_CONFIG, c.COMPOSE_PROMETHEUS_CONFIG])
@pytest.mark.stack
def test_promtool_accepts_the_prometheus_config_and_finds_every_rule_file(trees, variant, config):
    result = run([tool("promtool"), "check", "config", config], cwd=trees[variant])
    assert result.returncode == 0, result.stdout + result.stderr
    expected = len(list((trees[variant] / c.ALERTS_DIR).glob("*.rules.yml")))
    assert expected > 0
    assert f"SUCCESS: {expected} rule files found" in result.stdout


@pytest.mark.stack
def test_promtool_rejects_a_prometheus_config_whose_scrape_timeout_exceeds_its_interval(trees, tmp_path):
    text = (trees["repo"] / c.PROMETHEUS_CONFIG).read_text().replace("scrape_timeout: 10s", "scrape_timeout: 1m")
    (tmp_path / "prometheus.yml").write_text(text)
    result = run([tool("promtool"), "check", "config", "--syntax-only", tmp_path / "prometheus.yml"])
    assert result.returncode != 0


@pytest.mark.stack
def test_promtool_accepts_every_generated_rule_file(trees):
    files = sorted((trees["repo"] / c.ALERTS_DIR).glob("*.rules.yml"))
    result = run([tool("promtool"), "check", "rules", *files])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("config", [c.ALERTMANAGER_CONFIG, c.COMPOSE_ALERTMANAGER_CONFIG])
@pytest.mark.stack
def test_amtool_accepts_the_alertmanager_config(trees, variant, config):
    result = run([tool("amtool"), "check-config", config], cwd=trees[variant])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.stack
def test_amtool_rejects_a_route_to_an_undeclared_receiver(trees, tmp_path):
    text = (trees["repo"] / c.ALERTMANAGER_CONFIG).read_text().replace("receiver: pagerduty", "receiver: nobody")
    (tmp_path / "alertmanager.yml").write_text(text)
    result = run([tool("amtool"), "check-config", tmp_path / "alertmanager.yml"])
    assert result.returncode != 0
    assert "nobody" in result.stdout + result.stderr


ROUTES = [
    ("repo", ["severity=page", "service=api-gateway", "slo=availability"], "pagerduty"),
    ("repo", ["severity=ticket", "service=redis-cache", "slo=hit-rate"], "slack-prod-alerts"),
    # Production routes probe alerts to nobody; the local overlay sends them to the verifier (below).
    ("repo", [f"alertname={c.PROBE_ALERT}", f"{c.PROBE_LABEL}=true", f"{c.PROBE_ID_LABEL}=p1", "severity=page"],
     c.NULL_RECEIVER),
    ("repo", [f"alertname={c.WATCHDOG_ALERT}", "severity=none"], c.HEARTBEAT_RECEIVER),   # the spec's dead man's switch
    # A failing PagerDuty is reported on Slack, and a failing Slack on PagerDuty, never to itself.
    ("repo", [f"alertname={c.NOTIFICATIONS_FAILING_ALERT}", "integration=pagerduty", "severity=page"],
     "slack-prod-alerts"),
    ("repo", [f"alertname={c.NOTIFICATIONS_FAILING_ALERT}", "integration=slack", "severity=page"], "pagerduty"),
    ("repo", ["alertname=Unrouted"], "slack-prod-alerts"),
    ("secure-receivers", ["severity=ticket", "service=cache", "slo=hit-rate"], "mail"),
    ("secure-receivers", ["alertname=Unrouted"], "hook"),
    ("no-receivers", ["severity=ticket", "service=web"], c.NULL_RECEIVER),
]


@pytest.mark.parametrize("labels, receivers", [
    ([f"alertname={c.PROBE_ALERT}", f"{c.PROBE_LABEL}=true", f"{c.PROBE_ID_LABEL}=p1", "severity=page"],
     c.PROBE_RECEIVER),
    ([f"alertname={c.WATCHDOG_ALERT}", "severity=none"], c.HEARTBEAT_RECEIVER),
    (["severity=page", "service=api-gateway", "slo=availability"], "pagerduty"),
])
@pytest.mark.stack
def test_amtool_routes_the_local_overlay_like_production_plus_probes_and_heartbeats(trees, labels, receivers):
    result = run([tool("amtool"), "config", "routes", "test", f"--config.file={c.ALERTMANAGER_LOCAL_CONFIG}",
                  f"--verify.receivers={receivers}", *labels], cwd=trees["repo"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant,labels,receivers", ROUTES)
@pytest.mark.stack
def test_amtool_routes_each_alert_to_the_receivers_the_spec_names(trees, variant, labels, receivers):
    result = run([tool("amtool"), "config", "routes", "test", f"--config.file={c.ALERTMANAGER_CONFIG}",
                  f"--verify.receivers={receivers}", *labels], cwd=trees[variant])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receivers]


@pytest.mark.stack
def test_amtool_routes_test_fails_when_the_receiver_is_not_the_expected_one(trees):
    result = run([tool("amtool"), "config", "routes", "test", f"--config.file={c.ALERTMANAGER_CONFIG}",
                  "--verify.receivers=slack-prod-alerts", "severity=page", "service=api-gateway"], cwd=trees["repo"])
    assert result.returncode != 0


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("config", [c.JAEGER_CONFIG, c.COMPOSE_JAEGER_CONFIG])
@pytest.mark.stack
def test_jaeger_accepts_the_generated_config(trees, variant, config):
    result = run([tool("jaeger"), "validate", f"--config={config}"], cwd=trees[variant])
    assert result.returncode == 0, result.stderr


@pytest.mark.stack
def test_jaeger_validate_rejects_a_config_with_an_unknown_key(trees, tmp_path):
    text = (trees["repo"] / c.JAEGER_CONFIG).read_text().replace("max_traces:", "max_tracez:")
    (tmp_path / "jaeger.yaml").write_text(text)
    result = run([tool("jaeger"), "validate", f"--config={tmp_path / 'jaeger.yaml'}"])
    assert result.returncode != 0
    assert "max_tracez" in result.stderr


def test_the_compose_file_follows_the_compose_specification(trees):
    for tree in trees.values():
        result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", tree / c.COMPOSE_FILE])
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_rejects_a_malformed_service(trees, tmp_path):
    text = (trees["repo"] / c.COMPOSE_FILE).read_text().replace("restart: unless-stopped", "restart: [sometimes]", 1)
    (tmp_path / "docker-compose.yml").write_text(text)
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", tmp_path / "docker-compose.yml"])
    assert result.returncode != 0


def test_the_builder_manifest_pins_every_module_at_the_version_table(trees):
    from obs import versions
    manifest = load((trees["secure-receivers"] / c.OTELCOL_MANIFEST).read_text())
    mods = [e["gomod"] for k in ("receivers", "processors", "exporters", "connectors", "extensions", "providers")
            for e in manifest[k]]
    assert any("bearertokenauthextension" in m for m in mods)
    for m in mods:
        version = m.split()[1]
        assert version in (versions.OTELCOL_CORE, versions.OTELCOL_CONTRIB, versions.OTELCOL_STABLE), m
        assert (version == versions.OTELCOL_CONTRIB) == m.startswith("github.com/open-telemetry/"), m


