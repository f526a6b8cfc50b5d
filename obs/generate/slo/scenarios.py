"""Behavioural scenarios for one SLO, each a promtool test group: series in, alerts and series checked.

Every scenario states its expectation in the SRE workbook's terms, computed exactly
(obs/generate/slo/ideal.py); promtool then runs the real rules over the series.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from obs.generate.slo import checks as k
from obs.generate.slo.alerts import templated, threshold
from obs.generate.slo.ideal import Ideal, minutes, workbook_detection_minutes
from obs.generate.slo.series import GROUP_VALUE, Segment, classic_instance
from obs.generate.slo.sli import counts_traffic
from obs.generate.slo.text import num, slo_selector
from obs.generate.slo.windows import recorded_windows
from obs.model import conventions as c
from obs.model.domain import SLO, Histogram, Model
from obs.model.kinds import Severity, SliKind
from obs.model.promql import sum_
from obs.model.windows import BASE_WINDOW

# Minutes the real rules may lag the exact model: one 1m sample plus one 1m evaluation (on the repo spec
# they never lagged more than 1m).
SLACK = 2
STEADY_RUN = 35          # minutes: past the 30m window; a steady ratio reads the same in every window
HEALTHY_GROUP = "obs-healthy"
# How far above its threshold the exact ratio must be before a test expects a tier to have fired.
MARGIN = Decimal("0.05")
D = Decimal


@dataclass
class Scenario:
    name: str
    segments: list[Segment]
    checks: list[dict[str, Any]] = field(default_factory=list)
    alert_checks: list[dict[str, Any]] = field(default_factory=list)
    healthy_group: bool = False
    le_form: str | None = None
    extra_series: list[dict[str, Any]] = field(default_factory=list)


def traffic(slo: SLO) -> Decimal:
    """Events per minute: enough that partial long windows still pass the minimum-traffic guard, 4x over."""
    longest = max((minutes(t.long) for t in slo.tiers), default=60)
    need = slo.min_events * longest / (STEADY_RUN * minutes(BASE_WINDOW)) * 4
    return max(D(600), D(math.ceil(need)))


def _severity(slo: SLO) -> str:
    return "page" if any(t.severity == Severity.PAGE for t in slo.tiers) else "ticket"


def outage(slo: SLO) -> Scenario:
    sev = _severity(slo)
    tiers = [t for t in slo.tiers if t.severity == sev]
    rate = traffic(slo)
    book = min(tiers, key=lambda t: workbook_detection_minutes(slo, t))
    base = min(minutes(book.long) + minutes(BASE_WINDOW), 125)
    probe = Ideal.of((Segment(base, rate, D(0)), Segment(minutes(max(t.long for t in tiers)) * 2, rate, D(1))))
    fires = {t: probe.first_fire(slo, t, base, probe.end) for t in tiers}
    sure = {t: probe.first_fire(slo, t, base, probe.end, MARGIN) for t in tiers}
    surely_fired = {t: at for t, at in sure.items() if at is not None}
    first = min(surely_fired, key=surely_fired.__getitem__)
    checks_at = {first: surely_fired[first] + SLACK}
    book_at = base + math.ceil(workbook_detection_minutes(slo, book)) + minutes(book.for_) + SLACK
    if base >= minutes(book.long):
        checks_at[book] = max(checks_at.get(book, 0), book_at)
    stop = max(checks_at.values())
    firing = [t for t in tiers if (fired_at := fires[t]) is not None and fired_at <= stop - SLACK]
    settle = max(minutes(t.short) for t in firing) + SLACK
    history = "" if base >= minutes(book.long) else f" after only {base}m of healthy history"
    detection = num(workbook_detection_minutes(slo, book).quantize(D("0.1")))
    s = Scenario(f"a full outage{history} {'pages' if sev == 'page' else 'tickets'} within the workbook detection "
                 f"time ({detection}m on the {book.name} tier) plus {SLACK}m, and resolves within the short window "
                 "after recovery",
                 [Segment(base, rate, D(0)), Segment(stop - base, rate, D(1)), Segment(settle, rate, D(0))],
                 healthy_group=bool(slo.group_by))
    s.checks.append(k.never(k.alerts(slo, labels={c.LABEL_SEVERITY: sev}), base))
    delay = min(f for f in fires.values() if f is not None) - base
    if delay >= 2 * SLACK + 2:
        s.checks.append(k.nothing(k.alerts(slo, labels={c.LABEL_SEVERITY: sev}), base + delay // 2))
    s.checks += [k.tier_firing(slo, t, at) for t, at in checks_at.items()]
    for t in firing:
        s.checks.append(k.nothing(k.alerts(slo, labels={c.LABEL_TIER: t.name, c.LABEL_SEVERITY: t.severity}),
                                  stop + minutes(t.short) + SLACK))
    s.checks.append(k.nothing(k.alerts(slo, labels={c.LABEL_SEVERITY: sev}), stop + settle))
    if sev == "ticket":
        s.checks.append(k.never(k.alerts(slo, labels={c.LABEL_SEVERITY: "page"}), stop + settle))
    return s


def steady(slo: SLO, factor: Decimal, name: str, model: Model, le_form: str | None = None) -> Scenario:
    """A constant error ratio from the start: every window reads the same ratio, so the firing set is exact."""
    ratio = factor * slo.error_budget
    run = STEADY_RUN + max((minutes(t.for_) for t in slo.tiers), default=0)
    segs = [Segment(run, traffic(slo), ratio)]
    ideal = Ideal.of(tuple(segs))
    fired = [t for t in slo.tiers if ideal.first_fire(slo, t, 1, run) is not None]
    s = Scenario(name, segs, le_form=le_form)
    groups = {g: GROUP_VALUE for g in slo.group_by}
    # Another SLO of the service with the same kind of SLI reads these series too, and fires alongside.
    kind, check = k.alert_test(c.SLO_BURN_ALERT, not slo.kind_shared and not templated(slo),
                               [k.expected_burn_alert(model, slo, t, groups) for t in fired],
                               run, **{c.LABEL_SERVICE: slo.service, c.LABEL_SLO: slo.name})
    (s.alert_checks if kind == "alert_rule_test" else s.checks).append(check)
    if not fired:
        s.checks.append(k.never(k.alerts(slo), run))
    lo, hi = ratio * D("0.9"), ratio * D("1.1")
    s.checks.append(k.one(f"{c.slo_error_ratio(str(BASE_WINDOW))}{slo_selector(slo)} > {num(lo)} < {num(hi)}", run))
    return s


def _rounded(x: Decimal) -> Decimal:
    return x.quantize(D("0.0001"))


def just_under(slo: SLO, model: Model) -> Scenario:
    lowest = min((t.burn_rate for t in slo.tiers), default=D(1))
    factor = _rounded(D("0.95") * min(D(1), lowest))
    why = "" if lowest >= 1 else f" (its lowest tier burns at {num(lowest)}x, below 1x for a {slo.period} period)"
    return steady(slo, factor, f"an error rate just under budget ({num(factor)}x){why} pages and tickets nothing",
                  model)


def just_over(slo: SLO, model: Model) -> Scenario | None:
    if not slo.tiers:
        return None
    lowest = min(t.burn_rate for t in slo.tiers)
    factor = _rounded(D("1.05") * lowest)
    if factor * slo.error_budget >= 1:
        factor = _rounded((lowest + 1 / slo.error_budget) / 2)
    le = slo.sli.threshold_le
    alt = le[:-2] if slo.sli.kind == SliKind.LATENCY and le and le.endswith(".0") else None
    name = f"an error rate just over the lowest tier ({num(factor)}x) fires exactly the tiers at or below it"
    return steady(slo, factor, name + (f", with the bucket written le=\"{alt}\"" if alt else ""), model, alt)


def rollout(slo: SLO, model: Model) -> Scenario | None:
    """Classic buckets: an instance without the threshold bucket must not make the SLI read its requests as slow."""
    if slo.sli.kind != SliKind.LATENCY or slo.sli.histogram is not Histogram.CLASSIC:
        return None
    s = steady(slo, D("0.5"), "during a rollout, an instance whose histogram lacks the threshold bucket is left out "
               "of the latency SLI, not read as slow: half the budget burns, nothing pages", model)
    s.extra_series = classic_instance(slo, s.segments, with_threshold=False)
    return s


def mixed_fleet(slo: SLO, model: Model) -> Scenario | None:
    """Native latency SLOs: a classic instance beside (Node.js keeps explicit buckets) is read at the threshold
    bucket when it has one, and left out when it has not; either way no request is counted twice or as slow."""
    if slo.sli.kind != SliKind.LATENCY or slo.sli.histogram is not Histogram.NATIVE or not slo.tiers:
        return None
    assert slo.sli.threshold is not None
    has_bucket = slo.sli.threshold.s in c.OTEL_HTTP_BUCKETS
    rate, run = traffic(slo), STEADY_RUN
    native = [Segment(run, rate, slo.error_budget * D("0.5"))]
    classic = [Segment(run, rate, D(0))]
    expected = slo.error_budget * (D("0.25") if has_bucket else D("0.5"))
    how = ("its requests are read at the threshold bucket" if has_bucket else
           "it has no bucket at the threshold, so it is left out, not read as slow")
    s = Scenario(f"a fleet where one instance sends classic buckets (the Node.js SDK) and one a native histogram: "
                 f"{how}; nothing pages", native)
    s.extra_series = classic_instance(slo, classic, with_threshold=has_bucket)
    lo, hi = expected * D("0.9"), expected * D("1.1")
    s.checks += [k.never(k.alerts(slo), run),
                 k.one(f"{c.slo_error_ratio(str(BASE_WINDOW))}{slo_selector(slo)} > {num(lo)} < {num(hi)}", run)]
    return s


def zero_traffic(slo: SLO) -> Scenario:
    # A raw ratio is 0/0 without traffic, which obs drops: that is no data, so stay inside NO_DATA_FOR.
    run = STEADY_RUN if counts_traffic(slo) else 9
    s = Scenario("zero traffic raises no alert and records no NaN or Inf", [Segment(run, D(0), D(0))])
    # Raw: the no-data alert may be pending (there is no data), but nothing fires.
    quiet = k.alerts(slo, alertname=None, firing=not counts_traffic(slo))
    s.checks += [k.never(quiet, run), k.not_finite(slo, run), k.ratios_absent(slo, run)]
    if counts_traffic(slo):
        s.checks.append(k.one(f"{c.slo_events(str(BASE_WINDOW))}{slo_selector(slo)} == 0", run))
    return s


def traffic_stops(slo: SLO) -> Scenario:
    # The shortest recorded window longer than the 40 quiet minutes still holds the 30 busy ones.
    rate, mid = traffic(slo), min(w for w in recorded_windows(slo) if w.ms > 40 * 60_000)
    s = Scenario("traffic that stops raises no alert and leaves the long windows finite",
                 [Segment(30, rate, D(0)), Segment(40, D(0), D(0))])
    s.checks += [k.never(k.alerts(slo, alertname=None), 70), k.not_finite(slo, 70),
                 k.nothing(f"{c.slo_error_ratio(str(BASE_WINDOW))}{slo_selector(slo)}", 70),
                 k.one(f"{c.slo_error_ratio(str(mid))}{slo_selector(slo)} == 0", 70)]
    return s


def slow_burn(slo: SLO) -> Scenario | None:
    pages = [t.burn_rate for t in slo.tiers if t.severity == Severity.PAGE]
    ceiling = min(pages, default=1 / slo.error_budget)
    tickets = [t for t in slo.tiers if t.severity == Severity.TICKET and t.burn_rate < ceiling]
    if not tickets:
        return None
    top = max(t.burn_rate for t in tickets)
    burn = min((top + ceiling) / 2 if pages else top * D("1.5"), (top + 1 / slo.error_budget) / 2)
    rate, base = traffic(slo), 60
    horizon = minutes(max(t.long for t in tickets)) + base
    probe = Ideal.of((Segment(base, rate, D(0)), Segment(horizon, rate, burn * slo.error_budget)))
    fires = {t: probe.first_fire(slo, t, base, probe.end, MARGIN) for t in tickets}
    fired = {t: at for t, at in fires.items() if at is not None}
    first = min(fired, key=fired.__getitem__, default=None)
    if first is None:
        return None
    end = fired[first] + SLACK
    s = Scenario(f"a slow burn ({num(burn)}x) tickets but never pages",
                 [Segment(base, rate, D(0)), Segment(end - base, rate, burn * slo.error_budget)])
    s.checks += [k.tier_firing(slo, first, end), k.never(k.alerts(slo, labels={c.LABEL_SEVERITY: "page"}), end)]
    return s


def trickle(slo: SLO) -> Scenario | None:
    if not counts_traffic(slo) or slo.min_events <= 0 or not slo.tiers:
        return None
    rate = slo.min_events / minutes(BASE_WINDOW) * D("0.4")
    worst = max(threshold(slo, t) for t in slo.tiers)
    s = Scenario(f"a trickle below min_events ({num(slo.min_events)} per {BASE_WINDOW}), all failing, raises no "
                 "burn alert", [Segment(STEADY_RUN, rate, D(1))])
    s.checks += [k.never(k.alerts(slo), STEADY_RUN),
                 k.one(f"{c.slo_error_ratio(str(BASE_WINDOW))}{slo_selector(slo)} > {num(worst)}", STEADY_RUN)]
    return s


# (minutes, error ratio in budgets, traffic multiple): changes fall on 5m boundaries of the check time, so
# every window reads a different ratio, and traffic varies, so a mean of ratios would differ from the truth.
PATTERN = ((10, "0.5", "1"), (15, "8", "3"), (25, "0", "1"), (10, "3", "0.5"), (20, "12", "2"), (20, "1", "1"))
EXACT = D("0.000001")    # relative: float rounding only


def windows_exact(slo: SLO) -> Scenario:
    """Every recorded window equals the exact ratio of the counts in it: a ratio of sums weighted by traffic.
    (A raw SLI has no counts, so there it is the time average of the ratio.) Sloth's rate() over raw data is
    off by several percent on these series."""
    rate = traffic(slo)
    segs = [Segment(n, rate * D(x), min(D(f) * slo.error_budget, D("0.9"))) for n, f, x in PATTERN]
    unit = [Segment(s.minutes, D(1), s.error_ratio) for s in segs]
    ideal, end = Ideal.of(tuple(segs if counts_traffic(slo) else unit)), sum(s.minutes for s in segs)
    s = Scenario("every recorded window equals the exact error ratio of the counts inside it", segs)
    for w in recorded_windows(slo):
        exact = ideal.ratio(end, minutes(w))
        assert exact is not None   # traffic runs from the first minute, so every window holds some
        ours = sum_(f"{c.slo_error_ratio(str(w))}{slo_selector(slo)}")
        s.checks.append(k.one(f"abs({ours} - {num(exact)}) <= {num(exact * EXACT + D('1e-12'))}", end))
    return s


def scenarios(model: Model, slo: SLO) -> tuple[list[Scenario], list[str]]:
    """The SLO's scenarios, and notes on any proof left out and why."""
    notes = []
    burn = slow_burn(slo)
    built = [windows_exact(slo), zero_traffic(slo), traffic_stops(slo) if counts_traffic(slo) else None,
             just_under(slo, model), just_over(slo, model), outage(slo) if slo.tiers else None, burn,
             trickle(slo), rollout(slo, model), mixed_fleet(slo, model)]
    if slo.kind_shared:
        notes.append(f"another {slo.sli.kind} SLO of {slo.service} reads the same series, so the steady-ratio "
                     "tests check its alerts' labels through ALERTS, not their annotations")
    if templated(slo):
        notes.append("its annotations are templates that only Prometheus expands, so the tests check which "
                     "alerts fire and their labels, not their annotations")
    if not counts_traffic(slo):
        notes.append("raw SLI: without traffic its ratio is no data, so the zero-traffic proof stays under the "
                     "no-data alert's `for:`, and there is no minimum-traffic guard to prove")
    if not slo.tiers:
        notes.append("no burn-rate tiers are enabled, so only the no-data and zero-traffic proofs apply")
    elif burn is None:
        notes.append("no ticket tier fires below the lowest page burn rate, so there is no slow-burn proof")
    return [s for s in built if s is not None], notes
