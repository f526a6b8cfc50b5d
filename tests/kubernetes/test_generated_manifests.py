"""The generated Kubernetes artifacts, taken by the upstream tools that will consume them.

For the repository's spec and for the spec that uses every Kubernetes option, the tree obs writes is built by
kustomize, every object is checked by kubecheck (the operators' own Go types, their CRD schemas through the
apiserver's validation), every rule group by promtool, every collector config by `otelcol validate`, and the
ruler files by Thanos and cortextool. tests/kubernetes/test_validators_fail.py shows each of these can fail.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from obs.model import conventions as c
from obs.project import load_model
from tests.support import kube_tools as kt
from tests.support.paths import FIXTURES, REPO
from tests.support.real_tools import write_tree

pytestmark = pytest.mark.stack

SPECS = {"repo": REPO / "obs.yaml", "every-option": FIXTURES / "kubernetes" / "obs.yaml",
         "topology-ha": FIXTURES / "kubernetes-ha" / "obs.yaml"}


@pytest.fixture(scope="module", params=sorted(SPECS))
def tree(request, tmp_path_factory) -> Path:
    return write_tree(load_model(SPECS[request.param]), tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def built(tree) -> list[dict[str, Any]]:
    """`kustomize build deploy/kubernetes`: the objects as they would be applied."""
    result = kt.kustomize_build(tree / c.KUBERNETES_DIR)
    assert result.ok, f"kustomize build failed, {result}"
    return kt.documents(result.output)


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    found = [o for o in objects if o.get("kind") == kind]
    # Every spec here makes each kind the checks below are about; none may pass for want of objects.
    assert found, f"no {kind} among {sorted({o.get('kind') for o in objects})}"
    return found


def test_kustomize_builds_every_object_of_every_file_the_kustomization_names(tree, built):
    root = tree / c.KUBERNETES_DIR
    named = [d for r in kt.read(tree / c.KUSTOMIZATION)["resources"] for d in kt.documents((root / r).read_text())]
    assert sorted(o["kind"] for o in built) == sorted(o["kind"] for o in named)


def test_kubecheck_accepts_every_object_kustomize_builds(built):
    result = kt.kubecheck_objects(built)
    assert result.ok, f"kubecheck refused the built objects, {result}"


def test_kubecheck_accepts_every_file_in_deploy_kubernetes(tree):
    files = kt.manifests(tree)
    result = kt.kubecheck(*files)
    assert result.ok, f"kubecheck refused generated files, {result}"


def test_every_prometheus_rule_passes_promtool_check_rules(built, tmp_path):
    files = [kt.write_rule_file(rule["spec"]["groups"], tmp_path / f"{rule['metadata']['name']}.rules.yaml")
             for rule in of_kind(built, "PrometheusRule")]
    result = kt.promtool_check_rules(*files)
    assert result.ok, f"promtool check rules refused a PrometheusRule's groups, {result}"


def test_every_collector_config_passes_otelcol_validate(tree, built, tmp_path):
    for collector in of_kind(built, "OpenTelemetryCollector"):
        scratch = tmp_path / collector["metadata"]["name"]
        scratch.mkdir()
        result = kt.otelcol_validate(tree, collector["spec"]["config"], scratch)
        assert result.ok, f"otelcol validate refused {collector['metadata']['name']}'s spec.config, {result}"


def test_every_thanos_rule_file_passes_thanos_rules_check(tree):
    files = kt.thanos_files(tree)
    assert files, "no Thanos rule files"
    result = kt.thanos_rules_check(*files)
    assert result.ok, f"thanos tools rules-check refused, {result}"


def test_every_cortex_rule_file_passes_cortextool_and_its_groups_promtool(tree, tmp_path):
    tenants = kt.cortex_tenants(tree)
    assert tenants and all(tenants.values()), f"no cortex rule files: {tenants}"
    for tenant, files in tenants.items():
        result = kt.cortextool_check(*files)
        assert result.ok, f"cortextool refused tenant {tenant}'s files, {result}"
        groups = [kt.write_rule_file(kt.read(f)["groups"], tmp_path / f"{tenant}-{f.name}") for f in files]
        result = kt.promtool_check_rules(*groups)
        assert result.ok, f"promtool check rules refused tenant {tenant}'s groups, {result}"
