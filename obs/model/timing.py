"""Timing profiles: every knob along the pipeline that bounds how fast data or an alert can arrive.

Held as data so generators configure components from it and the verifier computes
its floors from the same numbers (field-facts, section 2).
"""
from __future__ import annotations

from dataclasses import dataclass

from obs.model.durations import Duration

D = Duration.parse


@dataclass(frozen=True)
class Timing:
    name: str
    sdk_span_delay: Duration          # SDK BatchSpanProcessor schedule delay
    sdk_metric_interval: Duration     # SDK PeriodicExportingMetricReader interval
    batch_timeout: Duration           # collector batch processor
    retry_initial: Duration           # collector exporter retry_on_failure
    retry_max_elapsed: Duration
    queue_size: int
    scrape_interval: Duration
    evaluation_interval: Duration
    slo_long_interval: Duration       # evaluation interval of the long-window SLO groups
    resend_delay: Duration            # prometheus --rules.alert.resend-delay
    group_wait: Duration
    group_interval: Duration
    repeat_interval: Duration
    alert_for: Duration               # `for:` of pipeline-health alerts
    memory_limit_mib: int


PRODUCTION = Timing(
    name="production",
    # 15 s, not the SDKs' 60 s default: `obs env` sets it, so a 5m SLI window holds 20 exports, not 5.
    sdk_span_delay=D("5s"), sdk_metric_interval=D("15s"),
    batch_timeout=D("200ms"), retry_initial=D("5s"), retry_max_elapsed=D("300s"), queue_size=1000,
    scrape_interval=D("15s"), evaluation_interval=D("15s"), slo_long_interval=D("1m"),
    resend_delay=D("1m"), group_wait=D("30s"), group_interval=D("5m"), repeat_interval=D("4h"),
    alert_for=D("5m"), memory_limit_mib=512,
)

FAST = Timing(
    name="fast",
    sdk_span_delay=D("100ms"), sdk_metric_interval=D("1s"),
    batch_timeout=D("50ms"), retry_initial=D("1s"), retry_max_elapsed=D("120s"), queue_size=1000,
    scrape_interval=D("1s"), evaluation_interval=D("1s"), slo_long_interval=D("5s"),
    resend_delay=D("1s"), group_wait=D("0s"), group_interval=D("1s"), repeat_interval=D("1h"),
    alert_for=D("0s"), memory_limit_mib=256,
)

PROFILES = {t.name: t for t in (PRODUCTION, FAST)}

# The verifier's probe route in every profile: each probe is its own group (grouped by probe id), so it is
# sent at once and never waits behind another group's group_interval.
PROBE_GROUP_WAIT = D("0s")
PROBE_GROUP_INTERVAL = D("1s")
