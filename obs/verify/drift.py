"""Drift: is what runs in an environment what the repository generates?

Three comparisons, each read-only: the rule groups Prometheus has loaded (/api/v1/rules) against the
generated rule files, by group, rule name and expression; the configuration Alertmanager runs
(/api/v2/status) against the generated alertmanager.yml; the scrape jobs Prometheus runs
(/api/v1/status/config) against the generated ones. The repository side is rendered from the spec in memory,
so a stale file on disk does not hide drift.

Expressions are compared in Prometheus's own canonical form (/api/v1/format_query), because what
/api/v1/rules returns is the parsed rule printed back, not the text of the file. Alertmanager fills in
defaults and hides secrets when it prints its configuration, so the generated file must be contained in
the loaded one, key by key, rather than equal to it.

An environment `deployed_with: kubernetes` runs deploy/kubernetes through the operators, which render their
own configurations: there the rule groups are the PrometheusRules', Alertmanager must hold the receivers the
operator makes of the AlertmanagerConfig (`<namespace>/<name>/<receiver>`) under a route for its namespace, and
Prometheus the scrape jobs it makes of the monitors (`serviceMonitor/<namespace>/<name>/<endpoint>`, ...).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from obs.emit import yaml_read
from obs.model import conventions as c
from obs.model.durations import Duration
from obs.model.kubernetes import Kubernetes
from obs.verify import clients
from obs.verify.result import Finding, Status

HOP = "drift"


@dataclass(frozen=True)
class Operated:
    """What the operators render from deploy/kubernetes, as Alertmanager and Prometheus then name it."""

    namespace: str
    receivers: tuple[str, ...]            # the AlertmanagerConfig's receivers, namespaced by the operator
    root: str                             # the receiver of the AlertmanagerConfig's top route, namespaced
    jobs: tuple[tuple[str, str], ...]     # (scrape job, the file of the monitor it comes from)


@dataclass(frozen=True)
class Generated:
    rule_files: dict[str, str]       # path -> text holding the groups: alerts/*.rules.yml, or the PrometheusRules
    alertmanager: str                # deploy/alertmanager/alertmanager.yml
    prometheus: str                  # deploy/prometheus/prometheus.yml
    operated: Operated | None = None  # deployed with the operators: compare with these instead of the two above


def generated(files: Mapping[str, str], kubernetes: Kubernetes | None = None) -> Generated:
    """The repository's side; `kubernetes` (the model's settings) when the environment runs deploy/kubernetes."""
    if kubernetes is not None:
        return _operated(files, kubernetes)
    rules = {p: files[p] for p in sorted(files)
             if p.startswith(c.ALERTS_DIR + "/") and p.count("/") == 1 and p.endswith(".rules.yml")}
    return Generated(rules, files[c.ALERTMANAGER_CONFIG], files[c.PROMETHEUS_CONFIG])


_MONITOR_JOBS = {"ServiceMonitor": ("serviceMonitor", "endpoints"), "PodMonitor": ("podMonitor", "podMetricsEndpoints")}


def _operated(files: Mapping[str, str], k: Kubernetes) -> Generated:
    objects = {p: _doc(files[p]) for p in sorted(files) if p.startswith(c.KUBERNETES_DIR + "/")}
    rules = {p: files[p] for p, o in objects.items() if o.get("kind") == "PrometheusRule"}
    [amc] = [o for o in objects.values() if o.get("kind") == "AlertmanagerConfig"]
    name = k.name_prefix + amc["metadata"]["name"]
    receivers = tuple(c.kube_am_receiver(k.namespace, name, r["name"]) for r in amc["spec"]["receivers"])
    jobs: list[tuple[str, str]] = []
    for path, o in objects.items():
        kind, own = o.get("kind"), k.name_prefix + str((o.get("metadata") or {}).get("name"))
        if kind in _MONITOR_JOBS:
            prefix, key = _MONITOR_JOBS[kind]
            jobs += [(c.kube_scrape_job(prefix, k.namespace, own, i), path) for i, _ in enumerate(o["spec"][key])]
        elif kind == "ScrapeConfig":
            jobs.append((c.kube_scrape_job("scrapeConfig", k.namespace, own, None), path))
    root = c.kube_am_receiver(k.namespace, name, amc["spec"]["route"]["receiver"])
    return Generated(rules, "", "", Operated(k.namespace, receivers, root, tuple(jobs)))


def _doc(text: str) -> dict[str, Any]:
    data = yaml_read.load(text)
    return data if isinstance(data, dict) else {}


def _groups(text: str) -> list[dict[str, Any]]:
    """A rule file's groups, or a PrometheusRule's."""
    doc = _doc(text)
    return list(doc.get("groups") or (doc.get("spec") or {}).get("groups") or [])


# -- rules -------------------------------------------------------------------------------------------------


def _space(expr: str) -> str:
    return " ".join(expr.split())


def _seconds(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return Duration.parse(str(value)).s if value else 0.0


def _rule_key(rule: dict[str, Any]) -> str:
    return str(rule.get("alert") or rule.get("record") or rule.get("name") or "")


def rules(gen: Generated, loaded: list[dict[str, Any]], canonical: Callable[[str], str]) -> list[Finding]:
    """Differences between the generated rule files and the groups Prometheus has loaded."""
    findings: list[Finding] = []
    running = {g.get("name"): g for g in loaded}
    ours: set[str] = set()
    for path, text in gen.rule_files.items():
        for group in _groups(text):
            name = str(group.get("name"))
            ours.add(name)
            have = running.get(name)
            if have is None:
                findings.append(Finding(HOP, Status.FAIL, f"rule group {name} ({path}) is not loaded in Prometheus",
                                        f"deploy {path}"))
                continue
            findings += _group(path, group, have, canonical)
    for loaded_name, group in running.items():
        if loaded_name not in ours and _ours_by_name(str(loaded_name)):
            findings.append(Finding(HOP, Status.WARN, f"rule group {loaded_name} is loaded from "
                                    f"{group.get('file')} but the repository no longer generates it",
                                    "remove that file from the deployment"))
    return findings


def _ours_by_name(group: str) -> bool:
    """Every group obs generates is named obs-…; another team's groups in the same Prometheus are not drift."""
    return group.startswith("obs-")


