"""Dashboards as plain data: what each panel shows and asks Prometheus, before any Grafana JSON exists.

Kept free of grafanalib so the verifier can list and run every panel query without it;
only obs/generate/dashboards/render.py turns these specs into Grafana JSON.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from obs.model import conventions as c
from obs.model import promql
from obs.model.domain import Model
from obs.model.durations import Duration

GRAFANA_VARIABLES = re.compile(r"\$(__rate_interval|__interval|\{__rate_interval\}|\{__interval\})")


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False            # tables and stats that need only the latest value
    why_empty: str = ""              # non-empty: this query may legitimately return nothing, and why


class PanelKind(StrEnum):
    ROW = "row"
    TIMESERIES = "timeseries"
    STAT = "stat"
    TABLE = "table"
    TEXT = "text"
    BARGAUGE = "bargauge"
    NODEGRAPH = "nodegraph"


@dataclass(frozen=True)
class Panel:
    kind: PanelKind
    title: str
    description: str = ""
    queries: tuple[Query, ...] = ()
    unit: str = ""
    # Threshold steps, ascending: (color, value); the first step's value is None (the base colour).
    steps: tuple[tuple[str, float | None], ...] = ()
    threshold_style: str = "off"     # timeseries: off | line | dashed | area | line+area
    no_value: str = ""
    why_empty: str = ""              # applies to every query of the panel
    width: int = 8
    height: int = 8
    content: str = ""                # text panels: markdown
    mappings: tuple[tuple[str, str, str], ...] = ()   # stat: (value, text, color)
    minimum: int | None = None
    maximum: int | None = None
    # table: (title, unit, colour steps or ()) of each query's value column, in query order
    columns: tuple[tuple[str, str, tuple[tuple[str, float | None], ...]], ...] = ()
    hide_columns: tuple[str, ...] = ()                # table: label columns nobody needs to read
    links: tuple[tuple[str, str], ...] = ()           # (title, url)
    decimals: int | None = None
    # (title, url) on every value: a click on a row opens the url, `${__data.fields.<label>}` filled from the row.
    data_links: tuple[tuple[str, str], ...] = ()
    # Templated dashboards: the (variable, value) pairs for which alone the panel may show nothing, and why. The
    # reason is in the description whatever the values, so a dashboard does not change with the spec's services.
    empty_for: tuple[tuple[str, str], ...] = ()
    why_empty_for: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PanelKind(self.kind))


@dataclass(frozen=True)
class Variable:
    """A Grafana query variable: the values of one label of the series `metric` selects, as Prometheus has them now.

    `metric` may name earlier variables (`{team=~"$team"}`): Grafana then refreshes this one when they change.
    """

    name: str
    label: str
    metric: str
    source_label: str
    include_all: bool = False        # an "All" choice, meaning every value (VARIABLE_ALL in `=~` matchers)

    @property
    def query(self) -> str:
        return f"label_values({self.metric}, {self.source_label})"


Binding = tuple[tuple[str, str], ...]   # (variable, value) of every variable of a dashboard, in order


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    kind: str                        # overview | service | slo | pipeline
    description: str
    panels: tuple[Panel, ...]
    interval: Duration               # how often the data behind the panels changes; the queries' min step
    tags: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()           # (title, url) shown in the dashboard's header
    time_from: str = "now-6h"
    variables: tuple[Variable, ...] = ()
    # What the variables take for the spec as it is, each combination once: the values the verifier checks the
    # panels with. Prometheus's own label values are the live test's; both must agree.
    bindings: tuple[Binding, ...] = ()


@dataclass(frozen=True)
class PanelQuery:
    """One query of one panel, as the verifier needs it: what to run, and whether it may be empty."""

    dashboard_uid: str
    panel_title: str
    ref_id: str
    expr: str                        # as stored in the dashboard, Grafana variables included
    may_be_empty: bool
    why_empty: str
    instant: bool
    min_interval: str                # the query's min step, e.g. 1m
    datasource_uid: str = c.DATASOURCE_PROMETHEUS_UID
    variables: Binding = ()          # the value each template variable takes in this run of the query

    @property
    def rate_interval(self) -> str:
        return str(Duration.parse(self.min_interval) * c.RATE_SAMPLES)

    def promql(self) -> str:
        """The expression Prometheus can run directly: Grafana's interval and template variables substituted."""
        return substitute(self.expr, self.min_interval, self.variables)

    @property
    def where(self) -> str:
        """The dashboard as a reader opens it with these variables: its uid, and `?var-...` if any."""
        return self.dashboard_uid + c.dashboard_url_path("", self.variables).removeprefix("/d/")


