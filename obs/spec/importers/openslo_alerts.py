"""OpenSLO v1 alert policies to obs burn-rate tiers; what obs cannot express is an error, never dropped.

An SLO's `alertPolicies` are inline `kind: AlertPolicy` objects or `alertPolicyRef`s to AlertPolicy
documents; each policy's conditions are inline `kind: AlertCondition` objects or `conditionRef`s. A
`burnrate` condition is what an obs tier is: a severity, a burn-rate threshold, a long window
(`lookbackWindow`) and a `for` (`alertAfter`). obs also confirms every tier over a short window so
that an alert resolves soon after the burn stops; OpenSLO has none, so it is the long window / 12,
as in the SRE workbook (1h -> 5m, 6h -> 30m, 1d -> 2h, 3d -> 6h), rounded to obs's 5m base window.

Notification targets cannot become obs receivers (those need secrets, channels and addresses that
OpenSLO does not carry): targets of a kind obs has a receiver for are named in a note saying what to
declare; any other kind is an error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from obs.spec.importers.common import Context, Doc, child, mapping, percent, yaml_number

BURNRATE = "burnrate"
SEVERITIES = ("page", "ticket")
# The receivers obs's Alertmanager config has (obs.spec.v1.Receiver), by the names OpenSLO writers use.
RECEIVER_KINDS = {"pagerduty": "pagerduty", "slack": "slack", "webhook": "webhook", "web-hook": "webhook",
                  "email": "email", "mail": "email"}
MINUTE_MS = 60_000
BASE_MS = 5 * MINUTE_MS            # obs.model.windows.BASE_WINDOW: every window is a multiple of it
_SHORTHAND = re.compile(r"^(\d+)([mhdw])$")
_UNIT_MS = {"m": MINUTE_MS, "h": 60 * MINUTE_MS, "d": 1440 * MINUTE_MS, "w": 7 * 1440 * MINUTE_MS}


@dataclass(frozen=True)
class Where:
    doc: Doc
    path: str


@dataclass
class Library:
    """The documents of a file by kind and name, remembering which an SLO used, so none goes unmentioned."""

    docs: dict[str, dict[str, Doc]]
    used: set[tuple[str, str]] = field(default_factory=set)

    def get(self, kind: str, name: str) -> Doc | None:
        doc = self.docs.get(kind, {}).get(name)
        if doc is not None:
            self.used.add((kind, name))
        return doc

    def unused(self, kind: str) -> list[str]:
        return sorted(n for n in self.docs.get(kind, {}) if (kind, n) not in self.used)


@dataclass
class Policies:
    """The tiers an SLO document's policies give, and where each came from (to locate later problems)."""

    tiers: list[dict[str, Any]] = field(default_factory=list)
    origins: list[Where] = field(default_factory=list)
    thresholds: list[Where] = field(default_factory=list)


def duration_ms(text: Any) -> int | None:
    m = _SHORTHAND.match(str(text)) if isinstance(text, str) else None
    return int(m.group(1)) * _UNIT_MS[m.group(2)] if m else None


def duration_text(ms: int) -> str:
    """obs's notation, days the largest unit: 90m -> 1h30m."""
    if ms == 0:
        return "0s"
    out = []
    for unit, size in (("d", 1440 * MINUTE_MS), ("h", 60 * MINUTE_MS), ("m", MINUTE_MS)):
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)


