"""The least time each hop can take, computed from the same Timing the generators configure the stack with.

A floor is what the configuration itself imposes when nothing is wrong and the
phase is unlucky: a batch waits its full timeout, a sample waits a full scrape
or evaluation interval. Anything much slower than its floor points at a backlog,
a retry or a dropped notification (each knob is described in obs/model/timing.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from obs.model.domain import SLO, Model
from obs.model.kinds import MetricsPath, Severity
from obs.model.timing import PROBE_GROUP_WAIT, Timing

# Jaeger v2 with memory storage answers a trace by ID about 0.2 s after the collector's batch flushes.
JAEGER_INGEST_S = 0.2
# One loopback hand-off: an OTLP request answered, Prometheus's notifier posting to Alertmanager,
# Alertmanager posting to a webhook. Milliseconds each; this is their allowance.
HANDOFF_S = 0.05
# Prometheus's discovery manager publishes updates (the Alertmanager list among them) at most every 5 s.
DISCOVERY_S = 5.0
TRAFFIC_MAX_INTERVAL_S = 5.0


class HopId(StrEnum):
    """A stretch of the pipeline a verify probe times; the value is its label in JSON and metrics."""
    EXPORT = "export"               # the SDK's export, accepted by the collector
    PROMETHEUS = "prometheus"       # collector → Prometheus, queryable
    JAEGER = "jaeger"               # collector → Jaeger, queryable by trace ID
    DISCOVERY = "discovery"         # Prometheus has discovered Alertmanager
    RULE = "rule"                   # the probe rule fires
    ALERTMANAGER = "alertmanager"   # Prometheus → Alertmanager
    WEBHOOK = "webhook"             # Alertmanager → the verifier's webhook sink
    SCRAPE = "scrape"               # Prometheus scrapes the spec's declared targets


@dataclass(frozen=True)
class HopFloor:
    id: HopId
    title: str
    floor: float


@dataclass(frozen=True)
class Floors:
    trace: tuple[HopFloor, ...]
    metric: tuple[HopFloor, ...]
    alert: tuple[HopFloor, ...]
    scrape: float
    traffic: float                   # time --traffic needs before coverage can see the data

    @staticmethod
    def total(hops: tuple[HopFloor, ...]) -> float:
        return sum(h.floor for h in hops)

    def verify(self, traffic: bool = False) -> float:
        """Probes run side by side, so a whole verify is bound by its slowest probe."""
        probes = max(self.total(self.trace), self.total(self.metric), self.total(self.alert), self.scrape)
        return max(probes, self.traffic) if traffic else probes


def metric_hops(t: Timing, metrics: MetricsPath) -> tuple[HopFloor, ...]:
    hops = [HopFloor(HopId.EXPORT, "OTLP export accepted by the collector", HANDOFF_S),
            HopFloor(HopId.PROMETHEUS, "collector batch → Prometheus, queryable", t.batch_timeout.s)]
    if metrics == MetricsPath.PULL:
        # The collector's Prometheus exporter holds the point until Prometheus next scrapes it.
        hops[1] = HopFloor(HopId.PROMETHEUS, "collector batch → exporter → Prometheus scrape",
                           t.batch_timeout.s + t.scrape_interval.s)
    return tuple(hops)


def traffic_every(t: Timing) -> float:
    """--traffic exports like an SDK, but no slower than every 5 s: the data's shape is what must be real,
    and a production SDK's 60 s would only make verify wait."""
    return min(t.sdk_metric_interval.s, TRAFFIC_MAX_INTERVAL_S)


def floors(model: Model, alertmanager_discovered: bool = True) -> Floors:
    t = model.stack.timing
    trace = (HopFloor(HopId.EXPORT, "OTLP export accepted by the collector", HANDOFF_S),
             HopFloor(HopId.JAEGER, "collector batch → Jaeger, queryable by ID", t.batch_timeout.s + JAEGER_INGEST_S))
    metric = metric_hops(t, model.stack.metrics)
    alert = list(metric)
    if not alertmanager_discovered:
        # verify waits for discovery instead of pushing into the resend-delay trap; whichever is sooner bounds it.
        alert.insert(0, HopFloor(HopId.DISCOVERY, "Alertmanager discovered by Prometheus",
                                 min(DISCOVERY_S, t.resend_delay.s)))
    alert += [
        # The probe rule has no `for:`: it fires at the first evaluation that sees the sample.
        HopFloor(HopId.RULE, "probe rule evaluated, alert firing", t.evaluation_interval.s),
        HopFloor(HopId.ALERTMANAGER, "Prometheus → Alertmanager", HANDOFF_S),
        HopFloor(HopId.WEBHOOK, "Alertmanager probe route → webhook sink", PROBE_GROUP_WAIT.s + HANDOFF_S),
    ]
    scrape = max([t.scrape_interval.s] + [st.interval.s for s in model.services for st in s.scrape if st.interval])
    # Traffic needs two exports for rate(), then the SLO rules' chain: the 5m rates (evaluation interval),
    # the long windows, then budget remaining read off them (slo_long_interval each); scraped targets two scrapes.
    traffic = Floors.total(metric) + traffic_every(t) + t.evaluation_interval.s
    if model.slos:
        traffic += 2 * t.slo_long_interval.s
    if any(s.scrape for s in model.services):
        traffic = max(traffic, 2 * scrape)
    return Floors(trace=trace, metric=metric, alert=tuple(alert), scrape=scrape, traffic=traffic)


def default_budget(model: Model, traffic: bool = False) -> float:
    """How long verify waits when the spec sets no verify_budget: twice the floor and 5 s of slack."""
    if model.stack.verify_budget is not None:
        return model.stack.verify_budget.s
    return 2 * floors(model, alertmanager_discovered=False).verify(traffic) + 5.0


# --- drill: the SRE workbook's detection time ---------------------------------------------------------

@dataclass(frozen=True)
class DetectionFloor:
    tier: str                # the fastest page tier's long window, e.g. 1h
    burn_rate: Decimal
    workbook_s: float        # ((1 - SLO) / error ratio) x long window x burn rate
    slack_s: float           # what the pipeline adds: export, recording and alert evaluation, group_wait
    budget_share: float      # burn rate x long window / period: share of the error budget spent at fire time

    @property
    def total_s(self) -> float:
        return self.workbook_s + self.slack_s


def detection_floor(model: Model, slo: SLO, error_ratio: float = 1.0) -> DetectionFloor | None:
    """The fastest page tier's workbook time to fire at a constant `error_ratio`, plus pipeline slack.

    None when no page tier can fire at that error ratio (burn rate x budget above it).
    """
    t = model.stack.timing
    ratio = Decimal(repr(error_ratio))
    best = None
    for tier in slo.tiers:
        if tier.severity != Severity.PAGE or tier.burn_rate * slo.error_budget > ratio:
            continue
        workbook = float(slo.error_budget / ratio * Decimal(tier.long.ms) / 1000 * tier.burn_rate)
        if best is None or workbook < best.workbook_s:
            slack = (t.sdk_metric_interval.s + t.batch_timeout.s + t.evaluation_interval.s + t.slo_long_interval.s
                     + t.evaluation_interval.s + tier.for_.s + t.group_wait.s + 2 * HANDOFF_S)
            share = float(tier.burn_rate * Decimal(tier.long.ms) / Decimal(slo.period.ms))
            best = DetectionFloor(str(tier.long), tier.burn_rate, workbook, slack, share)
    return best
