"""Every dashboard obs generates, as plain data, and every query its panels run.

`panel_queries(model)` is the verifier's contract: it lists each PromQL query of the
generated dashboards with the dashboard UID and panel title it belongs to, and whether it
may legitimately return no data (and why). Free of grafanalib, like everything but
obs/generate/dashboards/render.py.
"""
from __future__ import annotations

from obs.generate.dashboards import overview as dashboard_overview
from obs.generate.dashboards import pipeline as dashboard_pipeline
from obs.generate.dashboards import service as dashboard_service
from obs.generate.dashboards import slo as dashboard_slo
from obs.generate.dashboards import templated
from obs.generate.dashboards.model import Binding, Dashboard, PanelQuery, empty_because, ref_id
from obs.model.domain import Model
from obs.model.kinds import DashboardLayout

__all__ = ["PanelQuery", "dashboard_specs", "panel_queries", "queries_of"]


def dashboard_specs(model: Model) -> tuple[Dashboard, ...]:
    """In a stable order. Templated: overview, service, SLO (if the spec has one), pipeline health, whatever the
    number of services. Per service: overview, pipeline health, one per service, one per SLO."""
    if model.dashboard_layout == DashboardLayout.TEMPLATED:
        return templated.dashboards(model) + (dashboard_pipeline.dashboard(model),)
    return ((dashboard_overview.dashboard(model), dashboard_pipeline.dashboard(model))
            + tuple(dashboard_service.dashboard(model, s) for s in model.services)
            + tuple(dashboard_slo.dashboard(model, slo) for slo in model.slos))


def queries_of(d: Dashboard, variables: Binding = ()) -> list[PanelQuery]:
    """Every query of one dashboard as Grafana runs it with these variable values."""
    out = []
    for panel in d.panels:
        for i, q in enumerate(panel.queries):
            why = empty_because(panel, q, variables)
            out.append(PanelQuery(dashboard_uid=d.uid, panel_title=panel.title, ref_id=ref_id(i), expr=q.expr,
                                  may_be_empty=bool(why), why_empty=why, instant=q.instant,
                                  min_interval=str(d.interval), variables=variables))
    return out


def panel_queries(model: Model) -> list[PanelQuery]:
    """Each query of each dashboard; a templated one's once per value its variables take for the spec."""
    return [q for d in dashboard_specs(model) for binding in (d.bindings or ((),)) for q in queries_of(d, binding)]
