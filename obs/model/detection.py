"""How fast each kind of incident pages: the worst case, computed from the timing and the rules obs generates.

Each bound is a sum of named parts (an export interval, a rule's window or `for:`, an evaluation,
Alertmanager's group_wait), so `obs explain` can say which documented setting is the slowest part,
and `obs drill` can hold a measured page against the same number.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from obs.model.domain import SLO, Model, Stack
from obs.model.durations import Duration
from obs.model.kinds import MetricsPath, Severity, SliKind
from obs.model.timing import Timing
from obs.model.windows import BASE_WINDOW, full_outage_seconds

# A service's traffic stopping pages only when the last hour's rate promised at least this many requests
# in the quiet window: at 20 expected, a Poisson lull of zero has a chance of e^-20.
MIN_EXPECTED_REQUESTS = 20
TRAFFIC_BASELINE = Duration.parse("1h")

# The platform's promise: every incident paged in under 5 minutes with production timing.
TARGET_S = 300.0
# Alertmanager hands over within this (loopback HTTP).
HANDOFF_S = 1.0
# `obs receivers` checks its heartbeat watcher this often (obs/receivers/server.py).
WATCHER_CHECK_S = 1.0


class Incident(str, Enum):
    ERRORS = "errors"                    # an availability SLO burns: requests fail
    LATENCY = "latency"                  # a latency SLO burns: requests are slow
    CRASH = "crash"                      # a service stops sending anything
    TRAFFIC = "traffic"                  # a service still runs but serves no requests
    COLLECTOR = "collector"              # the OpenTelemetry Collector dies
    TRACE_BACKEND = "trace-backend"      # Jaeger dies
    METRICS_BACKEND = "metrics-backend"  # Prometheus dies: only the dead man's switch can tell
    ALERTMANAGER = "alertmanager"        # Alertmanager dies: likewise
    NOTIFICATION = "notification"        # the paging integration rejects every event


# Driven by a canary of obs's own and nothing else: the kinds a drill may run in a deployed environment.
SYNTHETIC = frozenset({Incident.ERRORS, Incident.LATENCY, Incident.CRASH, Incident.TRAFFIC})


@dataclass(frozen=True)
class Part:
    what: str
    seconds: float


@dataclass(frozen=True)
class Bound:
    incident: Incident
    rule: str                            # the alert (or watcher) that pages
    parts: tuple[Part, ...]
    starts: str = "when the incident starts"

    @property
    def seconds(self) -> float:
        return round(sum(p.seconds for p in self.parts), 3)

    @property
    def slowest(self) -> Part:
        return max(self.parts, key=lambda p: p.seconds)

    def as_dict(self) -> dict[str, object]:
        return {"incident": self.incident.value, "rule": self.rule, "bound_s": self.seconds,
                "starts": self.starts, "slowest": self.slowest.what,
                "parts": [{"what": p.what, "seconds": p.seconds} for p in self.parts]}


def quiet_window(t: Timing) -> Duration:
    """How long a service must be silent (or serve nothing) before it pages: four SDK exports, so one or
    two lost exports never page; and longer than a dead collector takes to page (its `for:`, two scrapes and
    an evaluation), so when the collector dies its page is already firing to hold the services' back."""
    return max(t.sdk_metric_interval * 4, t.scrape_interval * 2,
               t.down_for + t.scrape_interval * 2 + t.evaluation_interval)


def exporter_expiration(t: Timing) -> Duration:
    """With metrics pulled, how long the collector's Prometheus exporter keeps serving a series no export has
    renewed: two SDK exports, so one lost export never drops a series. Its default (5m) would keep a crashed
    service's last values, and hold its page back, for five minutes."""
    return t.sdk_metric_interval * 2


def _deliver(st: Stack) -> list[Part]:
    t = st.timing
    parts = [Part(f"Alertmanager group_wait ({t.group_wait})", t.group_wait.s), Part("hand-over", HANDOFF_S)]
    if st.ha and st.alertmanagers > 1:
        # The last replica of the cluster sends only after every one before it has had its peer timeout.
        n = st.alertmanagers - 1
        parts.append(Part(f"Alertmanager cluster: {n} peer timeout(s) ({t.peer_timeout}) when the replicas "
                          "before the sender are down", n * t.peer_timeout.s))
    return parts


