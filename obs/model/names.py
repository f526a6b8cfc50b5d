"""Checks that generated names stay distinct and that the spec's labels and text stay the spec's own.

Each function returns (spec path, message) pairs; obs.model.build locates and reports them all.
"""
from __future__ import annotations

from obs import versions
from obs.model import conventions as c
from obs.model import templates
from obs.spec import v1

Found = list[tuple[str, str]]


def service_name(name: str, path: str) -> Found:
    if name in c.RESERVED_SERVICES:
        return [(path, f"{name!r} is reserved: obs writes its pipeline-health rules to "
                       f"{c.PIPELINE_RULES_FILE}; choose another service name")]
    return []


def slo_ids(services: list[v1.Service]) -> Found:
    """`a-b` + `c` and `a` + `b-c` would share every file, rule group and dashboard named after the pair."""
    first: dict[str, tuple[str, str, str]] = {}
    found = []
    for i, s in enumerate(services):
        for j, slo in enumerate(s.slos):
            ident, path = c.slo_id(s.name, slo.name), f"services[{i}].slos[{j}].name"
            if ident in first and first[ident][:2] != (s.name, slo.name):
                other_service, other_slo, other_path = first[ident]
                found.append((path, f"SLO {slo.name!r} of service {s.name!r} and SLO {other_slo!r} of service "
                                    f"{other_service!r} ({other_path}) would both be named {ident!r} in generated "
                                    f"files ({c.openslo_file(s.name, slo.name)}) and rule groups; rename one of them"))
            first.setdefault(ident, (s.name, slo.name, path))
    return found


def slo_labels(svc: v1.Service, slo: v1.SLO, path: str) -> Found:
    found = []
    a = slo.alerting
    for k, label in enumerate(slo.group_by):
        if label in c.GROUP_BY_RESERVED:
            found.append((f"{path}.group_by[{k}]", f"{label!r} is a label obs's rules set or sum away themselves; "
                          "group by a label of your own data instead"))
    for label in a.labels:
        where = f"{path}.alerting.labels.{label}"
        if label in c.ALERT_LABELS_OWNED:
            found.append((where, f"{label!r} is set by obs or Prometheus on every alert; use another label name"))
        elif label == c.LABEL_TEAM and svc.team is not None:
            found.append((where, f"the service's `team: {svc.team}` already sets this label; remove one of them"))
        elif label in slo.group_by:
            found.append((where, f"{label!r} is in group_by, so each alert carries its group's value; a fixed "
                                 "value would merge the groups' alerts; use another label name"))
    texts = [(f"{path}.alerting.annotations.{k}", v) for k, v in a.annotations.items()]
    texts += [(f"{path}.alerting.runbook_url", a.runbook_url)] if a.runbook_url else []
    for where, text in texts:
        bad = templates.unsupported(text)
        if bad is not None:
            found.append((where, f"the template {bad!r} is outside what obs can check: use {{{{ $value }}}}, "
                                 "{{ $labels.NAME }} or printf, optionally piped to humanize, humanizePercentage, "
                                 "humanizeDuration, toUpper, ...; write {{ \"{{\" }} for literal braces"))
    return found


# What `stack.versions` may say: the release obs builds natively and checks its configs against.
PINNED = {"otelcol": versions.IMAGES["otelcol"].tag, "jaeger": versions.JAEGER_RELEASE,
          "prometheus": versions.PROMETHEUS_RELEASE, "alertmanager": versions.ALERTMANAGER.lstrip("v")}


def stack_versions(given: v1.Versions) -> Found:
    found = []
    for name, version in given.model_dump().items():
        pinned = PINNED.get(name)
        if version is None or pinned is None or version.lstrip("v") == pinned:
            continue
        found.append((f"stack.versions.{name}",
                      f"obs builds {name} {pinned} from source and checks the configs it generates against that "
                      f"release only, so it cannot run {version}; remove this line or set it to {pinned}"))
    return found
