"""Sloth `prometheus/v1` specs (and the same spec inside a `PrometheusServiceLevel` resource) to obs.yaml.

Sloth keeps labels at three levels (service, SLO, alerting) and per-tier labels on page and ticket
alerts; obs has one set of SLO alert labels and sets `severity` itself. So the three levels are
merged, labels both tiers share carry over, and the rest is named in a note. The period is
Sloth's default, 30d; Sloth's custom AlertWindows have no place in a prometheus/v1 file.

No key is dropped unseen: sloth_fields.py refuses keys Sloth does not have; every key Sloth has is
either carried over, named in a note with its line, or (SLI and SLO plugins, which run code obs
cannot) refused with its location.
"""
from __future__ import annotations

from typing import Any

from obs.errors import Problem
from obs.spec.importers import sloth_fields as fields
from obs.spec.importers.common import (
    Context,
    Doc,
    Imported,
    child,
    feasible_alerting,
    imported_label,
    mapping,
    obs_name,
    percent,
    service_entry,
    unique,
    window_query,
    yaml_number,
)
from obs.spec.loader import locate

VERSION = "prometheus/v1"
K8S_API = "sloth.slok.dev/v1"
K8S_KIND = "PrometheusServiceLevel"
PERIOD = "30d"


def _get(m: dict[str, Any], snake: str) -> Any:
    """Plain specs spell keys error_query; the Kubernetes resource spells them errorQuery."""
    if snake in m:
        return m[snake]
    head, *rest = snake.split("_")
    return m.get(head + "".join(w.title() for w in rest))


# A label or annotation: its value and the path it was read from (for a located note).
Entries = dict[str, tuple[str, str]]


def _strings(ctx: Context, doc: Doc, path: str, value: Any) -> Entries:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        ctx.problem(doc, path, "must be a mapping of strings")
        return {}
    return {str(k): (v, child(path, str(k))) for k, v in value.items()}


def _plugins(doc: Doc, value: Any, path: str, what: str, ctx: Context) -> None:
    """Sloth SLO plugins rewrite the generated rules with code obs cannot run: a chain is refused; an empty
    one (only `overridePrevious`) changes nothing here and is noted."""
    if value is None:
        return
    chain = mapping(value).get("chain")
    if chain:
        ctx.problem(doc, child(path, "chain"), f"{what}: Sloth SLO plugins cannot be imported (obs cannot run them); "
                    "remove the chain, and express what the plugins did in obs.yaml after importing")
    else:
        ctx.note_at(doc, path, f"{what}: an empty Sloth plugin chain; nothing to import")


def convert(docs: list[Doc], ctx: Context, project: str | None = None) -> Imported:
    services: dict[str, dict[str, Any]] = {}
    for doc in docs:
        body, base = _body(doc, ctx)
        if body is not None:
            _service(doc, body, base, ctx, services)
    spec = {"version": "obs/v1", "project": project or next(iter(services), "imported"),
            "services": [service_entry(s) for s in services.values()]}
    return ctx.finish(spec)


def _body(doc: Doc, ctx: Context) -> tuple[dict[str, Any] | None, str]:
    data = doc.data
    if not isinstance(data, dict):
        ctx.problem(doc, "", "a Sloth spec must be a mapping")
        return None, ""
    if data.get("version") == VERSION:
        fields.check(doc, data, fields.SPEC, "", ctx)
        return data, ""
    if data.get("apiVersion") == K8S_API and data.get("kind") == K8S_KIND:
        fields.check(doc, data, fields.K8S, "", ctx)
        meta = mapping(data.get("metadata"))
        if meta:
            ctx.note_at(doc, "metadata", f"the {K8S_KIND} resource's metadata ({', '.join(map(str, meta))}) "
                        "identifies the Kubernetes object and is not imported; obs writes its own rule files")
        if "status" in data:
            ctx.note_at(doc, "status", "the resource's status is written by Sloth's controller and not imported")
        return mapping(data.get("spec")), "spec"
    if str(data.get("apiVersion", "")).startswith("openslo/"):
        ctx.problem(doc, "apiVersion", "this is an OpenSLO document; use `obs import openslo`")
    else:
        ctx.problem(doc, "version" if "version" in data else "",
                    f"not a Sloth spec: expected `version: {VERSION}` or `apiVersion: {K8S_API}` with "
                    f"`kind: {K8S_KIND}`")
    return None, ""


