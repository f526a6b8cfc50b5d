"""All artifacts from one model. Each generator is pure: model in, {path: text} out.

The families, one subpackage each: `slo/` (SLO rules, alerts, promtool scenarios, OpenSLO), `pipeline/` (the
pipeline's own health and incident rules), `dashboards/` (Grafana dashboards as code), `configs/` (component
configs and docker-compose.yml); `rule_tests.py` writes the promtool suites for both kinds of rules."""
from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import cast

from obs.emit.ownership import Layout
from obs.generate import kubernetes, stamp
from obs.generate.common import Inputs, forget
from obs.generate.stamp import Stamped, Tree
from obs.model import conventions as c
from obs.model.domain import Model

# Where generated files may live in an output directory; the writer owns only what it wrote there.
LAYOUT = Layout(tops=c.OWNED, user_suffixes=(c.USER_DASHBOARD_SUFFIX,),
                marker=c.HEADER.split("{")[0].encode())

# Order is only for readability of --verbose output; paths never collide.
MODULES = (
    "slo.rules",
    "pipeline.rules",
    "rule_tests",
    "configs.otelcol",
    "configs.builder_manifest",
    "configs.jaeger",
    "configs.prometheus",
    "configs.alertmanager",
    "configs.grafana_provisioning",
    "dashboards.render",
    "slo.openslo",
    "configs.instrumentation",
    "configs.compose",
    "rulers",
)


def render(model: Model, inputs: Inputs = Inputs()) -> Tree:
    """Every artifact, by path. A Mapping rather than a dict: most files at scale are stamped from their shape's text
    when read (obs.generate.stamp), so the whole tree is never in memory at once."""
    files: dict[str, str | Stamped] = {}

    def add(name: str, produced: Mapping[str, str | Stamped]) -> None:
        for path, text in produced.items():
            if path in files:
                raise AssertionError(f"{name} and another generator both write {path}")
            files[path] = text

    makers = []
    for name in MODULES:
        module = import_module(f"obs.generate.{name}")
        if hasattr(module, "per_service"):   # a file per service besides any shared: stamped per shape below
            add(name, module.shared(model, inputs))
            makers.append(module.per_service)
        else:
            add(name, module.generate(model, inputs))
    makers.append(kubernetes.per_service)
    own = stamp.per_service(model, makers, forget)
    # Derived from the others' output (deploy/kubernetes holds the dashboards' very JSON), which are all text here.
    service_objects = [p for p in own if p.startswith(c.KUBERNETES_DIR + "/")]
    add("the Kubernetes objects", kubernetes.shared(model, cast("dict[str, str]", files), service_objects))
    add("a per-service generator", own)
    forget(model)
    return Tree(files)
