"""Grafana dashboards as code: the generated ones, and the user's `dashboards/*.dashboard.py`.

The only module that imports grafanalib. What each panel shows and queries is decided in
obs/generate/dashboards/queries.py as plain data; this module turns it into Grafana JSON with
current panel types only (timeseries, stat, table, text; never the Angular `graph`).
"""
from __future__ import annotations

from typing import Any

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from obs.errors import Problem
from obs.generate.common import Inputs, json
from obs.generate.dashboards import user as user_dashboards
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Variable, description, layout, ref_id
from obs.generate.dashboards.queries import dashboard_specs
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.durations import Duration

DATASOURCE = {"type": "prometheus", "uid": "${" + c.DASHBOARD_DATASOURCE_VARIABLE + "}"}
# Grafana 10+ schema: a lower one makes Grafana run old migrations over the panels on load.
SCHEMA_VERSION = 39
MIN_REFRESH = Duration.parse("5s")


def _plain(obj: object) -> object:
    """grafanalib objects to plain JSON data, so the one deterministic dumper writes every file.

    What grafanalib's DashboardEncoder does, without a dump-and-parse round trip (half the cost at scale).
    """
    kind = type(obj)
    if kind is str or kind is int or kind is bool or kind is float or obj is None:
        return obj   # most of the values: exact leaf types, which have no to_json_data
    if type(obj) is dict:
        return {k: _plain(v) for k, v in obj.items()}
    if type(obj) is list:
        return [_plain(v) for v in obj]
    while hasattr(obj, "to_json_data"):
        obj = obj.to_json_data()
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return _plain(DashboardEncoder().default(obj))   # raises TypeError for what JSON cannot hold


def _targets(panel: Panel, interval: Duration) -> list[g.Target]:
    return [g.Target(expr=q.expr, legendFormat=q.legend, refId=ref_id(i), instant=q.instant,
                     format="table" if panel.kind == PanelKind.TABLE else "time_series", interval=str(interval),
                     intervalFactor=1, datasource=DATASOURCE)
            for i, q in enumerate(panel.queries)]


def _steps(panel: Panel) -> list[dict[str, Any]]:
    steps = panel.steps or (("green", None),)
    return [{"color": color, "value": value} for color, value in steps]


def _mappings(panel: Panel) -> list[dict[str, Any]]:
    if not panel.mappings:
        return []
    options = {value: {"text": text, "color": color, "index": i} for i, (value, text, color) in
               enumerate(panel.mappings)}
    return [{"type": "value", "options": options}]


def _links(panel: Panel) -> list[dict[str, Any]]:
    return [{"title": title, "url": url, "targetBlank": url.startswith("http")} for title, url in panel.links]


def _defaults(panel: Panel) -> dict[str, Any]:
    """Field settings grafanalib does not expose for every panel type, merged in as extra JSON."""
    defaults: dict[str, Any] = {"thresholds": {"mode": "absolute", "steps": _steps(panel)}}
    if panel.data_links:
        defaults["links"] = [{"title": title, "url": url} for title, url in panel.data_links]
    if panel.no_value:
        defaults["noValue"] = panel.no_value
    return {"fieldConfig": {"defaults": defaults}}