def _service(doc: Doc, body: dict[str, Any], base: str, ctx: Context, services: dict[str, dict[str, Any]]) -> None:
    raw = body.get("service")
    if not isinstance(raw, str) or not raw.strip():
        ctx.problem(doc, child(base, "service"), "is required: the name of the service the SLOs belong to")
        return
    name = obs_name(raw)
    if name != raw:
        ctx.note(f"service {raw!r} is named {name!r} (obs names are lowercase letters, digits and '-')")
    index = list(services).index(name) if name in services else len(services)
    svc = services.setdefault(name, {"name": name, "slos": []})
    ctx.origin(f"services[{index}].name", doc, child(base, "service"))
    key = "slo_plugins" if not base else "sloPlugins"
    _plugins(doc, body.get(key), child(base, key), f"service {name!r}", ctx)
    labels = _strings(ctx, doc, child(base, "labels"), body.get("labels"))
    slos = body.get("slos")
    if not isinstance(slos, list) or not slos:
        ctx.problem(doc, child(base, "slos"), "must list at least one SLO")
        return
    taken = {s["name"] for s in svc["slos"]}
    for i, slo in enumerate(slos):
        path = child(child(base, "slos"), i)
        out = _slo(doc, mapping(slo), path, name, labels, ctx, taken)
        if out is not None:
            _origins(ctx, doc, f"services[{index}].slos[{len(svc['slos'])}]", path, out)
            svc["slos"].append(out)


def _origins(ctx: Context, doc: Doc, obs_path: str, path: str, out: dict[str, Any]) -> None:
    """Where each imported part came from, so a problem in the obs.yaml points into the Sloth file."""
    ctx.origin(obs_path, doc, path)
    for key in ("name", "objective", "sli"):
        ctx.origin(f"{obs_path}.{key}", doc, child(path, key))
    for kind, queries in out["sli"].items():
        for key in queries:
            source = child(child(child(path, "sli"), kind), key)
            if source not in doc.positions:
                head, *rest = key.split("_")
                source = child(child(child(path, "sli"), kind), head + "".join(w.title() for w in rest))
            ctx.origin(f"{obs_path}.sli.{kind}.{key}", doc, source)


def _slo(doc: Doc, slo: dict[str, Any], path: str, service: str, service_labels: Entries, ctx: Context,
         taken: set[str]) -> dict[str, Any] | None:
    raw = slo.get("name")
    if not isinstance(raw, str) or not obs_name(raw):
        ctx.problem(doc, child(path, "name"), "is required: a name of letters, digits and '-'")
        return None
    name = unique(obs_name(raw), taken)
    if name != raw:
        ctx.note(f"SLO {raw!r} of service {service!r} is named {name!r} (obs names are lowercase letters, digits "
                 "and '-', unique per service)")
    what = f"{service}/{name}"
    objective = percent(slo.get("objective"))
    if objective is None or not 0 < objective < 100:
        ctx.problem(doc, child(path, "objective"), "must be a number above 0 and below 100 (obs needs an error "
                    "budget to alert on)")
        return None
    sli = _sli(doc, mapping(slo.get("sli")), child(path, "sli"), what, ctx)
    if sli is None:
        return None
    out: dict[str, Any] = {"name": name}
    description = slo.get("description")
    if description is not None and not isinstance(description, str):
        ctx.problem(doc, child(path, "description"), "must be a string")
    elif description and description.strip():
        out["description"] = description.strip()
    out.update({"objective": yaml_number(objective), "window": PERIOD, "sli": sli})
    _plugins(doc, slo.get("plugins"), child(path, "plugins"), what, ctx)
    alerting = _alerting(doc, slo, path, what, service_labels, objective, ctx)
    if alerting:
        out["alerting"] = alerting
    return out


def _sli(doc: Doc, sli: dict[str, Any], path: str, what: str, ctx: Context) -> dict[str, Any] | None:
    events, raw = mapping(sli.get("events")), mapping(sli.get("raw"))
    if events:
        err, tot = _get(events, "error_query"), _get(events, "total_query")
        for key, q in (("error_query", err), ("total_query", tot)):
            if not isinstance(q, str) or not q.strip():
                ctx.problem(doc, child(child(path, "events"), key), "is required: a PromQL query using {{.window}}")
        if isinstance(err, str) and isinstance(tot, str) and err.strip() and tot.strip():
            return {"events": {"error_query": window_query(err.strip()), "total_query": window_query(tot.strip())}}
        return None
    if raw:
        q = _get(raw, "error_ratio_query")
        if isinstance(q, str) and q.strip():
            return {"raw": {"error_ratio_query": window_query(q.strip())}}
        ctx.problem(doc, child(child(path, "raw"), "error_ratio_query"), "is required: a PromQL error ratio using "
                    "{{.window}}")
        return None
    if sli.get("plugin") is not None:
        ctx.problem(doc, child(path, "plugin"), f"{what}: Sloth SLI plugins cannot be imported; write the plugin's "
                    "queries as `events:` (error_query/total_query) first")
        return None
    ctx.problem(doc, path, "needs `events:` or `raw:`")
    return None


