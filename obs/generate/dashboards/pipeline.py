"""The pipeline-health dashboard: every hop from the collector to a notification, and the verifier's verdict.

Collector series are grouped by `job` as well, because Jaeger v2 is itself a collector and
reports the same otelcol_* metrics: the two jobs side by side show where data was lost.
"""
from __future__ import annotations

from obs.generate.common import header
from obs.generate.dashboards.model import Dashboard, Panel, PanelKind, Query, header_links, rate, zero_when_absent
from obs.model import conventions as c
from obs.model.domain import Model
from obs.model.promql import matchers, sum_, sum_by

SIGNALS = ("traces", "metrics")     # the collector's pipelines; it runs no logs pipeline
NOT_VERIFIED = (f"the verifier's results reach Prometheus only while `obs verify --watch` serves them (scrape job "
                f"{c.VERIFY_JOB}); on a stack it never probed, or after it stopped, this stays empty.")


def receiver_panel(signal: str) -> Panel:
    items = c.OTELCOL_ITEMS[signal]
    return Panel(
        PanelKind.TIMESERIES, f"Receivers: {items} accepted, refused, failed",
        f"What the receivers did with incoming {items}. Refused: pushed back to the sender (memory limiter); "
        "failed: lost inside the receiver.",
        tuple(Query(sum_by(("job", "receiver"), rate(c.otelcol_receiver_metric(o, items))),
                    f"{{{{job}}}} {{{{receiver}}}} {o}") for o in ("accepted", "refused", "failed")),
        unit="cps", minimum=0, width=12)


def exporter_panel(signal: str) -> Panel:
    items, by = c.OTELCOL_ITEMS[signal], ("job", "exporter")
    sent = sum_by(by, rate(c.otelcol_exporter_metric("sent", items)))

    def failures(outcome: str) -> str:
        # The failure counters appear only after a first failure; until then they read 0 per exporter.
        return zero_when_absent(sum_by(by, rate(c.otelcol_exporter_metric(outcome, items))), sent, by)

    return Panel(
        PanelKind.TIMESERIES, f"Exporters: {items} sent and failed",
        f"{items} each exporter delivered, failed to send after retries, or could not even queue.",
        (Query(sent, "{{job}} {{exporter}} sent"),
         Query(failures("send_failed"), "{{job}} {{exporter}} send failed"),
         Query(failures("enqueue_failed"), "{{job}} {{exporter}} enqueue failed")),
        unit="cps", minimum=0, width=12)


def collector_panels(model: Model) -> tuple[Panel, ...]:
    limit = model.stack.timing.memory_limit_mib * 1024 * 1024
    fill = f"max by (job, exporter, data_type) ({c.OTELCOL_QUEUE_SIZE} / {c.OTELCOL_QUEUE_CAPACITY})"
    return ((Panel(PanelKind.ROW, "Collector"),) + tuple(receiver_panel(s) for s in SIGNALS)
            + tuple(exporter_panel(s) for s in SIGNALS) + (
        Panel(PanelKind.TIMESERIES, "Exporter queue fill",
              "Batches waiting in each exporter's sending queue, as a share of its capacity. A queue that stays "
              "full drops data: the next hop is down or too slow.",
              (Query(fill, "{{job}} {{exporter}} {{data_type}}"),), unit="percentunit", minimum=0, maximum=1,
              steps=(("green", None), ("orange", 0.5), ("red", 0.8)), threshold_style="dashed", width=12),
        Panel(PanelKind.TIMESERIES, "Collector memory against the memory limiter",
              "Resident memory of the collector; above the dashed line the memory limiter refuses data.",
              (Query(f"max({c.OTELCOL_MEMORY_RSS}{matchers(('job', c.JOB_OTELCOL))})", "rss"),), unit="bytes",
              minimum=0, steps=(("green", None), ("red", float(limit))), threshold_style="dashed", width=12),
    ))


def prometheus_panels(model: Model) -> tuple[Panel, ...]:
    every = model.stack.timing.evaluation_interval
    return (
        Panel(PanelKind.ROW, "Prometheus"),
        Panel(PanelKind.STAT, "Scrape targets up, by job", "1 when every target of the job answered its last scrape.",
              (Query("min by (job) (up)", "{{job}}", instant=True),),
              mappings=(("1", "up", "green"), ("0", "DOWN", "red")), steps=(("red", None), ("green", 1.0)),
              width=24, height=4),
        Panel(PanelKind.TIMESERIES, "Rule group evaluation duration",
              f"How long each rule group took at its last evaluation. Above the dashed line ({every}, the "
              "evaluation interval) a group cannot keep up.",
              (Query(f"max by (rule_group) ({c.PROMETHEUS_RULE_GROUP_DURATION})", "{{rule_group}}"),), unit="s",
              minimum=0, steps=(("green", None), ("red", every.s)), threshold_style="dashed", width=12),
        Panel(PanelKind.TIMESERIES, "Rule evaluation failures", "Failed evaluations per second, by rule group.",
              (Query(sum_by(["rule_group"], rate(c.PROMETHEUS_RULE_EVALUATION_FAILURES)), "{{rule_group}}"),),
              unit="cps", minimum=0, width=12),
        Panel(PanelKind.TIMESERIES, "Alerts Prometheus could not deliver",
              "Alerts dropped before sending, and errors sending them to each Alertmanager.",
              (Query(sum_(rate(c.PROMETHEUS_NOTIFICATIONS_DROPPED)), "dropped"),
               Query(sum_by(["alertmanager"], rate(c.PROMETHEUS_NOTIFICATIONS_ERRORS)), "errors {{alertmanager}}")),
              unit="cps", minimum=0, width=12),
    )


