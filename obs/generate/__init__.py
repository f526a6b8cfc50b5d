"""All artifacts from one model. Each generator is pure: model in, {path: text} out.

The families, one subpackage each: `slo/` (SLO rules, alerts, promtool scenarios, OpenSLO), `pipeline/` (the
pipeline's own health and incident rules), `dashboards/` (Grafana dashboards as code), `configs/` (component
configs and docker-compose.yml); `rule_tests.py` writes the promtool suites for both kinds of rules."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from importlib import import_module
from typing import cast

from obs import forked
from obs.emit import halves
from obs.emit.ownership import Layout
from obs.generate import kubernetes, stamp
from obs.generate.common import Inputs, Maker, forget
from obs.generate.stamp_tree import Made, Tree
from obs.generate.stamp_units import Stampings
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


# The generators with a file per service: their files() (each file made when called) are stamped per shape
# (obs.generate.stamp), or their frame() and unit() per shape of service and of SLO (obs.generate.units); their
# shared writes the rest. The others write shared files only (generate). tests/generate/test_render.py holds this
# list to the modules' own functions.
STAMPED = ("slo.rules", "rule_tests", "slo.openslo", "configs.instrumentation", "rulers")
# Services from which a render splits its jobs (generators, stand-ins and probes) over two processes. Not the jobs:
# stamped at a thousand services they are as few as two dozen, yet their generators' share (the dashboards' with
# grafanalib's import most) runs beside the rest; split at a hundred services, a render took 0.85x the time.
SPLIT_FROM = 100
AHEAD = "dashboards.render"   # at scale, begun in a process of its own before the rest (render())
# Renders in full of whole services from which a spec's services are stamped as frames and units instead: where
# shapes of service are many, their SLOs mostly are not, and a unit costs a third of a service; where they are
# few, the units' own set-up (their shapes and proofs, about a hundred services' renders) costs more than it saves.
UNITS_FROM = 100


def _shared(name: str, model: Model, inputs: Inputs) -> dict[str, str]:
    module = import_module(f"obs.generate.{name}")
    return dict(module.shared(model, inputs) if name in STAMPED else module.generate(model, inputs))


def _makers(kind: str) -> list[Maker]:
    return [*(getattr(import_module(f"obs.generate.{name}"), kind) for name in STAMPED), getattr(kubernetes, kind)]


def service_makers() -> list[Maker]:
    """The files() of every generator with a file per service, the Kubernetes objects' last: a service's files
    made whole (obs.generate.units.whole())."""
    return _makers("files")


def stampings(model: Model) -> stamp.Stamping | Stampings:
    """What stamps every service's own files: per shape of service, whole; or where that would render more than
    UNITS_FROM services in full (to prove the stamps, or in shapes too small to stamp), their frames per shape of
    service and their SLOs' units per shape of SLO (obs.generate.units)."""
    services = stamp.Stamping(model, service_makers(), forget)
    if services.renders() <= UNITS_FROM:
        return services
    return Stampings(services, _makers("frame"), _makers("unit"))


def render(model: Model, inputs: Inputs = Inputs()) -> Tree:
    """Every artifact, by path. A Mapping rather than a dict: most files at scale are made when read, stamped from
    their shape's text or rendered in full (obs.generate.stamp), so the whole tree is never in memory at once.

    The generators' shared files and the renders that prove the stamps are independent jobs: at scale every other
    one runs in a second process (obs.emit.halves), the dashboards' (and grafanalib's import) among them."""
    files: dict[str, Made] = {}

    def add(name: str, produced: Mapping[str, Made]) -> None:
        for path, text in produced.items():
            if path in files:
                raise AssertionError(f"{name} and another generator both write {path}")
            files[path] = text

    split = halves.can_split(len(model.services), SPLIT_FROM)
    # The dashboards (with grafanalib's import, the longest job) begin in a process of their own before the
    # stamping's set-up, which would otherwise hold one core while the other waits.
    ahead = forked.Ahead(partial(_shared, AHEAD, model, inputs)) if split else None
    stamping = stampings(model)
    names = [name for name in MODULES if ahead is None or name != AHEAD]
    jobs: list[Callable[[], Mapping[str, str] | None]] = [
        *(partial(_shared, name, model, inputs) for name in names), *stamping.jobs()]
    try:
        done = halves.map_halves(lambda job: job(), jobs, split=split)
        early = ahead.result() if ahead is not None else None
    finally:
        if ahead is not None:
            ahead.cancel()   # a job that failed here leaves its result unread
    for name, produced in zip(names, done, strict=False):
        add(name, cast("Mapping[str, str]", produced))
    if ahead is not None:   # where its process failed, the job runs here: its errors are raised as always
        add(AHEAD, early if early is not None else _shared(AHEAD, model, inputs))
    own = stamping.made(cast("list[dict[str, str] | None]", done[len(names):]))
    # Derived from the others' output (deploy/kubernetes holds the dashboards' very JSON), which are all text here.
    service_objects = [p for p in own if p.startswith(c.KUBERNETES_DIR + "/")]
    add("the Kubernetes objects", kubernetes.shared(model, cast("dict[str, str]", files), service_objects))
    add("a per-service generator", own)
    forget(model)
    return Tree(files)
