"""deploy/kubernetes and deploy/rulers: one source with the single-host files, no secret, kustomize's to place.

The upstream tools' verdicts (kustomize, strict decoding into the operators' Go types, promtool, otelcol, thanos,
cortextool) are in tests/kubernetes/; these read the objects back and compare them with what the single-host
generators produce from the same model.
"""
from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

from obs.emit.yaml_read import load
from obs.generate import render
from obs.generate.configs import alertmanager, instrumentation, otelcol
from obs.generate.kubernetes import alerting
from obs.model import conventions as c
from obs.model import network
from obs.project import load_model, load_text
from tests.support.paths import FIXTURES, REPO, TESTS

SPECS = {"repo": REPO / "obs.yaml", "every option": FIXTURES / "kubernetes" / "obs.yaml"}
GOLDEN = TESTS / "golden" / "kubernetes"
OWN = (c.KUBERNETES_DIR + "/", c.RULERS_DIR + "/")


@cache
def model(which: str):
    return load_model(SPECS[which])


@cache
def files(which: str) -> dict[str, str]:
    return render(model(which))


def objects(which: str, kind: str | None = None) -> dict[str, dict]:
    out = {p: load(t) for p, t in files(which).items()
           if p.startswith(c.KUBERNETES_DIR + "/") and p != c.KUSTOMIZATION}
    return {p: o for p, o in out.items() if kind is None or o["kind"] == kind}


def one(which: str, kind: str) -> dict:
    [found] = objects(which, kind).values()
    return found


both = pytest.mark.parametrize("which", list(SPECS))


@both
def test_the_kustomization_lists_every_object_but_the_prometheus_patch_and_nothing_else(which):
    kustomization = load(files(which)[c.KUSTOMIZATION])
    listed = {f"{c.KUBERNETES_DIR}/{r}" for r in kustomization["resources"]}
    assert listed == set(objects(which)) - {c.kube_file("patches", "prometheus")}
    assert kustomization["resources"] == sorted(kustomization["resources"])


@both
def test_namespace_prefix_and_common_labels_are_kustomizes_never_an_objects(which):
    k = model(which).kubernetes
    kustomization = load(files(which)[c.KUSTOMIZATION])
    assert kustomization["namespace"] == k.namespace
    assert kustomization.get("namePrefix", "") == k.name_prefix
    assert dict(k.labels).items() <= kustomization["labels"][0]["pairs"].items()
    assert [p for p, o in objects(which).items() if "namespace" in o["metadata"]] == []


@both
def test_no_generated_object_is_a_secret_and_every_secret_reference_names_the_teams_secret(which):
    k = model(which).kubernetes
    assert [p for p, o in objects(which).items() if o["kind"] == "Secret"] == []
    refs = []

    def walk(node, key=""):
        if isinstance(node, dict):
            if set(node) == {"name", "key"} and key in ("routingKey", "apiURL", "urlSecret", "authPassword",
                                                        "secretKeyRef"):
                refs.append(node["name"])
            for k2, v in node.items():
                walk(v, k2)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
    for o in objects(which).values():
        walk(o)
    assert refs and set(refs) <= {k.alerting_secret, k.collector_secret}