def _group(path: str, want: dict[str, Any], have: dict[str, Any], canonical: Callable[[str], str]) -> list[Finding]:
    findings = []
    mine, theirs = want.get("rules") or [], have.get("rules") or []
    fix = f"deploy {path}"
    if len(mine) != len(theirs) or [_rule_key(r) for r in mine] != [_rule_key(r) for r in theirs]:
        missing = sorted({_rule_key(r) for r in mine} - {_rule_key(r) for r in theirs})
        extra = sorted({_rule_key(r) for r in theirs} - {_rule_key(r) for r in mine})
        detail = "; ".join(filter(None, [f"missing {', '.join(missing)}" if missing else "",
                                         f"not generated {', '.join(extra)}" if extra else ""]))
        findings.append(Finding(HOP, Status.FAIL, f"rule group {want.get('name')} ({path}) holds other rules than "
                                f"the repository generates ({detail or 'in another order or number'})", fix))
        return findings
    for r, h in zip(mine, theirs, strict=True):
        name = _rule_key(r)
        differs = []
        expr, query = str(r.get("expr", "")), str(h.get("query", ""))
        if _space(expr) != _space(query) and canonical(expr) != canonical(query):
            differs.append("expression")
        if "alert" in r and _seconds(r.get("for", 0)) != _seconds(h.get("duration", 0)):
            differs.append(f"`for` ({r.get('for', '0s')} here, {h.get('duration', 0)}s running)")
        if {str(k): str(v) for k, v in (r.get("labels") or {}).items()} != dict(h.get("labels") or {}):
            differs.append("labels")
        if differs:
            findings.append(Finding(HOP, Status.FAIL, f"{path}: rule {name} in group {want.get('name')} differs: "
                                    f"{', '.join(differs)}", fix))
        elif h.get("health") == "err":
            # Loaded as generated, but failing at every evaluation (a missing function, a many-to-many match).
            findings.append(Finding(HOP, Status.FAIL, f"{path}: rule {name} in group {want.get('name')} is loaded "
                                    f"but fails to evaluate: {h.get('lastError') or 'no error given'}",
                                    "check the Prometheus version against obs's pin, and the series it reads"))
    return findings


# -- Alertmanager ------------------------------------------------------------------------------------------

_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')
_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
_HIDDEN = "<secret>"