def short_window_ms(long_ms: int) -> int:
    """long / 12, rounded half up to a multiple of the base window, at least one base window."""
    return max(1, (long_ms + 6 * BASE_MS) // (12 * BASE_MS)) * BASE_MS


def tiers(doc: Doc, spec: dict[str, Any], what: str, period_ms: int, named: Library,
          ctx: Context) -> Policies | None:
    """The obs tiers of an SLO document's alertPolicies; None when it has none (obs's defaults apply)."""
    raw = spec.get("alertPolicies")
    if raw is None:
        return None
    out = Policies()
    if not isinstance(raw, list):
        ctx.problem(doc, "spec.alertPolicies", "must be a list of AlertPolicy objects or `alertPolicyRef`s")
        return out
    for i, entry in enumerate(raw):
        path = child("spec.alertPolicies", i)
        entry = mapping(entry)
        ref = entry.get("alertPolicyRef")
        if isinstance(ref, str):
            policy = named.get("AlertPolicy", ref)
            if policy is None:
                ctx.problem(doc, child(path, "alertPolicyRef"), f"no `kind: AlertPolicy` document named {ref!r} in "
                            "this file; put the policy in the same file")
                continue
            _policy(Where(policy, ""), what, period_ms, named, out, ctx)
        elif entry.get("kind", "AlertPolicy") == "AlertPolicy" and isinstance(entry.get("spec"), dict):
            _policy(Where(doc, path), what, period_ms, named, out, ctx)
        else:
            ctx.problem(doc, path, "must be an inline `kind: AlertPolicy` with a `spec`, or `alertPolicyRef: <name>`")
    return out


def feasible(doc_tiers: Policies, objective: Decimal, ctx: Context) -> None:
    """A tier needing more than 100% errors can never fire; say so at its threshold, per objective."""
    budget = (Decimal(100) - objective) / Decimal(100)
    for tier, where in zip(doc_tiers.tiers, doc_tiers.thresholds, strict=True):
        if Decimal(str(tier["burn_rate"])) * budget >= 1:
            limit = (Decimal(1) / budget).quantize(Decimal("0.01"))
            ctx.problem(where.doc, where.path, f"a burn rate of {tier['burn_rate']} can never be reached at objective "
                        f"{yaml_number(objective)}%: it needs more than 100% errors; use a threshold below {limit}")


def _policy(at: Where, what: str, period_ms: int, named: Library, out: Policies,
            ctx: Context) -> None:
    data = at.doc.data if not at.path else _at(at.doc.data, at.path)
    spec, path = mapping(mapping(data).get("spec")), child(at.path, "spec")
    name = mapping(mapping(data).get("metadata")).get("name", at.path)
    if spec.get("alertWhenBreaching") is False:
        ctx.problem(at.doc, child(path, "alertWhenBreaching"), "obs alerts when the error budget burns; a policy "
                    "that does not alert on a breach cannot be expressed: set it true or remove the policy")
    if spec.get("alertWhenResolved") is False:
        ctx.note(f"{what}: policy {name}: alertWhenResolved is false, but obs's receivers always send resolved "
                 "notifications")
    if spec.get("alertWhenNoData") is False:
        ctx.note(f"{what}: policy {name}: alertWhenNoData is false, but obs always raises SLOMetricAbsent "
                 "(a ticket) when the SLI has no data")
    before = len(out.tiers)
    conditions = spec.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        ctx.problem(at.doc, child(path, "conditions"), "must list the policy's condition (a burnrate AlertCondition)")
        conditions = []
    for k, entry in enumerate(conditions):
        cpath = child(child(path, "conditions"), k)
        entry = mapping(entry)
        ref = entry.get("conditionRef")
        if isinstance(ref, str):
            condition = named.get("AlertCondition", ref)
            if condition is None:
                ctx.problem(at.doc, child(cpath, "conditionRef"), f"no `kind: AlertCondition` document named {ref!r} "
                            "in this file; put the condition in the same file")
                continue
            _condition(Where(condition, "spec"), what, period_ms, out, ctx)
        elif entry.get("kind", "AlertCondition") == "AlertCondition" and isinstance(entry.get("spec"), dict):
            _condition(Where(at.doc, child(cpath, "spec")), what, period_ms, out, ctx)
        else:
            ctx.problem(at.doc, cpath, "must be an inline `kind: AlertCondition` with a `spec`, or "
                        "`conditionRef: <name>`")
    severities = sorted({t["severity"] for t in out.tiers[before:]})
    _targets(at.doc, path, spec.get("notificationTargets"), what, str(name), severities, named, ctx)


def _condition(at: Where, what: str, period_ms: int, out: Policies, ctx: Context) -> None:
    spec = mapping(_at(at.doc.data, at.path))
    doc, path = at.doc, at.path
    cond, cpath = mapping(spec.get("condition")), child(path, "condition")
    problems = len(ctx.problems)
    severity = spec.get("severity")
    if severity not in SEVERITIES:
        ctx.problem(doc, child(path, "severity"), f"must be page or ticket, obs's two severities (got {severity!r}): "
                    "page for what must wake someone, ticket for what can wait")
    if "condition" not in spec:
        ctx.problem(doc, cpath, "is required: kind burnrate, threshold, lookbackWindow, alertAfter")
        return
    kind = cond.get("kind", BURNRATE)
    if kind != BURNRATE:
        ctx.problem(doc, child(cpath, "kind"), f"obs alerts on error-budget burn rate only (kind: burnrate); "
                    f"got {kind!r}")
    op = cond.get("op", "gte")
    if op not in ("gt", "gte"):
        ctx.problem(doc, child(cpath, "op"), f"obs alerts when the burn rate rises above the threshold (op: gt or "
                    f"gte); op {op!r} would alert while the budget is safe")
    threshold = percent(cond.get("threshold"))
    if threshold is None or threshold <= 0:
        ctx.problem(doc, child(cpath, "threshold"), "must be a burn rate above 0, e.g. 14.4 (budget spent 14.4 times "
                    "as fast as the SLO allows)")
    long_ms = duration_ms(cond.get("lookbackWindow"))
    if long_ms is None or long_ms % BASE_MS or long_ms < BASE_MS:
        ctx.problem(doc, child(cpath, "lookbackWindow"), "must be a duration of m, h, d or w that is a multiple of "
                    "5m, e.g. 1h (obs records windows in 5m pieces and confirms each over a shorter one; a 5m "
                    "window is a single-window tier)")
    elif long_ms > period_ms:
        ctx.problem(doc, child(cpath, "lookbackWindow"), f"is longer than the SLO's timeWindow "
                    f"({duration_text(period_ms)}); shorten it")
    after = cond.get("alertAfter", "0m")
    after_ms = 0 if after in ("0", 0) else duration_ms(after)
    if after_ms is None:
        ctx.problem(doc, child(cpath, "alertAfter"), "must be a duration of m, h, d or w, e.g. 5m (or 0m)")
    if len(ctx.problems) > problems or threshold is None or long_ms is None or after_ms is None:
        return
    for kept in out.tiers:
        if (kept["severity"], kept["long"]) == (severity, duration_text(long_ms)):
            ctx.problem(doc, child(cpath, "lookbackWindow"), f"a second {severity} condition over "
                        f"{duration_text(long_ms)}; obs keeps one tier per severity and window: merge them")
            return
    tier: dict[str, Any] = {"severity": severity, "long": duration_text(long_ms),
                            "short": duration_text(short_window_ms(long_ms)), "burn_rate": yaml_number(threshold)}
    if after_ms:
        tier["for"] = duration_text(after_ms)
    out.tiers.append(tier)
    out.origins.append(Where(doc, path))
    out.thresholds.append(Where(doc, child(cpath, "threshold")))


def _targets(doc: Doc, path: str, raw: Any, what: str, policy: str, severities: list[str],
             named: Library, ctx: Context) -> None:
    """Each target is named in a note saying which obs receiver to declare; a kind obs lacks is an error."""
    for k, entry in enumerate(raw if isinstance(raw, list) else []):
        tpath, entry = child(child(path, "notificationTargets"), k), mapping(entry)
        ref = entry.get("targetRef")
        if isinstance(ref, str):
            target_doc = named.get("AlertNotificationTarget", ref)
            name, kind = ref, mapping(target_doc.data.get("spec")).get("target") if target_doc else None
            where = Where(target_doc, "spec.target") if target_doc else Where(doc, child(tpath, "targetRef"))
        else:
            name = mapping(entry.get("metadata")).get("name", f"target {k + 1}")
            kind, where = mapping(entry.get("spec")).get("target"), Where(doc, child(child(tpath, "spec"), "target"))
        receiver = RECEIVER_KINDS.get(str(kind).lower()) if kind is not None else None
        if kind is not None and receiver is None:
            ctx.problem(where.doc, where.path, f"obs delivers alerts through pagerduty, slack, webhook or email "
                        f"receivers; {kind!r} has none: use a webhook target (and a bridge) instead")
            continue
        sev = " and ".join(severities) or "its"
        ctx.note(f"{what}: policy {policy} notifies {name} ({receiver or 'kind not given in this file'}): declare a "
                 f"receiver for it under alerting.receivers and route {sev} alerts of the service there "
                 "(alerting.routes); OpenSLO carries no secrets or addresses to do it for you")


def _at(data: Any, path: str) -> Any:
    """The value at a dotted path with [i] indexes (the paths this module builds)."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        data = data[int(part[1:-1])] if part.startswith("[") else mapping(data).get(part)
    return data
