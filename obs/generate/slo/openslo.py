"""OpenSLO v1 export: one `kind: SLO` document per SLO, in deploy/slo/<service>-<slo>.yaml.

Indicators are ratio metrics in PromQL. Where obs knows the counters (availability and latency
SLIs on the semconv HTTP histogram) the queries are plain counter sums with `counter: true`,
valid PromQL any consumer can rate over its own windows. Events and raw SLIs are the user's
windowed queries, with the window written `{{.window}}` as Sloth's OpenSLO reader expects, and
`counter: false`. Each burn-rate tier becomes an inline AlertPolicy; OpenSLO has one lookback
window per condition, so the short confirming window is named in the description only.
`obs import openslo` reads these files back to an equivalent obs.yaml.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal
from functools import partial

from obs.generate.common import Inputs, Later, every_service, yaml
from obs.generate.slo.sli import http_counts, http_fast, le_matcher, native
from obs.generate.slo.text import sum_by
from obs.model import conventions as c
from obs.model.domain import SLO, Model, Receiver, Service
from obs.model.durations import Duration
from obs.model.kinds import SliKind
from obs.model.promql import Matcher, match, selector
from obs.model.windows import Tier

API_VERSION = "openslo/v1"
DATASOURCE_TYPE = "Prometheus"
OPENSLO_WINDOW = "{{.window}}"
MAX_NAME = 63
MAX_DESCRIPTION = 1050
_DAY, _HOUR, _MINUTE = Duration.parse("1d").ms, Duration.parse("1h").ms, Duration.parse("1m").ms


def shared(model: Model, inputs: Inputs) -> dict[str, str]:
    return {}


def _text(model: Model, service: Service, slo: SLO) -> str:
    return yaml(model, document(model, service, slo))


def files(model: Model, service: Service) -> dict[str, Later]:
    return {c.openslo_file(service.name, slo.name): partial(_text, model, service, slo) for slo in service.slos}


def frame(model: Model, service: Service) -> dict[str, Later]:
    return {}   # a file per SLO, each its unit's own (obs.generate.units)


unit = files


def generate(model: Model, inputs: Inputs) -> dict[str, str]:
    return every_service(model, files)


def dns_name(text: str) -> str:
    """OpenSLO names are RFC 1123 labels (63 characters); longer ones keep a stable hash suffix."""
    if len(text) <= MAX_NAME:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[:MAX_NAME - 9].rstrip('-')}-{digest}"


def shorthand(d: Duration) -> str:
    """OpenSLO's duration shorthand is one number and one unit: 30d, 36h, 90m, 0m."""
    if d.ms == 0:
        return "0m"
    for size, unit in ((_DAY, "d"), (_HOUR, "h")):
        if d.ms % size == 0:
            return f"{d.ms // size}{unit}"
    return f"{-(-d.ms // _MINUTE)}m"


def _number(d: Decimal) -> int | float:
    n = d.normalize()
    return int(n) if n == n.to_integral_value() else float(n)


def _http(slo: SLO, suffix: str, *extra: Matcher) -> str:
    return selector(f"{c.HTTP_DURATION}_{suffix}", [(c.SERVICE_NAME_LABEL, slo.service), *extra])


def _source(query: str) -> dict[str, object]:
    return {"metricSource": {"type": DATASOURCE_TYPE, "spec": {"query": query}}}


def _native(slo: SLO) -> dict[str, object]:
    """A native histogram has no counters to hand over: the windowed queries obs's own rules use."""
    total = _source(http_counts(slo, window=OPENSLO_WINDOW))
    if slo.sli.kind == SliKind.AVAILABILITY:
        return {"counter": False, "bad": _source(http_counts(slo, failed=True, window=OPENSLO_WINDOW)), "total": total}
    return {"counter": False, "good": _source(http_fast(slo, OPENSLO_WINDOW)), "total": total}


