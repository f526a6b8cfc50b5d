"""Alerts on `obs verify`: the probe alert it raises, and the results `obs verify --watch` exposes.

The watch metrics exist only while `obs verify --watch` runs, so nothing here alerts on their
absence or on the verify scrape target being down; see docs/PIPELINE_RULES.md for the contract.
"""
from __future__ import annotations

from obs.generate.pipeline.alerts import HOP_SLACK_SECONDS, HOP_SLOW_FACTOR, PipelineAlert, Scenario, label
from obs.model import conventions as c
from obs.model.durations import Duration
from obs.model.promql import ne, selector
from obs.model.timing import Timing

VERIFY = {"job": c.VERIFY_JOB, "instance": "127.0.0.1:9098"}


def hop(probe: str, name: str) -> dict[str, str]:
    return {**VERIFY, c.VERIFY_PROBE_KIND_LABEL: probe, c.VERIFY_HOP_LABEL: name}


def verify_stale_after(t: Timing) -> Duration:
    """About four alert-probe rounds: `obs verify --watch` must refresh its timestamp well within this."""
    round_floor = t.scrape_interval + t.evaluation_interval + t.resend_delay + t.group_wait
    return max(Duration.parse("1m"), round_floor * 4)


def verify_alerts(t: Timing) -> tuple[PipelineAlert, ...]:
    f = t.alert_for
    stale = verify_stale_after(t)
    return (
        PipelineAlert(
            c.PROBE_ALERT, c.PIPELINE_GROUP_VERIFY,
            f"max by ({c.PROBE_ID_LABEL}) ({selector(c.PROBE_METRIC, [ne(c.PROBE_ID_LABEL, '')])}) > 0", Duration(0),
            "none",
            "obs-verify",
            f"obs verify probe {label(c.PROBE_ID_LABEL)}",
            "A synthetic alert raised by `obs verify` to prove alerts travel from a rule through Alertmanager to a "
            "receiver. It resolves when the probe ends.",
            "Nothing to fix: if it lingers, the verify run that raised it died; it clears within Prometheus's "
            "5-minute lookback.",
            bad=Scenario(((selector(c.PROBE_METRIC, {c.PROBE_ID_LABEL: "p-42", "job": "obs-verify-probe"}), "1x{n}"),),
                         fires=({c.PROBE_ID_LABEL: "p-42"},)),
            healthy=Scenario(((selector(c.PROBE_METRIC, {c.PROBE_ID_LABEL: "p-41", "job": "obs-verify-probe"}),
                               "0x{n}"),)),
            extra_labels={c.PROBE_LABEL: "true"}),
        PipelineAlert(
            c.VERIFY_PROBE_FAILING_ALERT, c.PIPELINE_GROUP_VERIFY, f"{c.VERIFY_PROBE_SUCCESS} == 0", f, "ticket",
            "pipeline",
            f"obs verify --watch: the {label(c.VERIFY_PROBE_KIND_LABEL)} probe fails",
            f"The continuous {label(c.VERIFY_PROBE_KIND_LABEL)} probe does not arrive end to end: that part of the "
            "telemetry pipeline is broken.",
            "Run `obs verify` for the hop that lost the probe and what to fix.",
            bad=Scenario(((selector(c.VERIFY_PROBE_SUCCESS, {**VERIFY, c.VERIFY_PROBE_KIND_LABEL: "alert"}), "0x{n}"),),
                         fires=({**VERIFY, c.VERIFY_PROBE_KIND_LABEL: "alert"},)),
            healthy=Scenario(((selector(c.VERIFY_PROBE_SUCCESS, {**VERIFY, c.VERIFY_PROBE_KIND_LABEL: "trace"}),
                               "1x{n}"),))),
        PipelineAlert(
            c.VERIFY_HOP_SLOW_ALERT, c.PIPELINE_GROUP_VERIFY,
            f"{c.VERIFY_HOP_LATENCY}\n> on (job, instance, {c.VERIFY_PROBE_KIND_LABEL}, {c.VERIFY_HOP_LABEL})\n"
            f"({HOP_SLOW_FACTOR} * {c.VERIFY_HOP_FLOOR} + {HOP_SLACK_SECONDS})", f, "ticket", "pipeline",
            f"obs verify --watch: hop {label(c.VERIFY_HOP_LABEL)} is slow",
            f"The {label(c.VERIFY_PROBE_KIND_LABEL)} probe spends more than {HOP_SLOW_FACTOR}x the configured floor "
            f"in hop {label(c.VERIFY_HOP_LABEL)}.",
            "Run `obs verify` for the hop timings against their floors; look for a backlog (exporter queue, rule "
            "evaluation duration) at that hop.",
            bad=Scenario(((selector(c.VERIFY_HOP_LATENCY, {**VERIFY, "probe": "trace", "hop": "jaeger"}), "10x{n}"),
                          (selector(c.VERIFY_HOP_FLOOR, {**VERIFY, "probe": "trace", "hop": "jaeger"}), "0.2x{n}")),
                         fires=({**VERIFY, "probe": "trace", "hop": "jaeger"},)),
            healthy=Scenario(((selector(c.VERIFY_HOP_LATENCY, hop("alert", "alertmanager")), "30x{n}"),
                              (selector(c.VERIFY_HOP_FLOOR, hop("alert", "alertmanager")), "30x{n}"),
                              (selector(c.VERIFY_HOP_LATENCY, hop("metric", "prometheus")), "0.5x{n}"),
                              (selector(c.VERIFY_HOP_FLOOR, hop("metric", "prometheus")), "0x{n}")))),
        PipelineAlert(
            c.VERIFY_STALE_ALERT, c.PIPELINE_GROUP_VERIFY,
            f"time() - {c.VERIFY_LAST_RUN_TIMESTAMP} > {stale.ms // 1000}", f, "ticket", "obs-verify",
            "obs verify --watch has stopped probing",
            f"`obs verify --watch` on {label('instance')} still answers but has not finished a round in over "
            f"{stale}: its results are stale.",
            "Read its output for a hung probe and restart it; if it is not meant to run, stop it so its metrics go "
            "away.",
            bad=Scenario(((selector(c.VERIFY_LAST_RUN_TIMESTAMP, VERIFY), "0x{n}"),), fires=(VERIFY,),
                         onset=stale + t.evaluation_interval),
            healthy=Scenario(((selector(c.VERIFY_LAST_RUN_TIMESTAMP, {**VERIFY, "instance": "127.0.0.1:9099"}),
                               "0+{step}x{n}"),))),
    )
