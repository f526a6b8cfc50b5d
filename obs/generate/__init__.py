"""All artifacts from one model. Each module here is pure: model in, {path: text} out."""
from __future__ import annotations

from importlib import import_module

from obs.emit.ownership import Layout
from obs.generate.common import Inputs
from obs.model import conventions as c
from obs.model.domain import Model

# Where generated files may live in an output directory; the writer owns only what it wrote there.
LAYOUT = Layout(tops=c.OWNED, user_suffixes=(c.USER_DASHBOARD_SUFFIX,),
                marker=c.HEADER.split("{")[0].encode())

# Order is only for readability of --verbose output; paths never collide.
MODULES = (
    "slo_rules",
    "pipeline_rules",
    "rule_tests",
    "otelcol",
    "builder_manifest",
    "jaeger",
    "prometheus",
    "alertmanager",
    "grafana_provisioning",
    "dashboards",
    "openslo",
    "instrumentation",
    "compose",
)


def render(model: Model, inputs: Inputs = Inputs()) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in MODULES:
        module = import_module(f"obs.generate.{name}")
        for path, text in module.generate(model, inputs).items():
            if path in files:
                raise AssertionError(f"{name} and another generator both write {path}")
            files[path] = text
    return dict(sorted(files.items()))
