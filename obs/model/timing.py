"""Timing profiles: every knob along the pipeline that bounds how fast data or an alert can arrive.

Held as data so generators configure components from it and the verifier computes
its floors from the same numbers. The knobs are the components' own: the SDKs' OTEL_BSP_SCHEDULE_DELAY and
OTEL_METRIC_EXPORT_INTERVAL (OpenTelemetry SDK environment variables), the collector's batch and
exporterhelper settings, Prometheus's scrape/evaluation intervals and --rules.alert.resend-delay, and
Alertmanager's route group_wait/group_interval (prometheus.io/docs/alerting/latest/configuration/).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from obs.model.durations import Duration

D = Duration.parse


@dataclass(frozen=True)
class Timing:
    name: str
    sdk_span_delay: Duration          # SDK BatchSpanProcessor schedule delay
    sdk_metric_interval: Duration     # SDK PeriodicExportingMetricReader interval
    batch_timeout: Duration           # flush timeout of the batches the collector's exporters make in their queues
    retry_initial: Duration           # collector exporter retry_on_failure
    retry_max_elapsed: Duration
    queue_size: int                   # items (spans, data points) each exporter's sending queue holds
    scrape_interval: Duration
    evaluation_interval: Duration
    slo_long_interval: Duration       # evaluation interval of the long-window SLO groups
    resend_delay: Duration            # prometheus --rules.alert.resend-delay
    group_wait: Duration
    group_interval: Duration
    repeat_interval: Duration
    alert_for: Duration               # `for:` of pipeline-health tickets
    down_for: Duration                # `for:` of the page when a pipeline component stops answering scrapes
    silence_memory: Duration          # a service seen within this long and silent since pages (crash)
    heartbeat_interval: Duration      # how often Alertmanager sends the Watchdog to the dead man's switch
    heartbeat_timeout: Duration       # the watcher pages when no heartbeat came for this long
    state_snapshot: Duration          # Alertmanager saves silences and its notification log this often
    memory_limit_mib: int
    # `topology: ha` only: an Alertmanager at cluster position n waits n peer timeouts for a peer's notification
    # before sending its own; the notification log reaches the peers at the next gossip tick, well within one.
    peer_timeout: Duration = D("15s")
    gossip_interval: Duration = D("200ms")

    def clustered(self, alertmanagers: int) -> Timing:
        """The timing of an Alertmanager cluster: group_interval longer than the last replica's wait.

        The replica at position n sends what it computed n peer timeouts earlier unless the notification log
        already holds the same: firing when the others sent the resolve in between, it pages again. A group's
        resolve comes a group_interval after its page at the soonest, so that wait must end first."""
        return replace(self, group_interval=max(self.group_interval, self.peer_timeout * alertmanagers))

    @property
    def rate_window(self) -> Duration:
        """The window of the pipeline alerts' rates: at least four scrapes and two SDK pushes, so a rate always
        has two samples to work with."""
        return max(Duration.parse("1m"), self.scrape_interval * 4, self.sdk_metric_interval * 2)


PRODUCTION = Timing(
    name="production",
    # 15 s, not the SDKs' 60 s default: `obs env` sets it, so a 5m SLI window holds 20 exports, not 5.
    sdk_span_delay=D("5s"), sdk_metric_interval=D("15s"),
    batch_timeout=D("200ms"), retry_initial=D("5s"), retry_max_elapsed=D("300s"),
    # Items, not requests: every request a service sends is one queue entry before it is batched, so a queue of
    # requests fills with the number of senders, not with the data. 200 000 items outlast the 300 s of retries
    # at 650 spans or points a second per exporter.
    queue_size=200_000,
    scrape_interval=D("15s"), evaluation_interval=D("15s"), slo_long_interval=D("1m"),
    # 15 s, not Prometheus's 1m: Alertmanager holds an alert for 4 resend delays after the last send, so
    # a dead Prometheus's Watchdog resolves (and the dead man's switch pages) after 1 min instead of 4.
    resend_delay=D("15s"), group_wait=D("30s"), group_interval=D("5m"), repeat_interval=D("4h"),
    # One minute of failed scrapes (4) before a component-down page: a restart does not page.
    alert_for=D("5m"), down_for=D("1m"),
    # A crashed service pages for an hour, then only its SLOs' no-data tickets remain.
    silence_memory=D("1h"),
    # Two missed heartbeats page, at most ~2 min after the last one.
    heartbeat_interval=D("1m"), heartbeat_timeout=D("2m"),
    # Not Alertmanager's 15m: a crash forgets the silences and sent notifications of the last minute only.
    state_snapshot=D("1m"),
    memory_limit_mib=512,
)

FAST = Timing(
    name="fast",
    sdk_span_delay=D("100ms"), sdk_metric_interval=D("1s"),
    batch_timeout=D("50ms"), retry_initial=D("1s"), retry_max_elapsed=D("120s"), queue_size=100_000,
    scrape_interval=D("1s"), evaluation_interval=D("1s"), slo_long_interval=D("5s"),
    resend_delay=D("1s"), group_wait=D("0s"), group_interval=D("1s"), repeat_interval=D("1h"),
    alert_for=D("0s"), down_for=D("0s"), silence_memory=D("30s"), heartbeat_interval=D("1s"),
    heartbeat_timeout=D("5s"), state_snapshot=D("5s"), memory_limit_mib=256,
    # On loopback a 50 ms gossip tick carries the notification log to the peers five times within a peer timeout.
    peer_timeout=D("250ms"), gossip_interval=D("50ms"),
)

PROFILES = {t.name: t for t in (PRODUCTION, FAST)}

# The verifier's probe route in every profile: each probe is its own group (grouped by probe id), so it is
# sent at once and never waits behind another group's group_interval.
PROBE_GROUP_WAIT = D("0s")
PROBE_GROUP_INTERVAL = D("1s")