def test_the_alerting_secrets_keys_are_the_variables_and_file_names_the_spec_refers_to():
    assert alerting.secret_keys(model("repo")) == ["HEARTBEAT_URL", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL"]
    assert alerting.secret_keys(model("every option")) == ["HOOK_URL", "SMTP_PASSWORD", "heartbeat-url",
                                                           "pagerduty-key"]


@both
def test_each_prometheusrule_holds_the_rule_files_groups_with_its_namespace_on_every_alert(which):
    k = model(which).kubernetes
    for path, rule in objects(which, "PrometheusRule").items():
        name = path.rsplit("/", 1)[1].removesuffix(".yaml")
        single_host = load(files(which)[c.PIPELINE_RULES_FILE if name == c.PIPELINE_RULES_NAME else c.rules_file(name)])
        for group in single_host["groups"]:
            for r in group["rules"]:
                if "alert" in r:
                    r["labels"] = {**r.get("labels", {}), "namespace": k.namespace}
        assert rule["spec"]["groups"] == single_host["groups"]
        assert rule["metadata"].get("labels", {}) == dict(k.rule_labels)


@both
def test_the_rulers_files_hold_the_same_groups_thanos_with_its_partial_response_strategy(which):
    m = model(which)
    for path in [c.rules_file(s.name) for s in m.services if s.slos] + [c.PIPELINE_RULES_FILE]:
        name = path.rsplit("/", 1)[1].removesuffix(".rules.yml")
        name = c.PIPELINE_RULES_NAME if path == c.PIPELINE_RULES_FILE else name
        groups = load(files(which)[path])["groups"]
        thanos = load(files(which)[c.thanos_rules_file(name)])["groups"]
        assert [{k: v for k, v in g.items() if k != "partial_response_strategy"} for g in thanos] == groups
        assert {g["partial_response_strategy"] for g in thanos} == {"abort"}
        cortex = load(files(which)[c.cortex_rules_file(m.kubernetes.tenant, f"{m.project}-{name}")])
        assert cortex == {"namespace": f"{m.project}-{name}", "groups": groups}


RULERS = {"none named": ([], []), "thanos alone": (["thanos"], ["thanos"]), "cortex alone": (["cortex"], ["cortex"]),
          "both, one twice": (["cortex", "thanos", "cortex"], ["cortex", "thanos"])}


@pytest.mark.parametrize(("named", "written"), RULERS.values(), ids=list(RULERS))
def test_rule_files_are_written_only_for_the_rulers_the_spec_names(named, written):
    text = (REPO / "obs.yaml").read_text().replace("rulers: [thanos, cortex]", f"rulers: {named}")
    m = load_text(text, "obs.yaml", "obs.yaml")
    paths = [p for p in render(m) if p.startswith("deploy/rulers/")]
    assert sorted({p.split("/")[2] for p in paths}) == written
    # each named ruler gets every rule file: the services' and the pipeline's
    assert len(paths) == len(written) * (sum(1 for s in m.services if s.slos) + 1)


@both
def test_the_collectors_config_is_a_mapping_built_by_the_single_host_generator(which):
    m = model(which)
    gateway = objects(which)[c.kube_file("collector", "gateway")]
    assert gateway["spec"]["config"] == otelcol.config(m, network.kubernetes(m))
    assert isinstance(gateway["spec"]["config"], dict)
    assert gateway["spec"]["mode"] == "deployment" and gateway["spec"]["replicas"] == 1


def test_daemonset_mode_runs_an_agent_per_node_forwarding_to_the_gateways_service():
    m = model("every option")
    agent = objects("every option")[c.kube_file("collector", "agent")]
    assert agent["spec"]["mode"] == "daemonset"
    [exporter] = agent["spec"]["config"]["exporters"].values()
    assert exporter["endpoint"] == f"team-a-{c.kube_collector_name(m.project, 'gateway')}-collector:4317"
    # The gateway requires client certificates and a token: the agent shows both.
    assert exporter["auth"] == {"authenticator": otelcol.BEARER}
    assert exporter["tls"]["cert_file"].startswith(c.KUBE_SECRETS_MOUNT + "/")
    assert "span_metrics" not in agent["spec"]["config"].get("connectors", {})


def test_deployment_mode_runs_the_gateway_alone():
    assert [p for p in objects("repo", "OpenTelemetryCollector")] == [c.kube_file("collector", "gateway")]


def test_collector_pods_read_secret_files_from_the_teams_secret_mounted_where_the_config_looks():
    spec = objects("every option")[c.kube_file("collector", "gateway")]["spec"]
    assert {"name": "obs-secrets", "secret": {"secretName": "shop-collector"}} in spec["volumes"]
    files_read = [v for v in (spec["config"]["extensions"]["bearertokenauth"]["filename"],
                              *spec["config"]["receivers"]["otlp"]["protocols"]["grpc"]["tls"].values())]
    assert all(f.startswith(c.KUBE_SECRETS_MOUNT + "/") for f in files_read)
    assert "volumes" not in objects("repo")[c.kube_file("collector", "gateway")]["spec"] or all(
        "secret" not in v for v in objects("repo")[c.kube_file("collector", "gateway")]["spec"]["volumes"])


@both
def test_the_alertmanagerconfig_is_alertmanager_ymls_route_tree_inhibitions_and_receivers(which):
    m = model(which)
    native = alertmanager.config(m, network.native(m))
    spec = one(which, "AlertmanagerConfig")["spec"]

    def back(route: dict) -> dict:
        out = {}
        for key, value in route.items():
            if key == "matchers":
                out[key] = [alertmanager.matcher(x["name"], x["value"], x["matchType"]) for x in value]
            elif key == "routes":
                out[key] = [back(r) for r in value]
            else:
                out["".join("_" + ch.lower() if ch.isupper() else ch for ch in key)] = value
        return out
    assert back(spec["route"]) == native["route"]
    assert [r["name"] for r in spec["receivers"]] == [r["name"] for r in native["receivers"]]
    assert len(spec["inhibitRules"]) == len(native["inhibit_rules"])


@pytest.mark.parametrize("text", ['severity="page"', 'alertname=~"A|B"', 'x!="a \\"quoted\\" b\\\\"', 'y!~".+"'])
def test_every_alertmanager_matcher_obs_writes_survives_the_translation(text):
    m = alerting.matcher(text)
    assert alertmanager.matcher(m["name"], m["value"], m["matchType"]) == text


@both
def test_each_dashboard_is_a_configmap_holding_its_very_json_with_the_sidecars_labels(which):
    k = model(which).kubernetes
    maps = objects(which, "ConfigMap")
    dashboards = {p: t for p, t in files(which).items() if p.startswith(c.DASHBOARDS_DIR + "/")}
    assert len(maps) == len(dashboards)
    for cm in maps.values():
        [(name, text)] = cm["data"].items()
        assert text == dashboards[f"{c.DASHBOARDS_DIR}/{name}"]
        assert cm["metadata"]["labels"] == dict(k.dashboard_labels)


@both
def test_each_otlp_service_gets_an_instrumentation_with_its_env_files_settings(which):
    m = model(which)
    for s in m.services:
        path = c.kube_file("instrumentation", s.name)
        if not s.otlp:
            assert path not in files(which)
            continue
        spec = objects(which)[path]["spec"]
        local = instrumentation.settings(m, s, "kubernetes", environment=m.kubernetes.namespace).env
        env = {e["name"]: e.get("value") for e in spec["env"]}
        assert {k: v for k, v in local.items() if k in env} == {k: v for k, v in env.items() if k in local}
        assert spec["exporter"]["endpoint"] == local["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert f".{m.kubernetes.namespace}:" in spec["exporter"]["endpoint"]
        assert spec["sampler"]["type"] == local["OTEL_TRACES_SAMPLER"]


def test_the_bearer_token_reaches_the_sdks_header_from_the_secret_never_written():
    env = objects("every option")[c.kube_file("instrumentation", "checkout")]["spec"]["env"]
    by_name = {e["name"]: e for e in env}
    assert by_name["OBS_OTLP_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "shop-collector", "key": "OTLP_TOKEN"}}
    assert by_name["OTEL_EXPORTER_OTLP_HEADERS"]["value"] == "Authorization=Bearer%20$(OBS_OTLP_TOKEN)"
    assert env.index(by_name["OBS_OTLP_TOKEN"]) < env.index(by_name["OTEL_EXPORTER_OTLP_HEADERS"])


@both
def test_every_scrape_names_its_job_as_the_local_stack_does_at_the_profiles_interval(which):
    m = model(which)
    jobs = set()
    for o in objects(which).values():
        spec = o.get("spec", {})
        endpoints = spec.get("endpoints") or spec.get("podMetricsEndpoints") or []
        for ep in endpoints:
            assert ep["interval"] == str(m.stack.timing.scrape_interval)
            jobs.add(ep["relabelings"][-1]["replacement"])
    expected = {c.JOB_OTELCOL, c.JOB_JAEGER, c.JOB_PROMETHEUS, c.JOB_ALERTMANAGER}
    if m.stack.metrics.value == "pull":
        expected.add(c.JOB_OTELCOL_EXPORTER)
    assert jobs == expected


def test_a_scraped_service_becomes_a_scrapeconfig_with_the_local_jobs_targets_and_labels():
    sc = one("every option", "ScrapeConfig")["spec"]
    assert sc["staticConfigs"] == [{"targets": ["stock-metrics.shop.svc:9100"],
                                    "labels": {"job": "stock", c.SERVICE_NAME_LABEL: "stock"}}]
    assert sc["scrapeInterval"] == "30s"


@both
def test_the_prometheus_patch_asks_for_what_the_local_prometheus_runs_with(which):
    m = model(which)
    spec = objects(which)[c.kube_file("patches", "prometheus")]["spec"]
    assert spec["enableOTLPReceiver"] is (m.stack.metrics.value == "push")
    assert spec["evaluationInterval"] == str(m.stack.timing.evaluation_interval)
    assert spec.get("ruleSelector", {}).get("matchLabels", {}) == dict(m.kubernetes.rule_labels)


BAD = [
    ("a label key with a space", "kubernetes: {labels: {'team name': x}}", "kubernetes.labels"),
    ("a dashboard label value too long", "kubernetes: {dashboard_labels: {grafana_dashboard: " + "x" * 64 + "}}",
     "kubernetes.dashboard_labels"),
    ("an uppercase name prefix", "kubernetes: {name_prefix: Team-}", "kubernetes.name_prefix"),
    ("an unknown collector mode", "kubernetes: {collector: {mode: sidecar}}", "kubernetes.collector.mode"),
    ("a Prometheus without its port", "kubernetes: {prometheus: prometheus-operated}", "kubernetes.prometheus"),
    ("a monitor without a selector", "kubernetes: {monitors: {jaeger: {selector: {}, port: metrics}}}",
     "kubernetes.monitors.jaeger.selector"),
]


@pytest.mark.parametrize("case, yaml_text, where", BAD, ids=[b[0] for b in BAD])
def test_a_bad_kubernetes_setting_is_reported_at_its_line_with_its_path(case, yaml_text, where):
    from obs.errors import SpecError

    text = "version: obs/v1\nproject: p\nservices:\n  - name: a\n" + yaml_text + "\n"
    with pytest.raises(SpecError) as info:
        load_text(text, "obs.yaml", "obs.yaml")
    assert "obs.yaml:5:" in str(info.value) and where in str(info.value)


def test_the_every_option_specs_kubernetes_tree_matches_its_golden_files():
    """Refresh with OBS_UPDATE_GOLDEN=1 after an intended change, and review the diff."""
    tree = {p: t for p, t in files("every option").items() if p.startswith(OWN)}
    if os.environ.get("OBS_UPDATE_GOLDEN") == "1":
        for old in sorted(GOLDEN.rglob("*"), reverse=True):
            old.unlink() if old.is_file() else old.rmdir()
        for p, t in tree.items():
            (GOLDEN / p).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / p).write_text(t, encoding="utf-8")
    golden = {str(p.relative_to(GOLDEN)): p.read_text(encoding="utf-8") for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(golden) == sorted(tree)
    assert golden == tree


def test_the_repositorys_committed_kubernetes_tree_is_what_its_spec_generates():
    tree = {p: t for p, t in files("repo").items() if p.startswith(OWN)}
    assert tree and all((REPO / p).read_text(encoding="utf-8") == t for p, t in tree.items())
    committed = {str(p.relative_to(REPO)) for d in OWN for p in Path(REPO / d).rglob("*") if p.is_file()}
    assert committed == set(tree)