def _alerting(doc: Doc, slo: dict[str, Any], path: str, what: str, service_labels: Entries,
              objective: Any, ctx: Context) -> dict[str, Any]:
    alerting = mapping(slo.get("alerting"))
    apath = child(path, "alerting")
    tiers, enabled = [], {}
    for sev, key in (("page", "page_alert"), ("ticket", "ticket_alert")):
        key = key if key in alerting or fields.camel(key) not in alerting else fields.camel(key)
        tier, tpath = mapping(alerting.get(key)), child(apath, key)
        disable = tier.get("disable", False)
        if not isinstance(disable, bool):
            ctx.problem(doc, child(tpath, "disable"), "must be true or false")
        enabled[sev] = disable is not True
        labels = _strings(ctx, doc, child(tpath, "labels"), tier.get("labels"))
        annotations = _strings(ctx, doc, child(tpath, "annotations"), tier.get("annotations"))
        if enabled[sev]:
            tiers.append((sev, labels, annotations))
        elif labels or annotations:
            ctx.note_at(doc, tpath, f"{what}: the disabled {sev} alert's labels and annotations go with it")
    labels = {**service_labels, **_strings(ctx, doc, child(path, "labels"), slo.get("labels")),
              **_strings(ctx, doc, child(apath, "labels"), alerting.get("labels"))}
    annotations = _strings(ctx, doc, child(apath, "annotations"), alerting.get("annotations"))
    labels.update(_shared(doc, what, "label", [(t[0], t[1]) for t in tiers], ctx))
    annotations.update(_shared(doc, what, "annotation", [(t[0], t[2]) for t in tiers], ctx))
    name = alerting.get("name")
    if name is not None and not isinstance(name, str):
        ctx.problem(doc, child(apath, "name"), "must be a string")
    elif name:
        ctx.note_at(doc, child(apath, "name"), f"{what}: Sloth alert name {name!r} becomes obs's burn-rate alert "
                    "SLOErrorBudgetBurn, identified by the labels service and slo")
    out = feasible_alerting(objective, enabled["page"], enabled["ticket"], what, ctx)
    clean = _labels(doc, labels, what, ctx)
    if clean:
        out["labels"] = clean
    if "runbook_url" in annotations:
        out["runbook_url"] = annotations.pop("runbook_url")[0]
    if annotations:
        out["annotations"] = {k: v for k, (v, _) in annotations.items()}
    return out


def _shared(doc: Doc, what: str, kind: str, per_tier: list[tuple[str, Entries]], ctx: Context) -> Entries:
    """Keys every enabled tier sets alike carry over; the rest cannot be per-tier in obs, and each is noted
    where it was written. A per-tier severity is what obs's own severity=page|ticket label stands for."""
    if not per_tier:
        return {}
    first = per_tier[0][1]
    common = {k: v for k, v in first.items() if all(t.get(k, ("", ""))[0] == v[0] for _, t in per_tier[1:])}
    for sev, tier in per_tier:
        for key, (value, where) in tier.items():
            if key in common:
                continue
            if kind == "label" and key == "severity":
                ctx.note_at(doc, where, f"{what}: the {sev} alert's severity={value!r} becomes obs's severity={sev}")
            else:
                hint = f"; route on severity={sev} instead" if kind == "label" else ""
                ctx.note_at(doc, where, f"{what}: {sev} alert {kind} {key}={value!r} is not imported: obs alert "
                            f"{kind}s are per SLO, not per tier{hint}")
    return common


def _labels(doc: Doc, labels: Entries, what: str, ctx: Context) -> dict[str, str]:
    out = {}
    for key, (value, where) in labels.items():
        line = locate_line(doc, where)
        name = imported_label(key, value, what, ctx, f"line {line}: ")
        if name is not None:
            out[name] = value
    return out


def locate_line(doc: Doc, path: str) -> int:
    return locate(Problem(path, ""), doc.positions).line or 1
