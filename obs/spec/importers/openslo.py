"""OpenSLO v1 ratio-metric SLOs to obs.yaml; SLI, Service and DataSource documents may sit beside them.

A query either carries the window placeholder (`{{.window}}`, as Sloth and obs's own export write
it) and is used as written, or, with `counter: true`, is a counter selector, optionally summed,
that obs rates over each window itself. good/total becomes errors = total - good, a missing good
series counting as 0. Alert policies become obs tiers (openslo_alerts.py).
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from obs.spec.importers import openslo_alerts as alerts
from obs.spec.importers.common import (
    Context,
    Doc,
    Imported,
    child,
    feasible_alerting,
    has_window,
    imported_label,
    label_name,
    mapping,
    obs_name,
    percent,
    service_entry,
    unique,
    window_query,
    yaml_number,
)

API = "openslo/v1"
_ALERT_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
_SHORTHAND = re.compile(r"^(\d+)([mhdwMQY])$")
_DAYS = {"M": 30, "Q": 90, "Y": 365}
_SELECTOR = r"[A-Za-z_:][A-Za-z0-9_:]*\s*(?:\{[^{}]*\})?|\{[^{}]*\}"
_AGG = r"sum"
_GROUPING = r"(?:\s*(?:by|without)\s*\([^()]*\))?"
_PLAIN = re.compile(rf"^\s*(?P<sel>{_SELECTOR})\s*$")
_OUTER_SUM = re.compile(r"^\s*sum\s*(?:by\s*\((?P<labels>[^()]*)\))?\s*\(")
_AGGREGATED = re.compile(rf"^\s*(?P<agg>{_AGG}{_GROUPING})\s*\(\s*(?P<sel>{_SELECTOR})\s*\)(?P<after>{_GROUPING})\s*$")


def _named(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d.data["metadata"]["name"]: d for d in docs
            if d.data.get("kind") == kind and isinstance(mapping(d.data.get("metadata")).get("name"), str)}


def convert(docs: list[Doc], ctx: Context, project: str | None = None) -> Imported:
    for doc in docs:
        if not isinstance(doc.data, dict) or doc.data.get("apiVersion") != API:
            got = doc.data.get("apiVersion") if isinstance(doc.data, dict) else None
            ctx.problem(doc, "apiVersion" if got else "", f"expected `apiVersion: {API}`"
                        + (f" (got {got!r}; only OpenSLO v1 is supported)" if got else ""))
    docs = [d for d in docs if isinstance(d.data, dict) and d.data.get("apiVersion") == API]
    slis, sources, described = _named(docs, "SLI"), _named(docs, "DataSource"), _named(docs, "Service")
    library = alerts.Library({k: _named(docs, k) for k in _ALERT_KINDS})
    services: dict[str, dict[str, Any]] = {}
    slo_docs = [d for d in docs if d.data.get("kind") == "SLO"]
    if not slo_docs and not ctx.problems:
        ctx.problem(docs[0] if docs else Doc({}, {}, 1), "", "no `kind: SLO` document to import")
    skipped = sorted({str(d.data.get("kind")) for d in docs} - {"SLO", "SLI", "Service", "DataSource", *_ALERT_KINDS})
    if skipped:
        ctx.note(f"{', '.join(skipped)} documents are not imported: obs has no equivalent")
    for doc in slo_docs:
        _slo(doc, ctx, services, slis, sources, described, library)
    for kind in _ALERT_KINDS:
        if library.unused(kind):
            ctx.note(f"{kind} {', '.join(library.unused(kind))}: no SLO in this file uses it, so it is not imported")
    spec = {"version": "obs/v1", "project": project or next(iter(services), "imported"),
            "services": [service_entry(s) for s in services.values()]}
    return ctx.finish(spec)


def _slo(doc: Doc, ctx: Context, services: dict[str, dict[str, Any]], slis: dict[str, Doc],
         sources: dict[str, Doc], described: dict[str, Doc], library: alerts.Library) -> None:
    meta, spec = mapping(doc.data.get("metadata")), mapping(doc.data.get("spec"))
    raw_name, raw_service = meta.get("name"), spec.get("service")
    if not isinstance(raw_name, str) or not obs_name(raw_name):
        ctx.problem(doc, "metadata.name", "is required: the SLO's name")
        return
    if not isinstance(raw_service, str) or not obs_name(raw_service):
        ctx.problem(doc, "spec.service", "is required: obs groups SLOs by service")
        return
    service = obs_name(raw_service)
    if service != raw_service:
        ctx.note(f"service {raw_service!r} is named {service!r} (obs names are lowercase letters, digits and '-')")
    index = list(services).index(service) if service in services else len(services)
    svc = services.setdefault(service, {"name": service, "slos": []})
    svc_doc = described.get(raw_service)
    if svc_doc is not None and isinstance(mapping(svc_doc.data.get("spec")).get("description"), str):
        svc.setdefault("description", svc_doc.data["spec"]["description"])
    ctx.origin(f"services[{index}].name", doc, "spec.service")
    period = _period(doc, spec, ctx, raw_name)
    if mapping(meta.get("annotations")):
        ctx.note_at(doc, "metadata.annotations", f"{raw_name}: metadata.annotations (implementation metadata for "
                    "other tools) are not imported")
    if spec.get("budgetingMethod") not in (None, "Occurrences"):
        ctx.note(f"{raw_name}: budgetingMethod {spec['budgetingMethod']} becomes Occurrences (obs counts events)")
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        ctx.problem(doc, "spec.objectives", "must list at least one objective with `target` or `targetPercent`")
        return
    policies = alerts.tiers(doc, spec, raw_name, _ms(period), library, ctx)
    if policies is None:
        ctx.note(f"{raw_name}: no alertPolicies; obs's SRE-workbook burn-rate tiers apply")
    taken = {s["name"] for s in svc["slos"]}
    base = _own_name(meta, raw_service) or obs_name(raw_name)
    for i, objective in enumerate(objectives):
        opath = child("spec.objectives", i)
        objective = mapping(objective)
        suffix = obs_name(str(objective.get("displayName", ""))) or str(i + 1)
        name = unique(base if len(objectives) == 1 else f"{base[:40]}-{suffix}", taken)
        if name not in (raw_name, _own_name(meta, raw_service)):
            ctx.note(f"SLO {raw_name!r} (objective {i + 1}) is named {name!r} in service {service!r}")
        target = _target(doc, objective, opath, ctx)
        owner = objective if (objective.get("indicator") or objective.get("indicatorRef")) else spec
        sli = _indicator(doc, owner, opath if owner is objective else "spec", slis, sources, ctx)
        if target is None or sli is None:
            continue
        out: dict[str, Any] = {"name": name}
        description = spec.get("description") or meta.get("displayName")
        if isinstance(description, str) and description.strip():
            out["description"] = description.strip()
        out.update({"objective": yaml_number(target), "window": period, "sli": sli})
        if policies is None:
            alerting = feasible_alerting(target, True, True, f"{service}/{name}", ctx)
        else:
            alerts.feasible(policies, target, ctx)
            alerting = {"tiers": policies.tiers} if policies.tiers else {"page": False, "ticket": False}
        labels = _labels(meta.get("labels"), {"service": service, "slo": base}, svc,
                         f"{service}/{name}", ctx)
        if labels:
            alerting["labels"] = labels
        if alerting:
            out["alerting"] = alerting
        where = f"services[{index}].slos[{len(svc['slos'])}]"
        ctx.origin(where, doc, opath)
        ctx.origin(f"{where}.objective", doc, opath)
        ctx.origin(f"{where}.sli", doc, "spec.indicatorRef" if "indicatorRef" in spec else "spec.indicator")
        for k, origin in enumerate(policies.origins if policies else []):
            ctx.origin(f"{where}.alerting.tiers[{k}]", origin.doc, origin.path)
        svc["slos"].append(out)


def _own_name(meta: dict[str, Any], service: str) -> str | None:
    """obs's export names a document <service>-<slo> (OpenSLO names are global) and keeps the SLO's
    own name in the `slo` label; reading it back keeps the name the spec gave."""
    labels = mapping(meta.get("labels"))
    slo, svc = labels.get("slo"), labels.get("service")
    if isinstance(slo, str) and obs_name(slo) == slo and svc in (None, service):
        return slo
    return None


def _ms(period: str) -> int:
    return alerts.duration_ms(period) or 30 * 1440 * alerts.MINUTE_MS


def _period(doc: Doc, spec: dict[str, Any], ctx: Context, what: str) -> str:
    windows = spec.get("timeWindow")
    if windows is None:
        ctx.note(f"{what}: no timeWindow; obs uses a rolling 30d")
        return "30d"
    first = mapping(windows[0]) if isinstance(windows, list) and windows else {}
    m = _SHORTHAND.match(str(first.get("duration", "")))
    if not m:
        ctx.problem(doc, "spec.timeWindow", "must be one window with a duration such as 28d, 4w or 1M")
        return "30d"
    if first.get("calendar") is not None or first.get("isRolling") is False:
        ctx.note(f"{what}: the calendar-aligned window becomes a rolling one of the same length")
    n, unit = int(m.group(1)), m.group(2)
    if unit in _DAYS:
        ctx.note(f"{what}: timeWindow {m.group(0)} is taken as {n * _DAYS[unit]}d")
        return f"{n * _DAYS[unit]}d"
    return f"{n}{unit}"


def _target(doc: Doc, objective: dict[str, Any], path: str, ctx: Context) -> Decimal | None:
    if "targetPercent" in objective:
        value = percent(objective["targetPercent"])
        where = child(path, "targetPercent")
    else:
        value = percent(objective.get("target"))
        value = value * 100 if value is not None else None
        where = child(path, "target")
    if value is None or not 0 < value < 100:
        ctx.problem(doc, where, "must be a target in (0, 1) or a targetPercent in (0, 100): obs needs an error budget")
        return None
    return value


def _indicator(doc: Doc, owner: dict[str, Any], path: str, slis: dict[str, Doc], sources: dict[str, Doc],
               ctx: Context) -> dict[str, Any] | None:
    ref = owner.get("indicatorRef")
    if isinstance(ref, str):
        if ref not in slis:
            ctx.problem(doc, child(path, "indicatorRef"), f"no `kind: SLI` document named {ref!r} in this file")
            return None
        doc, spec, path = slis[ref], mapping(slis[ref].data.get("spec")), "spec"
    else:
        spec, path = mapping(mapping(owner.get("indicator")).get("spec")), child(child(path, "indicator"), "spec")
    ratio = mapping(spec.get("ratioMetric"))
    if not ratio:
        kind = "a thresholdMetric" if spec.get("thresholdMetric") is not None else "no ratioMetric"
        ctx.problem(doc, path, f"the indicator has {kind}; obs imports ratio-metric SLIs only")
        return None
    rpath, counter = child(path, "ratioMetric"), ratio.get("counter") is True
    read = {k: _query(doc, ratio, rpath, k, counter and k != "raw", sources, ctx)
            for k in ("good", "bad", "total", "raw") if ratio.get(k) is not None}
    q = {k: query for k, query in read.items() if query is not None}
    if len(q) < len(read):
        return None
    if "raw" in q:
        failure = ratio.get("rawType") != "success"
        return {"raw": {"error_ratio_query": q["raw"] if failure else f"1 - ({q['raw']})"}}
    if "total" in q and ("bad" in q) != ("good" in q):
        if "good" in q and not _same_grouping(doc, q["good"], q["total"], child(rpath, "good"), ctx):
            return None
        bad = q["bad"] if "bad" in q else errors_from_good(q["good"], q["total"])
        return {"events": {"error_query": bad, "total_query": q["total"]}}
    ctx.problem(doc, rpath, "needs `total` with exactly one of `good` or `bad`, or `raw` with `rawType`")
    return None


def errors_from_good(good: str, total: str) -> str:
    """Bad events as total - good, with a missing good series counted as 0.

    In a total outage often only the failing series exist: `total - good` then matches nothing, obs
    reads "no errors" and the SLO shows 100% while nothing works. Filling the good side from
    `0 * total` keeps the error ratio at 1 there; with no traffic both sides are 0 and obs's
    `events > 0` guard leaves the ratio absent. The PromQL comment carries the reason into the
    generated rule. clamp_min: good and total scraped a moment apart may overshoot by a sample.
    """
    return ("# OpenSLO good/total imported as errors = total - good; a missing good series counts as 0,\n"
            "# so an outage with only failing series reads error ratio 1, and no traffic reads no ratio.\n"
            f"clamp_min(\n  ({total})\n  - (({good}) or 0 * ({total})),\n  0\n)")


def _grouping(query: str) -> frozenset[str] | None:
    """The labels an outermost `sum` keeps (empty for a plain sum); None when the query is not one."""
    m = _OUTER_SUM.match(query)
    if m is None:
        return None
    return frozenset(x.strip() for x in (m.group("labels") or "").split(",") if x.strip())


def _same_grouping(doc: Doc, good: str, total: str, path: str, ctx: Context) -> bool:
    """total - good pairs series by their labels; summed by different labels, nothing pairs."""
    g, t = _grouping(good), _grouping(total)
    if g is None or t is None or g == t:
        return True
    ctx.problem(doc, path, f"good is summed by ({', '.join(sorted(g))}) but total by ({', '.join(sorted(t))}); "
                "obs subtracts good from total series by series, so sum both by the same labels")
    return False


def _query(doc: Doc, ratio: dict[str, Any], rpath: str, key: str, counter: bool, sources: dict[str, Doc],
           ctx: Context) -> str | None:
    path = child(child(rpath, key), "metricSource")
    source = mapping(mapping(ratio[key]).get("metricSource"))
    kind = source.get("type")
    ref = source.get("metricSourceRef")
    if kind is None and isinstance(ref, str) and ref in sources:
        kind = mapping(sources[ref].data.get("spec")).get("type")
    if kind is not None and str(kind).lower() != "prometheus":
        ctx.problem(doc, child(path, "type"), f"only Prometheus metric sources can be imported (got {kind!r})")
        return None
    query = mapping(source.get("spec")).get("query")
    if not isinstance(query, str) or not query.strip():
        ctx.problem(doc, child(child(path, "spec"), "query"), "is required: a PromQL query")
        return None
    query = query.strip()
    if has_window(query):
        return window_query(query)
    rated = _rate_counter(query) if counter else None
    if rated is None:
        ctx.problem(doc, child(child(path, "spec"), "query"),
                    "has no {{.window}} placeholder, and is not a counter selector (with `counter: true`) that obs can "
                    "rate; write it as e.g. sum(rate(requests_total[{{.window}}]))")
    return rated


def _rate_counter(query: str) -> str | None:
    """`x_total{a="b"}` or `sum by (l) (x_total{...})` -> the same, rated over obs's window."""
    m = _PLAIN.match(query)
    if m:
        return f"sum(rate({m.group('sel').strip()}[{{{{window}}}}]))"
    m = _AGGREGATED.match(query)
    if m:
        return f"{m.group('agg').strip()} (rate({m.group('sel').strip()}[{{{{window}}}}])){m.group('after')}"
    return None


def _labels(raw: Any, own: dict[str, str], svc: dict[str, Any], what: str, ctx: Context) -> dict[str, str]:
    """metadata.labels become alert labels; `team` is the service's team, and obs's own export's
    service and slo labels are dropped quietly since obs sets them again."""
    out = {}
    for key, value in mapping(raw).items():
        text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        name = label_name(str(key))
        if own.get(name) == text:
            continue
        if name == "team" and svc.get("team", text) == text:
            svc["team"] = text
            continue
        if imported_label(str(key), text, what, ctx) is not None:
            out[name] = text
    return out
