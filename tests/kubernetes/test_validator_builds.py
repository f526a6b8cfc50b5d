"""The validators' builds: what they are made of, read from the real binaries."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from obs import versions
from obs.stack import build
from obs.stack.gotool import Go
from tests.support import kube_tools as kt

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("name", ["kustomize", "thanos", "cortextool", "kubecheck"])
def test_no_agpl_module_is_compiled_into(name, tmp_path):
    linked = Go(tmp_path / "go.log").linked_modules(kt.tool(name))
    assert linked, f"{name} has no build information"
    assert not [m for m in linked if re.match(r"github\.com/grafana/(mimir|loki|tempo|grafana)(/|$)", m)], linked


def test_cortextool_is_built_without_its_loki_backend(tmp_path):
    rules = kt.write_rule_file([{"name": "g", "rules": [{"record": "a:b:c", "expr": "sum(up)"}]}], tmp_path / "r.yaml")
    result = kt.run([kt.tool("cortextool"), "rules", "lint", "--dry-run", "--backend=loki", rules])
    assert not result.ok and "without its Loki backend" in result.output, str(result)
    assert kt.cortextool_check(rules).ok   # the Cortex backend, the one obs uses, is whole


def test_kubecheck_holds_every_kubernetes_module_at_the_pinned_release():
    result = kt.run([kt.tool("kubecheck"), "--version"])
    assert result.ok, str(result)
    k8s = dict(re.findall(r"(k8s\.io/[\w-]+) (v[\w.-]+)", result.output))
    release = versions.KUBERNETES_LIBS
    assert {"k8s.io/api", "k8s.io/apimachinery", "k8s.io/apiextensions-apiserver", "k8s.io/apiserver"} <= set(k8s)
    # The modules of a Kubernetes release (v0.MINOR.PATCH); kube-openapi and utils have commit pseudo-versions.
    released = {m: v for m, v in k8s.items() if re.fullmatch(r"v0\.\d+\.\d+", v)}
    assert set(released.values()) == {release}, result.output
    assert f"opentelemetry-operator {versions.OPENTELEMETRY_OPERATOR}" in result.output


def test_kubecheck_is_rebuilt_into_an_entry_named_after_its_recipe():
    path = kt.tool("kubecheck")
    assert path.parent == build.TARGETS["kubecheck"].entry and path.parent.name.startswith("kubecheck-")
    assert Path(path).is_file()
