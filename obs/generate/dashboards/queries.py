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
from obs.generate.dashboards.model import Dashboard, PanelQuery, ref_id, why_empty
from obs.model.domain import Model

__all__ = ["PanelQuery", "dashboard_specs", "panel_queries"]


def dashboard_specs(model: Model) -> tuple[Dashboard, ...]:
    """Overview, pipeline health, one per service, one per SLO; in a stable order."""
    return ((dashboard_overview.dashboard(model), dashboard_pipeline.dashboard(model))
            + tuple(dashboard_service.dashboard(model, s) for s in model.services)
            + tuple(dashboard_slo.dashboard(model, slo) for slo in model.slos))


def panel_queries(model: Model) -> list[PanelQuery]:
    out = []
    for d in dashboard_specs(model):
        for panel in d.panels:
            for i, q in enumerate(panel.queries):
                why = why_empty(panel, q)
                out.append(PanelQuery(dashboard_uid=d.uid, panel_title=panel.title, ref_id=ref_id(i), expr=q.expr,
                                      may_be_empty=bool(why), why_empty=why, instant=q.instant,
                                      min_interval=str(d.interval)))
    return out