def ratio_metric(slo: SLO) -> dict[str, object]:
    sli = slo.sli
    if sli.kind in (SliKind.AVAILABILITY, SliKind.LATENCY) and native(slo):
        return _native(slo)
    if sli.kind == SliKind.AVAILABILITY:
        bad = sum_by(slo, _http(slo, "count", match(c.HTTP_STATUS_LABEL, "5..")))
        return {"counter": True, "bad": _source(bad), "total": _source(sum_by(slo, _http(slo, "count")))}
    if sli.kind == SliKind.LATENCY:
        assert sli.threshold_le is not None
        good = sum_by(slo, _http(slo, "bucket", le_matcher(sli.threshold_le)))
        return {"counter": True, "good": _source(good), "total": _source(sum_by(slo, _http(slo, "count")))}
    if sli.kind == SliKind.EVENTS:
        assert sli.error_query and sli.total_query
        return {"counter": False, "bad": _source(_window(sli.error_query)), "total": _source(_window(sli.total_query))}
    assert sli.kind == SliKind.RAW and sli.error_ratio_query
    return {"rawType": "failure", "raw": _source(_window(sli.error_ratio_query))}


def _window(query: str) -> str:
    return query.replace("{{window}}", OPENSLO_WINDOW)


def receiver_for(model: Model, svc: Service, severity: str) -> Receiver | None:
    """The receiver Alertmanager would pick for this service's alerts of this severity."""
    facts = {c.LABEL_SEVERITY: severity, c.LABEL_SERVICE: svc.name, c.LABEL_TEAM: svc.team}
    name = next((r.receiver for r in model.routes if all(facts.get(k) == v for k, v in r.matchers)),
                model.default_receiver)
    return next((r for r in model.receivers if r.name == name), None)


def _policy(model: Model, svc: Service, slo: SLO, tier: Tier, receiver: Receiver) -> dict[str, object]:
    name = dns_name(f"{c.slo_id(svc.name, slo.name)}-{tier.severity}-{shorthand(tier.long)}")
    burn = _number(tier.burn_rate)
    return {
        "kind": "AlertPolicy",
        "metadata": {"name": name, "displayName": f"{tier.severity}: {burn}x burn over {tier.long}"},
        "spec": {
            "description": f"Fires when the error budget burns at {burn}x or more over {tier.long}, confirmed over "
                           f"{tier.short} (obs's multiwindow rule {c.SLO_BURN_ALERT}, {c.LABEL_TIER}={tier.name}).",
            "alertWhenBreaching": True,
            "alertWhenResolved": False,
            "alertWhenNoData": True,
            "conditions": [{
                "kind": "AlertCondition",
                "metadata": {"name": dns_name(f"{name}-burn")},
                "spec": {"severity": tier.severity, "condition": {
                    "kind": "burnrate", "op": "gte", "threshold": burn, "lookbackWindow": shorthand(tier.long),
                    "alertAfter": shorthand(tier.for_)}},
            }],
            "notificationTargets": [{
                "kind": "AlertNotificationTarget",
                "metadata": {"name": receiver.name},
                "spec": {"target": receiver.kind, "description": f"obs receiver {receiver.name}"},
            }],
        },
    }


def _labels(svc: Service, slo: SLO) -> dict[str, str]:
    labels = {c.LABEL_SERVICE: svc.name, c.LABEL_SLO: slo.name}
    if svc.team:
        labels[c.LABEL_TEAM] = svc.team
    labels.update((k, v) for k, v in slo.labels if not k.startswith("_"))
    return labels


def document(model: Model, svc: Service, slo: SLO) -> dict[str, object]:
    name = dns_name(c.slo_id(svc.name, slo.name))
    spec: dict[str, object] = {}
    if slo.description:
        spec["description"] = slo.description[:MAX_DESCRIPTION]
    spec.update({
        "service": svc.name,
        "indicator": {"metadata": {"name": name}, "spec": {"ratioMetric": ratio_metric(slo)}},
        "timeWindow": [{"duration": shorthand(slo.period), "isRolling": True}],
        "budgetingMethod": "Occurrences",
        "objectives": [{"displayName": f"{_number(slo.objective)}% good", "target": _number(slo.target)}],
    })
    policies = [(t, receiver_for(model, svc, t.severity)) for t in slo.tiers]
    if policies and all(r is not None for _, r in policies):
        spec["alertPolicies"] = [_policy(model, svc, slo, t, r) for t, r in policies if r is not None]
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": {"name": name, "displayName": f"{svc.name} {slo.name}", "labels": _labels(svc, slo)},
        "spec": spec,
    }