def alertmanager_panels() -> tuple[Panel, ...]:
    watchdog = f"count(ALERTS{matchers(('alertname', c.WATCHDOG_ALERT), ('alertstate', 'firing'))}) or vector(0)"
    return (
        Panel(PanelKind.ROW, "Alertmanager"),
        Panel(PanelKind.TIMESERIES, "Notifications sent and failed, by integration",
              "Notification attempts per integration (pagerduty, slack, webhook, email) and the failed ones.",
              (Query(sum_by(["integration"], rate(c.ALERTMANAGER_NOTIFICATIONS)), "{{integration}} sent"),
               Query(sum_by(["integration"], rate(c.ALERTMANAGER_NOTIFICATIONS_FAILED)),
                     "{{integration}} failed")),
              unit="cps", minimum=0, width=12),
        Panel(PanelKind.STAT, "Alerts in Alertmanager", "Alerts Alertmanager holds, by state.",
              (Query(sum_by(["state"], c.ALERTMANAGER_ALERTS), "{{state}}", instant=True),), width=6),
        Panel(PanelKind.STAT, "Watchdog (dead man's switch)",
              f"The {c.WATCHDOG_ALERT} alert always fires while rules are evaluated and Prometheus works; "
              "0 means the alerting path itself is broken.",
              (Query(watchdog, instant=True),),
              mappings=(("0", "NOT firing: alerting broken", "red"), ("1", "firing: alerting works", "green")),
              steps=(("red", None), ("green", 1.0)), width=6),
    )


def verifier_panels() -> tuple[Panel, ...]:
    by = f"{c.VERIFY_PROBE_KIND_LABEL}, {c.VERIFY_HOP_LABEL}"
    probe = f"{{{{{c.VERIFY_PROBE_KIND_LABEL}}}}}"
    return (
        Panel(PanelKind.ROW, "Verifier (obs verify)"),
        Panel(PanelKind.STAT, "Probe success by kind",
              "Did the last end-to-end probe of each kind (trace, metric, alert) arrive where it should.",
              (Query(f"min by ({c.VERIFY_PROBE_KIND_LABEL}) ({c.VERIFY_PROBE_SUCCESS})", probe, instant=True),),
              mappings=(("1", "pass", "green"), ("0", "FAIL", "red")), steps=(("red", None), ("green", 1.0)),
              why_empty=NOT_VERIFIED, no_value="obs verify has not reported yet", width=8),
        Panel(PanelKind.TIMESERIES, "Hop latency against its floor",
              "Seconds each probe took per hop, and the floor the configuration allows for that hop.",
              (Query(f"max by ({by}) ({c.VERIFY_HOP_LATENCY})", f"{probe} {{{{{c.VERIFY_HOP_LABEL}}}}}"),
               Query(f"max by ({by}) ({c.VERIFY_HOP_FLOOR})", f"{probe} {{{{{c.VERIFY_HOP_LABEL}}}}} floor")),
              unit="s", minimum=0, why_empty=NOT_VERIFIED, no_value="obs verify has not reported yet", width=10),
        Panel(PanelKind.STAT, "Since the last verify run", "Age of the verifier's last completed run.",
              (Query(f"time() - max({c.VERIFY_LAST_RUN_TIMESTAMP})", instant=True),), unit="s", decimals=0,
              why_empty=NOT_VERIFIED, no_value="never", width=6),
    )


def dashboard(model: Model) -> Dashboard:
    return Dashboard(
        uid=c.pipeline_dashboard_uid(model.project), title=f"{model.project} / pipeline health", kind="pipeline",
        description=f"{header(model)}. Every hop of the telemetry pipeline: collector, Prometheus, Alertmanager, "
                    "and the verifier's end-to-end probes.",
        panels=collector_panels(model) + prometheus_panels(model) + alertmanager_panels() + verifier_panels(),
        interval=model.stack.timing.scrape_interval, tags=("obs", model.project, "pipeline"),
        links=header_links(model), time_from="now-3h")
