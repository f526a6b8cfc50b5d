"""Coverage: every declared service has data, every rule group is healthy, every SLI query answers.

Without --traffic each check looks once: data is there or it is not. After --traffic
it polls until the synthetic data shows up or the budget runs out.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from obs.emit import yaml_read
from obs.generate.dashboards.model import PanelQuery
from obs.generate.dashboards.queries import panel_queries
from obs.generate.slo.sli import base_rules
from obs.model import conventions as c
from obs.model.durations import Duration
from obs.model.windows import BASE_WINDOW
from obs.verify import clients, poll, servicegraph, sli_diagnosis
from obs.verify.context import Context
from obs.verify.result import Finding, ProbeResult, Status

Check = Callable[[Context], list[Finding]]
TRAFFIC_FIX = "instrument it to send OTLP to the collector, or run `obs verify --traffic` to send synthetic data"
# Series seen within this window count as current data.
RECENT_S = 600
# Points per dashboard range query, at most: about what a panel draws, far below Prometheus's 11,000.
MAX_POINTS = 300
# Panel queries in flight at once: a dashboard's worth, as Grafana itself sends them.
PANEL_WORKERS = 8


def expected_groups(out: Path) -> list[str]:
    """Rule group names in the generated rule files (not their tests)."""
    names: list[str] = []
    for path in sorted((out / c.ALERTS_DIR).glob("*.rules.yml")):
        doc = yaml_read.load(path.read_text()) or {}
        assert isinstance(doc, dict)   # obs writes every rule file as a mapping of groups
        names += [g["name"] for g in doc.get("groups") or [] if isinstance(g, dict) and "name" in g]
    return names


def spans(ctx: Context) -> list[Finding]:
    seen = set(ctx.jaeger().services())
    return [Finding(f"service {s.name}", Status.FAIL, f"Jaeger has no spans from service.name={s.name}", TRAFFIC_FIX)
            for s in ctx.model.services if s.otlp and s.name not in seen]


def series(ctx: Context) -> list[Finding]:
    prom = ctx.prometheus()
    now = time.time()
    status, doc = prom.get_json(f"/api/v1/label/{c.SERVICE_NAME_LABEL}/values", start=now - RECENT_S, end=now)
    if status != 200 or not isinstance(doc, dict):
        raise clients.ApiError(f"Prometheus label values answered {status}")
    seen = set(doc.get("data") or [])
    return [Finding(f"service {s.name}", Status.FAIL,
                    f"Prometheus has no series with {c.SERVICE_NAME_LABEL}=\"{s.name}\" in the last {RECENT_S // 60}m",
                    TRAFFIC_FIX)
            for s in ctx.model.services if s.otlp and s.name not in seen]


def targets(ctx: Context) -> list[Finding]:
    found = []
    for t in ctx.prometheus().targets():
        job = t.get("labels", {}).get("job", "")
        # The watch exporter is up only while `obs verify --watch` runs.
        if job == c.VERIFY_JOB and not ctx.watching:
            continue
        if t.get("health") == "down":
            found.append(Finding(f"target {job}", Status.FAIL, f"Prometheus cannot scrape {t.get('scrapeUrl')}: "
                                 f"{t.get('lastError') or 'down'}",
                                 "start what should serve it (`obs up` for the stack's own jobs)"))
    return found


def rules(ctx: Context) -> list[Finding]:
    loaded = {g["name"]: g for g in ctx.prometheus().rule_groups()}
    expected = expected_groups(ctx.out)
    if not expected:
        return [Finding("rule files", Status.FAIL, f"no generated rule files under {ctx.out / c.ALERTS_DIR}",
                        "run `obs generate`, or pass --out with the directory you generated into")]
    found = [Finding(f"rule group {name}", Status.FAIL, "generated but not loaded by Prometheus",
                     "run `obs up` (it restarts Prometheus when rule files change)")
             for name in expected if name not in loaded]
    for name, g in loaded.items():
        for r in g.get("rules", []):
            if r.get("health") == "err" or r.get("lastError"):
                found.append(Finding(f"rule group {name}", Status.FAIL, f"{r.get('name')} fails to evaluate: "
                                     f"{r.get('lastError')}", "run `obs test`; fix the spec's PromQL"))
    return found


def sli(ctx: Context) -> list[Finding]:
    """The SLI queries the recording rules run, then the recorded 5m ratio: one finding per SLO."""
    prom = ctx.prometheus()
    found = []
    for slo in ctx.model.slos:
        sel = f'{{{c.LABEL_SERVICE}="{slo.service}",{c.LABEL_SLO}="{slo.name}"}}'
        ratio = c.slo_error_ratio(str(BASE_WINDOW))
        empty, broken = [], []
        for record, expr in [*base_rules(slo), (ratio, ratio + sel)]:
            try:
                if not prom.query(expr):
                    empty.append(record)
            except clients.ApiError as e:
                broken.append(f"{record}: {e}")
        where = f"SLO {c.slo_id(slo.service, slo.name)}"
        if broken:
            found.append(Finding(where, Status.FAIL, "; ".join(broken), "run `obs validate` and `obs test`"))
        if not empty:
            continue
        what = f"no data from {', '.join(empty)}"
        if empty == [ratio]:
            found.append(Finding(where, Status.FAIL, f"{what}: the SLI's queries return data, but the recording rules "
                                 "have not written the ratio", "the SLO's rule groups must be loaded and evaluating "
                                 "(see coverage:rules); `obs logs prometheus`"))
            continue
        try:
            d = sli_diagnosis.diagnose(prom, slo, ctx.model.stack.timing, what)
        except clients.ApiError:
            found.append(Finding(where, Status.FAIL, what,
                                 f"{slo.service} must send the SLI's metrics; " + TRAFFIC_FIX))
            continue
        found.append(Finding(where, Status.FAIL, d.why, d.fix, case=d.case))
    return found


def _panel(ctx: Context, q: PanelQuery, now: float) -> tuple[PanelQuery, list[dict[str, Any]] | str]:
    """One panel query as Grafana runs it: rows, or the error text."""
    prom = ctx.prometheus()
    # Grafana's own step: a short rate window only has its two samples at the steps right after them.
    step = max(Duration.parse(q.min_interval).s, RECENT_S / MAX_POINTS)
    try:
        return q, prom.query(q.promql()) if q.instant else prom.query_range(q.promql(), now - RECENT_S, now, step)
    except clients.ApiError as e:
        return q, str(e)


def dashboards(ctx: Context) -> list[Finding]:
    """Every panel query runs over the last minutes; those not allowed to be empty have data."""
    now = time.time()
    queries = panel_queries(ctx.model)
    # Dashboards repeat queries (a service's panel on the overview and its own page): run each once.
    unique = list({(q.promql(), q.instant, q.min_interval): q for q in queries}.values())
    with ThreadPoolExecutor(PANEL_WORKERS, thread_name_prefix="obs-verify-panels") as pool:
        ran = {(q.promql(), q.instant, q.min_interval): rows for q, rows in pool.map(lambda q: _panel(ctx, q, now),
                                                                                   unique)}
    empty: dict[str, list[str]] = {}
    found = []
    for q, rows in ((q, ran[(q.promql(), q.instant, q.min_interval)]) for q in queries):
        if isinstance(rows, str):
            found.append(Finding(f"dashboard {q.where}", Status.FAIL, f'panel "{q.panel_title}" ({q.ref_id}) '
                                 f"fails: {rows}", "regenerate the dashboards with `obs generate`"))
        elif not rows and not q.may_be_empty:
            # A templated dashboard is named with its variables' values: which service's page is empty.
            titles = empty.setdefault(q.where, [])
            if q.panel_title not in titles:
                titles.append(q.panel_title)
    stack_uid = c.pipeline_dashboard_uid(ctx.model.project)
    for where, titles in empty.items():
        own = where == stack_uid
        fix = "the stack's own jobs must be up and scraped (see coverage:targets)" if own else TRAFFIC_FIX
        found.append(Finding(f"dashboard {where}", Status.FAIL, f"{len(titles)} panel(s) show No Data: "
                             + ", ".join(f'"{t}"' for t in titles), fix))
    return found


CHECKS: dict[str, Check] = {"spans": spans, "series": series, "edges": servicegraph.edges,
                            "orphans": servicegraph.orphans, "targets": targets, "rules": rules, "sli": sli,
                            "dashboards": dashboards}
TITLES = {"spans": "every service has spans in Jaeger", "series": "every service has series in Prometheus",
          "edges": "every declared call carries traces", "orphans": "spans keep their parents",
          "targets": "every scrape target is up", "rules": "every rule group is loaded and evaluates",
          "sli": "every SLI query returns data", "dashboards": "every dashboard panel query returns data"}


def failures(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == Status.FAIL]


def summarize(title: str, findings: list[Finding]) -> str:
    """The first failure; else the title with the first warning; else the title with what info there is."""
    failed = failures(findings)
    if failed:
        return f"{len(failed)} problem(s): {failed[0].why}"
    warned = [f for f in findings if f.status == Status.WARN]
    if warned:
        return f"{title}; {len(warned)} warning(s): {warned[0].why}"
    info = [f.why for f in findings if f.status == Status.INFO]
    return f"{title}: {'; '.join(info)}" if info else title


def run_check(ctx: Context, name: str, check: Check) -> ProbeResult:
    started = time.monotonic()
    ctx.progress(f"coverage:{name}", TITLES[name])
    last: list[Finding] = []

    def attempt() -> bool | None:
        nonlocal last
        try:
            last = check(ctx)
        except clients.Unreachable as e:
            last = [Finding(e.component, Status.FAIL, str(e), "run `obs up`")]
        except clients.ApiError as e:
            last = [Finding("query", Status.FAIL, str(e), "see the component's log with `obs logs`")]
        return True if not failures(last) else None

    if ctx.traffic_sent:
        poll.until(attempt, ctx.deadline, cap=0.25, stop=ctx.stop)
    else:
        attempt()
    ok = not failures(last)
    took = time.monotonic() - started
    return ProbeResult(f"coverage:{name}", ok, summarize(TITLES[name], last), seconds=took, findings=last)
