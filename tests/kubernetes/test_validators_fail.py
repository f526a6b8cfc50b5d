"""Each validator of the Kubernetes artifacts can fail: a valid fixture passes it, and one mistake in it fails it.

Without these, test_generated_manifests.py could pass against a checker that accepts anything. Each table
starts from fixtures that pass (checked first, so a failure below is the mistake's and not the fixture's) and
makes one mistake of the kind the generator could make.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from obs.emit import yaml_dump
from obs.model import conventions as c
from tests.support import kube_tools as kt
from tests.support.paths import REPO

pytestmark = pytest.mark.stack

Obj = dict[str, Any]

RULE: Obj = {
    "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "shop"},
    "spec": {"groups": [{"name": "shop", "interval": "30s", "rules": [
        {"record": "job:up:sum", "expr": "sum by (job) (up)"},
        {"alert": "ShopDown", "expr": "job:up:sum == 0", "for": "5m", "labels": {"severity": "page"}},
    ]}]},
}
MONITOR: Obj = {
    "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "shop"},
    "spec": {"selector": {"matchLabels": {"app": "shop"}}, "endpoints": [{"port": "metrics", "scheme": "http"}]},
}
COLLECTOR_CONFIG: Obj = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {"memory_limiter": {"check_interval": "1s", "limit_mib": 512}},
    "exporters": {"otlp_http": {"endpoint": "http://jaeger-collector.tracing:4318"}},
    "service": {"pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter"],
                                         "exporters": ["otlp_http"]}}},
}
COLLECTOR: Obj = {
    "apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector", "metadata": {"name": "shop"},
    "spec": {"mode": "deployment", "config": COLLECTOR_CONFIG},
}
DASHBOARDS: Obj = {
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shop-dashboards"}, "data": {"shop.json": "{}"},
}
POD_LABELS = {"app.kubernetes.io/name": "shop"}
DEPLOYMENT: Obj = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
    "spec": {"replicas": 2, "selector": {"matchLabels": dict(POD_LABELS)}, "template": {
        "metadata": {"labels": dict(POD_LABELS)},
        "spec": {"containers": [{"name": "query", "image": "quay.io/thanos/thanos:v0.42.4", "args": ["query"],
                                 "ports": [{"name": "http", "containerPort": 10904}]}]}}},
}
SERVICE: Obj = {
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop"},
    "spec": {"selector": POD_LABELS, "ports": [{"name": "http", "port": 10904, "targetPort": "http"}]},
}
VALID = {"PrometheusRule": RULE, "ServiceMonitor": MONITOR, "OpenTelemetryCollector": COLLECTOR, "ConfigMap": DASHBOARDS,
         "Deployment": DEPLOYMENT, "Service": SERVICE}


def mutated(kind: str, change: Callable[[Obj], object]) -> Obj:
    obj = copy.deepcopy(VALID[kind])
    change(obj)
    return obj


def group(obj: Obj) -> Obj:
    return obj["spec"]["groups"][0]


def test_the_fixtures_pass_kubecheck():
    result = kt.kubecheck_objects(VALID.values())
    assert result.ok, str(result)


# (what is wrong, the object, the line kubecheck must print after "-:DOC#1 KIND/NAME: ")
KUBECHECK = [
    ("an unknown field in a PrometheusRule's group",
     mutated("PrometheusRule", lambda o: group(o).update(evaluation="1m")),
     "PrometheusRule/shop: spec.groups[0].evaluation: unknown field"),
    ("an unknown field in a PrometheusRule's rule",
     mutated("PrometheusRule", lambda o: group(o)["rules"][1].update(severity="page")),
     "PrometheusRule/shop: spec.groups[0].rules[1].severity: unknown field"),
    ("a collector's spec.config given as a string, not a mapping",
     mutated("OpenTelemetryCollector", lambda o: o["spec"].update(config=yaml_dump.dump(COLLECTOR_CONFIG))),
     "OpenTelemetryCollector/shop: spec.config: a string where v1beta1.Config is expected"),
    # Go's JSON decoder names the field without list indices; the schema's line below it names the element.
    ("a rule group's interval given as a number",
     mutated("PrometheusRule", lambda o: group(o).update(interval=30)),
     "PrometheusRule/shop: spec.groups.interval: a number where v1.Duration is expected"),
    ("a rule group's interval given as a number, which the CRD's schema also refuses",
     mutated("PrometheusRule", lambda o: group(o).update(interval=30)),
     "PrometheusRule/shop: spec.groups[0].interval: Invalid value: \"integer\": spec.groups[0].interval in body "
     "must be of type string"),
    # The Go types take any string here; only the CRD's schema, through the apiserver's validation, refuses.
    ("a partial_response_strategy outside the CRD's pattern",
     mutated("PrometheusRule", lambda o: group(o).update(partial_response_strategy="sometimes")),
     "PrometheusRule/shop: spec.groups[0].partial_response_strategy: Invalid value: \"sometimes\": "
     "spec.groups[0].partial_response_strategy in body should match '^(?i)(abort|warn)?$'"),
    ("a ServiceMonitor endpoint scheme outside the CRD's enum",
     mutated("ServiceMonitor", lambda o: o["spec"]["endpoints"][0].update(scheme="gopher")),
     "ServiceMonitor/shop: spec.endpoints[0].scheme: Unsupported value: \"gopher\": supported values: "
     "\"http\", \"https\", \"HTTP\", \"HTTPS\""),
    ("a sidecar collector with tolerations, which the CRD's CEL rule forbids",
     mutated("OpenTelemetryCollector", lambda o: o["spec"].update(
         mode="sidecar", tolerations=[{"key": "dedicated", "operator": "Exists"}])),
     "OpenTelemetryCollector/shop: spec: Invalid value: the OpenTelemetry Collector mode is set to sidecar, "
     "which does not support the attribute 'tolerations'"),
    ("a null processor, which the operator warns kustomize drops",
     mutated("OpenTelemetryCollector", lambda o: o["spec"]["config"]["processors"].update(batch=None)),
     "OpenTelemetryCollector/shop: spec.config.processors.batch: is null; the operator warns that kustomize and "
     "kubectl edit drop null objects: write {}"),
    ("a receiver port the operator cannot turn into a Service port",
     mutated("OpenTelemetryCollector", lambda o: o["spec"]["config"]["receivers"]["otlp"]["protocols"]["grpc"]
             .update(endpoint="0.0.0.0:99999")),
     "OpenTelemetryCollector/shop: spec.config: port \"otlp-grpc\": must be between 1 and 65535, inclusive"),
    ("an object name the apiserver refuses",
     mutated("PrometheusRule", lambda o: o["metadata"].update(name="Shop_Rules")),
     "PrometheusRule/Shop_Rules: metadata.name: Invalid value: \"Shop_Rules\": a lowercase RFC 1123 subdomain"),
    ("a ConfigMap key the apiserver refuses",
     mutated("ConfigMap", lambda o: o["data"].update({"shop/overview.json": "{}"})),
     "ConfigMap/shop-dashboards: data[shop/overview.json]: Invalid value: \"shop/overview.json\": a valid config "
     "key must consist of alphanumeric characters"),
    ("a ConfigMap over the apiserver's 1 MiB",
     mutated("ConfigMap", lambda o: o["data"].update({"big.json": "x" * (1 << 20)})),
     "ConfigMap/shop-dashboards: data: Too long: may not be more than 1048576 bytes"),
    ("a Deployment whose selector does not pick its own pods",
     mutated("Deployment", lambda o: o["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "x"})),
     "Deployment/shop: spec.template.metadata.labels: Invalid value: "),
    ("an unknown field in a Deployment's container",
     mutated("Deployment", lambda o: o["spec"]["template"]["spec"]["containers"][0].update(arguments=["query"])),
     "Deployment/shop: spec.template.spec.containers[0].arguments: unknown field"),
    ("a container port name the apiserver refuses",
     mutated("Deployment", lambda o: o["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
         name="thanos_query_http")),
     "Deployment/shop: spec.template.spec.containers[0].ports[0].name: Invalid value: \"thanos_query_http\""),
    ("a Service targetPort name the apiserver refuses",
     mutated("Service", lambda o: o["spec"]["ports"][0].update(targetPort="HTTP API")),
     "Service/shop: spec.ports[0].targetPort: Invalid value: \"HTTP API\""),
    ("a kind kubecheck does not know",
     {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRules", "metadata": {"name": "shop"}},
     "PrometheusRules/shop: apiVersion/kind: \"monitoring.coreos.com/v1\" \"PrometheusRules\" is not a kind "
     "kubecheck knows"),
]


@pytest.mark.parametrize("obj, line", [(o, line) for _, o, line in KUBECHECK], ids=[w for w, _, _ in KUBECHECK])
def test_kubecheck_refuses(obj, line):
    result = kt.kubecheck_objects([obj])
    assert result.code == 1, str(result)
    assert any(printed.startswith(f"-:DOC#1 {line}") for printed in result.output.splitlines()), str(result)


SCHEMA_ONLY = ("a partial_response_strategy outside the CRD's pattern",
               "a ServiceMonitor endpoint scheme outside the CRD's enum",
               "a sidecar collector with tolerations, which the CRD's CEL rule forbids")
assert len([w for w, _, _ in KUBECHECK if w in SCHEMA_ONLY]) == len(SCHEMA_ONLY)


@pytest.mark.parametrize("obj", [o for w, o, _ in KUBECHECK if w in SCHEMA_ONLY],
                         ids=[w for w, _, _ in KUBECHECK if w in SCHEMA_ONLY])
def test_only_the_crd_schema_refuses(obj):
    # The strict decode into the Go type takes these objects: one line, the schema's, and nothing else.
    result = kt.kubecheck_objects([obj])
    assert result.code == 1 and len(result.output.splitlines()) == 1, str(result)


def test_kubecheck_refuses_a_field_written_twice():
    text = yaml_dump.dump(RULE).replace("kind: PrometheusRule\n", "kind: PrometheusRule\nkind: PrometheusRule\n")
    result = kt.kubecheck(stdin=text)
    assert result.code == 1, str(result)
    assert 'PrometheusRule/shop: -: yaml: unmarshal errors: line 3: key "kind" already set in map' in result.output


def test_kubecheck_reports_every_problem_of_every_document_at_once(tmp_path):
    first = mutated("PrometheusRule", lambda o: (group(o).update(evaluation="1m"), o["metadata"].update(name="A")))
    second = mutated("ServiceMonitor", lambda o: o["spec"]["endpoints"][0].update(scheme="gopher"))
    path = tmp_path / "objects.yaml"
    path.write_text("# a comment, not a document\n---\n" + yaml_dump.dump(first) + "---\n" + yaml_dump.dump(second))
    result = kt.kubecheck(path)
    lines = result.output.splitlines()
    assert result.code == 1 and len(lines) == 3, str(result)
    assert [line.split(": ")[0] for line in lines] == [f"{path}:DOC#1 PrometheusRule/A"] * 2 + [
        f"{path}:DOC#2 ServiceMonitor/shop"], str(result)


def test_kubecheck_says_so_when_a_file_cannot_be_read(tmp_path):
    result = kt.kubecheck(tmp_path / "missing.yaml")
    assert result.code == 2 and "missing.yaml: open" in result.output, str(result)


# -- the rule files ---------------------------------------------------------------------------------------------

THANOS_GROUP: Obj = {**RULE["spec"]["groups"][0], "partial_response_strategy": "warn"}
CORTEX: Obj = {"namespace": "shop", "groups": RULE["spec"]["groups"]}


def with_expr(groups: list[Obj], expr: str) -> list[Obj]:
    changed = copy.deepcopy(groups)
    changed[0]["rules"][0]["expr"] = expr
    return changed


def thanos(tmp_path: Path, groups: list[Obj]) -> kt.Result:
    return kt.thanos_rules_check(kt.write_rule_file(groups, tmp_path / "shop.rules.yaml"))


def cortex(tmp_path: Path, namespace: Obj) -> kt.Result:
    path = tmp_path / "shop.yaml"
    path.write_text(yaml_dump.dump(namespace))
    return kt.cortextool_check(path)


def promtool(tmp_path: Path, groups: list[Obj]) -> kt.Result:
    return kt.promtool_check_rules(kt.write_rule_file(groups, tmp_path / "shop.rules.yaml"))


def test_the_rule_fixtures_pass_their_checkers(tmp_path):
    for result in (thanos(tmp_path, [THANOS_GROUP]), cortex(tmp_path, CORTEX), promtool(tmp_path, RULE["spec"]["groups"])):
        assert result.ok, str(result)


BAD_PROMQL = "sum by (job) (up"
RULES = [
    ("bad PromQL in a Thanos rule file fails thanos rules-check",
     lambda tmp: thanos(tmp, with_expr([THANOS_GROUP], BAD_PROMQL)), "unclosed left parenthesis"),
    ("a partial_response_strategy Thanos does not know fails thanos rules-check",
     lambda tmp: thanos(tmp, [{**THANOS_GROUP, "partial_response_strategy": "sometimes"}]), "sometimes"),
    ("bad PromQL in a cortex rule file fails cortextool",
     lambda tmp: cortex(tmp, {**CORTEX, "groups": with_expr(CORTEX["groups"], BAD_PROMQL)}),
     "unclosed left parenthesis"),
    ("an unknown key in a cortex rule file fails cortextool",
     lambda tmp: cortex(tmp, {**CORTEX, "tenant": "shop"}), "field tenant not found"),
    ("a recording rule name without the level:metric:operation colons fails cortextool rules check",
     lambda tmp: cortex(tmp, {**CORTEX, "groups": [{**CORTEX["groups"][0], "rules": [
         {"record": "job_up_sum", "expr": "sum by (job) (up)"}]}]}), "erroneous recording rule names"),
    ("bad PromQL in a PrometheusRule's groups fails promtool check rules",
     lambda tmp: promtool(tmp, with_expr(RULE["spec"]["groups"], BAD_PROMQL)), "unclosed left parenthesis"),
]


@pytest.mark.parametrize("check, said", [(f, s) for _, f, s in RULES], ids=[w for w, _, _ in RULES])
def test_a_rule_checker_fails(tmp_path, check, said):
    result = check(tmp_path)
    assert not result.ok and said in result.output, str(result)


# -- kustomize and the collector ---------------------------------------------------------------------------------

def kustomization(tmp_path: Path, resources: list[str]) -> Path:
    (tmp_path / "rules.yaml").write_text(yaml_dump.dump(RULE))
    (tmp_path / "kustomization.yaml").write_text(yaml_dump.dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}))
    return tmp_path


def test_kustomize_builds_a_kustomization_whose_files_exist(tmp_path):
    assert kt.kustomize_build(kustomization(tmp_path, ["rules.yaml"])).ok


def test_kustomize_fails_on_a_kustomization_naming_a_missing_file(tmp_path):
    result = kt.kustomize_build(kustomization(tmp_path, ["rules.yaml", "monitors/shop.yaml"]))
    assert not result.ok and "monitors/shop.yaml" in result.output, str(result)


def test_otelcol_validate_passes_the_fixture_and_fails_a_pipeline_naming_an_unconfigured_processor(tmp_path):
    # The repository's own tree: its builder manifest is committed (deploy/otelcol/builder-config.yaml).
    assert (REPO / c.OTELCOL_MANIFEST).is_file()
    assert kt.otelcol_validate(REPO, COLLECTOR_CONFIG, tmp_path).ok
    broken = copy.deepcopy(COLLECTOR_CONFIG)
    broken["service"]["pipelines"]["traces"]["processors"] = ["memory_limiter", "memory_limiter/second"]
    result = kt.otelcol_validate(REPO, broken, tmp_path)
    assert not result.ok and "memory_limiter/second" in result.output, str(result)