def _table_extras(panel: Panel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rename = {f"Value #{ref_id(i)}": title for i, (title, _, _) in enumerate(panel.columns)}
    if len(panel.queries) == 1 and panel.columns:
        rename = {"Value": panel.columns[0][0]}
    transformations = [{"id": "merge", "options": {}}] if len(panel.queries) > 1 else []
    transformations.append({"id": "organize", "options": {
        "excludeByName": {name: True for name in panel.hide_columns}, "renameByName": rename, "indexByName": {}}})
    overrides = []
    for title, unit, steps in panel.columns:
        properties: list[dict[str, Any]] = [{"id": "unit", "value": unit}]
        if steps:
            properties += [{"id": "thresholds", "value": {"mode": "absolute", "steps": [
                {"color": color, "value": value} for color, value in steps]}},
                {"id": "custom.cellOptions", "value": {"type": "color-text"}}]
        overrides.append({"matcher": {"id": "byName", "options": title}, "properties": properties})
    return transformations, overrides


def _panel(panel: Panel, x: int, y: int, panel_id: int, interval: Duration) -> object:
    row = panel.kind == PanelKind.ROW
    pos = g.GridPos(h=1 if row else panel.height, w=24 if row else panel.width, x=x, y=y)
    if panel.kind == PanelKind.ROW:
        return g.RowPanel(title=panel.title, gridPos=pos, id=panel_id)
    common = {"title": panel.title, "description": description(panel) or None, "gridPos": pos, "id": panel_id,
              "links": _links(panel)}
    if panel.kind == PanelKind.TEXT:
        return g.Text(content=panel.content, mode="markdown", **common)
    if panel.kind == PanelKind.NODEGRAPH:
        # grafanalib has no node graph panel: plain JSON, drawn by Grafana from the Jaeger datasource, which
        # computes the dependency graph from stored traces (no metrics needed).
        jaeger = {"type": "jaeger", "uid": c.DATASOURCE_JAEGER_UID}
        return {"type": "nodeGraph", "title": panel.title, "description": description(panel), "id": panel_id,
                "gridPos": _plain(pos), "datasource": jaeger, "links": _links(panel),
                "targets": [{"refId": "A", "datasource": jaeger, "queryType": "dependencyGraph"}]}
    data = {"dataSource": DATASOURCE, "targets": _targets(panel, interval), "thresholds": _steps(panel),
            "interval": str(interval), "extraJson": _defaults(panel), **common}
    if panel.kind == PanelKind.TIMESERIES:
        return g.TimeSeries(unit=panel.unit, thresholdsStyleMode=panel.threshold_style, valueMin=panel.minimum,
                            valueMax=panel.maximum, valueDecimals=panel.decimals, tooltipMode="multi",
                            mappings=_mappings(panel), **data)
    if panel.kind == PanelKind.STAT:
        instant = all(q.instant for q in panel.queries)
        return g.Stat(format=panel.unit or "none", decimals=panel.decimals, noValue=panel.no_value or "no data",
                      mappings=_mappings(panel), reduceCalc="lastNotNull", graphMode="none" if instant else "area",
                      textMode="value_and_name" if any(q.legend for q in panel.queries) else "auto", **data)
    if panel.kind == PanelKind.TABLE:
        transformations, overrides = _table_extras(panel)
        return g.Table(unit=panel.unit, transformations=transformations, overrides=overrides, **data)
    raise ValueError(f"unknown panel kind {panel.kind!r}")


def _variable(v: Variable) -> g.Template:
    # Refreshed with the time range: a service that starts sending shows up without reloading the dashboard.
    return g.Template(name=v.name, label=v.label, query=v.query, dataSource=DATASOURCE, type="query",
                      refresh=g.REFRESH_ON_TIME_RANGE_CHANGE, includeAll=v.include_all,
                      allValue=c.VARIABLE_ALL if v.include_all else None, default="$__all" if v.include_all else None,
                      sort=g.SORT_ALPHA_ASC)


def _header_link(title: str, url: str) -> g.DashboardLink:
    external = url.startswith("http")
    return g.DashboardLink(title=title, uri=url, type="link", keepTime=not external, targetBlank=external,
                           icon="external link" if external else "dashboard")


def _refresh(model: Model) -> str:
    return str(max(model.stack.timing.evaluation_interval, MIN_REFRESH))


def build(model: Model, spec: Dashboard) -> g.Dashboard:
    """One generated dashboard as a grafanalib object."""
    panels = [_panel(p, x, y, i, spec.interval) for i, (p, x, y) in enumerate(layout(spec.panels), start=1)]
    datasource = g.Template(name=c.DASHBOARD_DATASOURCE_VARIABLE, query="prometheus", type="datasource",
                            default=c.DATASOURCE_PROMETHEUS_UID, label="Prometheus")
    return g.Dashboard(
        title=spec.title, uid=spec.uid, description=spec.description, tags=list(spec.tags), panels=panels,
        templating=g.Templating([datasource] + [_variable(v) for v in spec.variables]),
        time=g.Time(spec.time_from, "now"), refresh=_refresh(model),
        links=[_header_link(t, u) for t, u in spec.links], timezone="browser", editable=False,
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR, schemaVersion=SCHEMA_VERSION)


def _user_dashboards(inputs: Inputs, taken: set[str]) -> dict[str, str]:
    loaded, problems = user_dashboards.run_all(inputs.user_dashboards)
    files: dict[str, str] = {}
    for item in loaded:
        if not isinstance(item.value, g.Dashboard):
            problems.append(Problem(item.file, f"`{user_dashboards.VARIABLE}` is a {type(item.value).__name__}, "
                                               "not a grafanalib Dashboard (grafanalib.core.Dashboard)"))
            continue
        if item.output in taken:
            problems.append(Problem(item.file, f"would overwrite the generated {item.output}; rename the file"))
            continue
        try:
            files[item.output] = json(_plain(item.value.auto_panel_ids().to_json_data()))
        except Exception as e:   # a value grafanalib cannot encode: the user's to fix, not a crash
            problems.append(Problem(item.file, f"cannot be rendered to JSON: {type(e).__name__}: {e}"))
    if problems:
        raise user_dashboards.UserDashboardError(problems)
    return files


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    files = {c.dashboard_file(spec.uid): json(_plain(build(model, spec).to_json_data()))
             for spec in dashboard_specs(model)}
    files.update(_user_dashboards(inputs, set(files)))
    return files