def _normal(value: Any, key: str = "") -> Any:
    """One spelling of what Alertmanager may print differently: durations, matcher quoting."""
    if key == "matchers" and isinstance(value, list):
        return sorted(_MATCHER.sub(r'\1\2"\3"', str(m)) for m in value)
    if isinstance(value, str) and _DURATION.match(value):
        return Duration.parse(value).s
    return value


def _contained(want: Any, have: Any, at: str) -> Iterator[str]:
    """Paths at which `want` (generated) is not part of `have` (loaded); extra keys in `have` are defaults."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            yield at or "(top)"
            return
        for k, v in want.items():
            if k not in have:
                yield f"{at}.{k}".lstrip(".")
            elif have[k] == _HIDDEN:
                continue   # a secret Alertmanager will not show
            else:
                yield from _contained(_normal(v, k), _normal(have[k], k), f"{at}.{k}".lstrip("."))
    elif isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            yield at
            return
        for i, (w, h) in enumerate(zip(want, have, strict=True)):
            yield from _contained(w, h, f"{at}[{i}]")
    elif _normal(want) != _normal(have):
        yield at


def _operated_alertmanager(op: Operated, loaded: dict[str, Any]) -> list[Finding]:
    have = {str(r.get("name")) for r in loaded.get("receivers") or []}
    routes = (loaded.get("route") or {}).get("routes") or []
    fix = ("kubectl apply -k deploy/kubernetes; check that the Alertmanager's alertmanagerConfigSelector and "
           "alertmanagerConfigNamespaceSelector select the AlertmanagerConfig")
    missing = [r for r in op.receivers if r not in have]
    if missing:
        return [Finding(HOP, Status.FAIL, f"Alertmanager has no receiver {', '.join(missing)} (the "
                        "AlertmanagerConfig's, as the operator names them)", fix)]
    if not any(r.get("receiver") == op.root for r in routes):
        return [Finding(HOP, Status.FAIL, f"no route of Alertmanager's leads to {op.root}: the AlertmanagerConfig's "
                        "receivers are there but nothing routes to them", fix)]
    return []


def alertmanager(gen: Generated, status: dict[str, Any]) -> list[Finding]:
    original = (status.get("config") or {}).get("original") or ""
    if gen.operated is not None:
        return _operated_alertmanager(gen.operated, _doc(original))
    want, have = _doc(gen.alertmanager), _doc(original)
    where = sorted(set(_contained(want, have, "")))
    if not where:
        return []
    shown = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
    return [Finding(HOP, Status.FAIL, f"the Alertmanager configuration differs from {c.ALERTMANAGER_CONFIG} at "
                    f"{shown}", f"deploy {c.ALERTMANAGER_CONFIG}")]


# -- scrape jobs -------------------------------------------------------------------------------------------


def scrape_jobs(gen: Generated, running_config: str) -> list[Finding]:
    have = {j.get("job_name") for j in _doc(running_config).get("scrape_configs") or []}
    if gen.operated is not None:
        return [Finding(HOP, Status.FAIL, f"scrape job {job} ({path}) is not in the running Prometheus configuration",
                        f"kubectl apply -k deploy/kubernetes; check that the Prometheus's monitor selectors match "
                        f"the labels of {path}")
                for job, path in gen.operated.jobs if job not in have]
    want = {j.get("job_name") for j in _doc(gen.prometheus).get("scrape_configs") or []}
    return [Finding(HOP, Status.FAIL, f"scrape job {job} ({c.PROMETHEUS_CONFIG}) is not in the running "
                    "Prometheus configuration", f"deploy {c.PROMETHEUS_CONFIG}, or add the job to yours")
            for job in sorted(want - have)]


def check(gen: Generated, prom: clients.Prometheus, am: clients.Alertmanager) -> list[Finding]:
    """Every drift finding; raises clients.Unreachable or clients.ApiError when a component cannot be read."""
    cache: dict[str, str] = {}

    def canonical(expr: str) -> str:
        if expr not in cache:
            try:
                cache[expr] = prom.format_query(expr)
            except clients.ApiError:
                cache[expr] = _space(expr)
        return cache[expr]

    return (rules(gen, prom.rule_groups(), canonical) + alertmanager(gen, am.status())
            + scrape_jobs(gen, prom.config()))