def slo_bound(model: Model, slo: SLO, incident: Incident) -> Bound:
    """A full outage after steady traffic, through the SLO's fastest page tier."""
    t = model.stack.timing
    pages = [tier for tier in slo.tiers if tier.severity == Severity.PAGE]
    tier = min(pages, key=lambda x: full_outage_seconds(x, slo.error_budget))
    burn = float(full_outage_seconds(tier, slo.error_budget))
    parts = [Part(f"SDK export interval ({t.sdk_metric_interval})", t.sdk_metric_interval.s),
             Part(f"collector batch timeout ({t.batch_timeout})", t.batch_timeout.s),
             Part(f"base SLO rules evaluation ({t.evaluation_interval})", t.evaluation_interval.s)]
    if tier.long > BASE_WINDOW:
        parts.append(Part(f"long-window SLO rules evaluation ({t.slo_long_interval})", t.slo_long_interval.s))
    parts += [Part(f"{tier.long} error ratio reaches {Decimal(tier.burn_rate) * slo.error_budget:g} "
                   f"({tier.burn_rate}x burn) at 100% errors", round(burn, 3)),
              Part(f"alert rule evaluation ({t.evaluation_interval})", t.evaluation_interval.s)]
    if tier.for_.ms:
        parts.append(Part(f"tier for: {tier.for_}", tier.for_.s))
    return Bound(incident, f"SLOErrorBudgetBurn {slo.service}/{slo.name} tier {tier.name}",
                 tuple(parts + _deliver(model.stack)))


def first_slo(model: Model, kind: SliKind) -> SLO | None:
    return next((s for s in model.slos
                 if s.sli.kind == kind and any(x.severity == Severity.PAGE for x in s.tiers)), None)


def bounds(model: Model) -> list[Bound]:
    """Every incident kind the model can page for, with its worst-case time to page."""
    from obs.model import conventions as c
    t = model.stack.timing
    quiet = quiet_window(t)
    evaluate = Part(f"alert rule evaluation ({t.evaluation_interval})", t.evaluation_interval.s)
    out: list[Bound] = []
    for incident, slo in ((Incident.ERRORS, first_slo(model, SliKind.AVAILABILITY) or first_slo(model, SliKind.EVENTS)),
                          (Incident.LATENCY, first_slo(model, SliKind.LATENCY))):
        if slo is not None:
            out.append(slo_bound(model, slo, incident))
    # Pulled, a crashed service's series stay in the collector's exporter until they expire, then the window runs.
    expire = ([Part(f"the collector's exporter forgets the series ({exporter_expiration(t)})",
                    exporter_expiration(t).s)] if model.stack.metrics == MetricsPath.PULL else [])
    out.append(Bound(Incident.CRASH, c.SERVICE_SILENT_ALERT, (
        *expire, Part(f"no telemetry for the quiet window ({quiet})", quiet.s), evaluate, *_deliver(model.stack))))
    out.append(Bound(Incident.TRAFFIC, c.SERVICE_TRAFFIC_STOPPED_ALERT, (
        Part(f"last requests exported ({t.sdk_metric_interval})", t.sdk_metric_interval.s),
        Part(f"no requests for the quiet window ({quiet})", quiet.s), evaluate, *_deliver(model.stack))))
    for incident in (Incident.COLLECTOR, Incident.TRACE_BACKEND):
        out.append(Bound(incident, c.COMPONENT_DOWN_ALERT, (
            Part(f"first failed scrape ({t.scrape_interval})", t.scrape_interval.s),
            Part(f"for: {t.down_for}", t.down_for.s), evaluate, *_deliver(model.stack))))
    held = 4 * max(t.resend_delay.s, t.evaluation_interval.s)
    out.append(Bound(Incident.METRICS_BACKEND, "dead man's switch (Watchdog resolved)", (
        Part(f"Alertmanager keeps the Watchdog for 4 resend delays ({t.resend_delay})", held),
        Part(f"next Watchdog heartbeat, now resolved ({t.heartbeat_interval})", t.heartbeat_interval.s),
        Part("watcher check", WATCHER_CHECK_S), Part("hand-over", HANDOFF_S))))
    out.append(Bound(Incident.ALERTMANAGER, "dead man's switch (heartbeats stopped)", (
        Part(f"heartbeat timeout ({t.heartbeat_timeout})", t.heartbeat_timeout.s),
        Part("watcher check", WATCHER_CHECK_S), Part("hand-over", HANDOFF_S))))
    out.append(Bound(Incident.NOTIFICATION, f"{c.NOTIFICATIONS_FAILING_ALERT} (to the fallback receiver)", (
        Part(f"failure counted by two scrapes ({t.scrape_interval})", 2 * t.scrape_interval.s), evaluate,
        *_deliver(model.stack)), starts="when the paging integration first rejects a page"))
    return out


def bound(model: Model, incident: Incident) -> Bound | None:
    return next((b for b in bounds(model) if b.incident is incident), None)