def substitute(expr: str, min_interval: str, variables: Binding = ()) -> str:
    """What Grafana sends Prometheus: `$__rate_interval` and friends, then `$name` / `${name}` of each variable."""
    rate = str(Duration.parse(min_interval) * c.RATE_SAMPLES)
    expr = GRAFANA_VARIABLES.sub(lambda m: rate if "rate" in m.group(1) else min_interval, expr)
    for name, value in variables:
        expr = re.sub(r"\$(?:\{" + name + r"(?::\w+)?\}|" + name + r"\b)", value.replace("\\", "\\\\"), expr)
    return expr


def layout(panels: tuple[Panel, ...]) -> list[tuple[Panel, int, int]]:
    """Places panels in Grafana's 24-column grid, in order, each as high up as it fits.

    Left to right from a cursor; a panel that no longer fits on the line goes where the columns
    are lowest, so small stats fill the space beside a tall panel. A row panel spans the width.
    """
    heights = [0] * 24
    x, placed = 0, []
    for p in panels:
        if p.kind == PanelKind.ROW:
            y = max(heights)
            placed.append((p, 0, y))
            heights, x = [y + 1] * 24, 0
            continue
        w = min(p.width, 24)
        if x + w > 24:
            x = min(range(24 - w + 1), key=lambda i: (max(heights[i:i + w]), i))
        y = max(heights[x:x + w])
        placed.append((p, x, y))
        heights[x:x + w] = [y + p.height] * w
        x += w
    return placed


def ref_id(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"Q{index}"


def why_empty(panel: Panel, query: Query) -> str:
    return query.why_empty or panel.why_empty


def empty_because(panel: Panel, query: Query, variables: Binding) -> str:
    """Why this query may show nothing with these variable values; empty: it must show data."""
    listed = not set(variables).isdisjoint(panel.empty_for)
    return why_empty(panel, query) or (panel.why_empty_for if listed else "")


def description(panel: Panel) -> str:
    """The panel's description, with every reason it may show no data spelled out for the reader."""
    reasons = sorted({why_empty(panel, q) for q in panel.queries if why_empty(panel, q)}
                     | ({panel.why_empty_for} if panel.why_empty_for else set()))
    text = panel.description
    if reasons:
        text = (text + "\n\n" if text else "") + "May show no data: " + " ".join(reasons)
    return text


# PromQL building blocks on top of obs/model/promql.py.
RATE_INTERVAL = "$__rate_interval"   # Grafana's window for rate(), from the panel's step and the scrape interval


def num(d: Decimal | float | int) -> str:
    """Exact decimal text for PromQL: 0.001, 14.4 (never 1E-3 or float noise)."""
    return format(Decimal(str(d)).normalize(), "f")


def rate(metric: str, selector: str = "") -> str:
    """rate() of `metric` and its matchers (`{...}` or nothing) over Grafana's window."""
    return promql.rate(metric + selector, RATE_INTERVAL)


def zero_when_absent(expr: str, base: str, by: tuple[str, ...]) -> str:
    """`expr`, or 0 for every `by` group `base` has: counters that appear only after a first failure."""
    return f"{expr} or on ({', '.join(by)}) (0 * {base})"


def host_for_links(model: Model) -> str:
    """Where a browser on this machine reaches the stack: loopback when listeners bind everywhere."""
    return "127.0.0.1" if model.stack.bind in ("0.0.0.0", "::", "") else model.stack.bind


def header_links(model: Model) -> tuple[tuple[str, str], ...]:
    return (("Overview", c.dashboard_url_path(c.overview_dashboard_uid(model.project))),
            ("Pipeline health", c.dashboard_url_path(c.pipeline_dashboard_uid(model.project))))
