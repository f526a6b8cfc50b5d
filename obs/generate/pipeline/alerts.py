"""The catalogue of stack and pipeline-health alerts, each with the synthetic series that prove it.

Every alert carries a `bad` scenario (series that must make it fire, and the labels it fires
with) and a `healthy` one (series that must leave it quiet). pipeline_rules.py turns the same
records into the rule file and its promtool test, so a rule cannot ship without its proof.

Collector self-metrics are matched with an optional `_total`: scraped from v0.165's own
/metrics endpoint the counters carry no suffix, while pushed over OTLP into Prometheus 3 they
gain it. Only labels present in both forms (job, instance, receiver, exporter, processor,
data_type) are used; the dotted ones (`otel.signal`, `error.type`) depend on escaping.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from obs.model import conventions as c
from obs.model.durations import Duration
from obs.model.promql import Matcher, increase, matchers, name_matching, ne, no_match, rate, selector, sum_by
from obs.model.timing import Timing

SIGNALS = ("spans", "metric_points", "log_records")
QUEUE_FULL_RATIO = 0.8
HOP_SLOW_FACTOR = 3          # a hop slower than 3x its computed floor...
HOP_SLACK_SECONDS = 1        # ...and than this, so a zero floor never fires on noise
COLLECTOR = {"job": "otelcol", "instance": "127.0.0.1:8888"}
PROMETHEUS = {"job": "prometheus", "instance": "127.0.0.1:9090"}
ALERTMANAGER = {"job": "alertmanager", "instance": "127.0.0.1:9093"}


def label(name: str) -> str:
    """A Prometheus template reference to one of the alert's labels."""
    return "{{ $labels." + name + " }}"


@dataclass(frozen=True)
class Scenario:
    """Input series as (selector, promtool values with {n} = sample count, {step} = scrape seconds)."""

    series: tuple[tuple[str, str], ...]
    fires: tuple[dict[str, str], ...] = ()     # labels each expected alert gets from its series
    onset: Duration = Duration(0)              # when the condition first holds (before `for:`)


@dataclass(frozen=True)
class PipelineAlert:
    name: str
    group: str
    expr: str
    for_: Duration | None
    severity: str
    component: str
    summary: str
    description: str
    runbook: str
    bad: Scenario
    healthy: Scenario
    extra_labels: dict[str, str] = field(default_factory=dict)
    # The bad series again, with a cause that explains them: the alert must leave it to the cause's page.
    explained: Scenario | None = None
    explained_by: str = ""

    @property
    def labels(self) -> dict[str, str]:
        return {c.LABEL_SEVERITY: self.severity, c.LABEL_COMPONENT: self.component, **self.extra_labels}


def processor(name: str) -> dict[str, str]:
    return {**COLLECTOR, "processor": name}


def queue(exporter: str, data_type: str) -> dict[str, str]:
    return {**COLLECTOR, "exporter": exporter, "data_type": data_type}


def collector_counter(name: str, *more: Matcher) -> str:
    """A collector counter with or without its `_total` suffix (see the module docstring)."""
    return name_matching(f"{name}(_total)?", *more)


def _per_signal(prefix: str, by: tuple[str, ...], window: Duration) -> str:
    """A counter family summed per signal, the signal kept as a label (rate() drops the name)."""
    parts = [f'label_replace({sum_by(by, rate(collector_counter(f"{prefix}_{s}"), window))}, '
             f'"signal", "{s}", "", "")' for s in SIGNALS]
    return "(\n  " + "\n  or\n  ".join(parts) + "\n) > 0"


def _processor_loss(window: Duration) -> str:
    """Items a processor received but did not pass on; filter processors drop items on purpose."""
    by = ("job", "instance", "processor")
    incoming = rate(collector_counter(c.OTELCOL_PROCESSOR_INCOMING, no_match("processor", "filter.*")), window)
    outgoing = rate(collector_counter(c.OTELCOL_PROCESSOR_OUTGOING), window)
    return f"{sum_by(by, incoming)}\n- {sum_by(by, outgoing)}\n> 0"


def _counter_alert(t: Timing, name: str, family: str, good_family: str, by_label: str, severity: str,
                   summary: str, description: str, runbook: str) -> PipelineAlert:
    """A collector counter that must not grow; good_family is its healthy sibling, which may."""
    bad_a = {**COLLECTOR, by_label: "otlp"}
    bad_b = {**COLLECTOR, by_label: "otlp/backup"}
    return PipelineAlert(
        name, c.PIPELINE_GROUP_COLLECTOR, _per_signal(family, ("job", "instance", by_label), t.rate_window),
        t.alert_for, severity, "collector", summary, description, runbook,
        bad=Scenario(
            ((selector(f"{family}_spans_total", bad_a), "0+5x{n}"),
             (selector(f"{family}_metric_points", bad_b), "0+2x{n}")),
            fires=({**bad_a, "signal": "spans"}, {**bad_b, "signal": "metric_points"}), onset=t.scrape_interval),
        healthy=Scenario(((selector(f"{family}_log_records_total", bad_a), "0x{n}"),
                          (selector(f"{family}_spans", {**bad_b, "job": "otelcol-2"}), "7x{n}"),
                          (selector(f"{good_family}_spans_total", bad_a), "0+100x{n}"))))


def catalogue(t: Timing, user_webhooks: bool = False) -> tuple[PipelineAlert, ...]:
    """user_webhooks: the spec declares webhook receivers of its own (see _notifications_alert)."""
    w, f, s = t.rate_window, t.alert_for, t.scrape_interval
    where = f"{label('instance')} (job {label('job')})"
    return (
        PipelineAlert(
            c.TARGET_DOWN_ALERT, c.PIPELINE_GROUP_STACK, f"{selector('up', [ne('job', c.VERIFY_JOB)])} == 0", f,
            "ticket", label("job"),
            f"{label('job')} target {label('instance')} is down",
            f"Prometheus cannot scrape {label('instance')} (job {label('job')}); its metrics and anything derived "
            "from them (SLOs, pipeline alerts) are blind.",
            "Run `obs status`; restart the component with `obs up`; check its log with `obs logs <component>` "
            "and that it listens on the port in obs.yaml (stack.ports).",
            bad=Scenario(((selector("up", COLLECTOR), "0x{n}"),), fires=(COLLECTOR,)),
            healthy=Scenario(((selector("up", PROMETHEUS), "1x{n}"),
                              (selector("up", {"job": c.VERIFY_JOB, "instance": "127.0.0.1:9098"}), "0x{n}")))),
        _counter_alert(
            t, c.COLLECTOR_REFUSING_ALERT, c.otelcol_receiver_family("refused"),
            c.otelcol_receiver_family("accepted"),
            "receiver", "ticket",
            f"Collector receiver {label('receiver')} is refusing {label('signal')}",
            f"The collector {where} refuses incoming {label('signal')} on receiver {label('receiver')}, usually "
            "because the memory limiter is pushing back; senders retry, then drop.",
            "Raise the collector's memory limit, or lower the load; check `otelcol_process_memory_rss` and the "
            "exporter queue. `obs verify` names the hop that lost data."),
        _counter_alert(
            t, c.COLLECTOR_RECEIVER_FAILING_ALERT, c.otelcol_receiver_family("failed"),
            c.otelcol_receiver_family("accepted"),
            "receiver", "ticket",
            f"Collector receiver {label('receiver')} fails to process {label('signal')}",
            f"Receiver {label('receiver')} of the collector {where} fails on incoming {label('signal')} "
            "(malformed payloads or an internal error), so that data is lost.",
            "Read the collector log (`obs logs otelcol`) for the receiver's errors and fix the sender's payloads."),
        _counter_alert(
            t, c.COLLECTOR_EXPORT_FAILING_ALERT, c.otelcol_exporter_family("send_failed"),
            c.otelcol_exporter_family("sent"),
            "exporter", "ticket",
            f"Collector exporter {label('exporter')} fails to send {label('signal')}",
            f"Exporter {label('exporter')} of the collector {where} fails to deliver {label('signal')}; it retries "
            "from its queue, and drops the data once retries run out.",
            "Check the backend the exporter sends to is up (`obs status`) and reachable at the configured endpoint; "
            "the collector log names the error."),
        _counter_alert(
            t, c.COLLECTOR_DROPPING_ALERT, c.otelcol_exporter_family("enqueue_failed"),
            c.otelcol_exporter_family("sent"),
            "exporter", "page",
            f"Collector exporter {label('exporter')} is dropping {label('signal')}",
            f"The sending queue of exporter {label('exporter')} on the collector {where} is full, so new "
            f"{label('signal')} are dropped: telemetry is being lost now.",
            "Bring the backend behind the exporter back, or raise the queue size and memory limit; a persistent "
            "queue (stack.persistent_queue) keeps data across backend outages."),
        PipelineAlert(
            c.COLLECTOR_PROCESSOR_DROPPING_ALERT, c.PIPELINE_GROUP_COLLECTOR,
            _processor_loss(w),
            f, "ticket", "collector",
            f"Collector processor {label('processor')} is dropping items",
            f"Processor {label('processor')} on the collector {where} passes on fewer items than it receives; "
            "the difference is lost (or refused by the memory limiter).",
            "For memory_limiter, raise the memory limit or lower the load; otherwise read the collector log for "
            "the processor's errors.",
            bad=Scenario(((selector(c.OTELCOL_PROCESSOR_INCOMING + "_total", processor("memory_limiter")), "0+10x{n}"),
                          (selector(c.OTELCOL_PROCESSOR_OUTGOING + "_total", processor("memory_limiter")), "0+6x{n}")),
                         fires=(processor("memory_limiter"),), onset=s),
            healthy=Scenario(((selector(c.OTELCOL_PROCESSOR_INCOMING, processor("batch")), "0+10x{n}"),
                              (selector(c.OTELCOL_PROCESSOR_OUTGOING, processor("batch")), "0+10x{n}"),
                              (selector(c.OTELCOL_PROCESSOR_INCOMING, processor("filter/drop")), "0+10x{n}"),
                              (selector(c.OTELCOL_PROCESSOR_OUTGOING, processor("filter/drop")), "0+1x{n}")))),
        PipelineAlert(
            c.COLLECTOR_QUEUE_FULL_ALERT, c.PIPELINE_GROUP_COLLECTOR,
            f"{c.OTELCOL_QUEUE_SIZE} / ({c.OTELCOL_QUEUE_CAPACITY} > 0) > {QUEUE_FULL_RATIO}",
            f, "ticket", "collector",
            f"Collector exporter {label('exporter')} queue is over {QUEUE_FULL_RATIO:.0%} full",
            f"The {label('data_type')} sending queue of exporter {label('exporter')} on the collector {where} is "
            "nearly full; once full, new data is dropped.",
            "The backend is slow or down: check it with `obs status`; raise the queue size if bursts are expected.",
            bad=Scenario(((selector(c.OTELCOL_QUEUE_SIZE, queue("otlp", "traces")), "900x{n}"),
                          (selector(c.OTELCOL_QUEUE_CAPACITY, queue("otlp", "traces")), "1000x{n}")),
                         fires=(queue("otlp", "traces"),)),
            healthy=Scenario(((selector(c.OTELCOL_QUEUE_SIZE, queue("otlp", "metrics")), "100x{n}"),
                              (selector(c.OTELCOL_QUEUE_CAPACITY, queue("otlp", "metrics")), "1000x{n}"),
                              (selector(c.OTELCOL_QUEUE_SIZE, queue("debug", "logs")), "0x{n}"),
                              (selector(c.OTELCOL_QUEUE_CAPACITY, queue("debug", "logs")), "0x{n}")))),
        PipelineAlert(
            c.RULE_EVALUATION_FAILING_ALERT, c.PIPELINE_GROUP_STACK,
            f"{sum_by(('job', 'instance', 'rule_group'), increase(c.PROMETHEUS_RULE_EVALUATION_FAILURES, w))} > 0",
            f, "page", "prometheus",
            "Prometheus fails to evaluate rules",
            f"Rules in group {label('rule_group')} fail to evaluate on {label('instance')}; the SLO and pipeline "
            "alerts they feed cannot fire.",
            "Open Prometheus's /api/v1/rules for the group's lastError; run `obs test` and `promtool check rules` on "
            "alerts/; regenerate with `obs generate`.",
            bad=Scenario(((selector(c.PROMETHEUS_RULE_EVALUATION_FAILURES, {**PROMETHEUS, "rule_group": "a.yml;g"}),
                           "0+1x{n}"),),
                         fires=({**PROMETHEUS, "rule_group": "a.yml;g"},), onset=s),
            healthy=Scenario(((selector(c.PROMETHEUS_RULE_EVALUATION_FAILURES,
                                    {**PROMETHEUS, "rule_group": "a.yml;ok"}), "3x{n}"),))),
        PipelineAlert(
            c.ALERTS_NOT_REACHING_ALERTMANAGER_ALERT, c.PIPELINE_GROUP_STACK,
            f"{c.PROMETHEUS_ALERTMANAGERS_DISCOVERED} < 1\nor\n"
            f"{sum_by(('job', 'instance'), increase(c.PROMETHEUS_NOTIFICATIONS_ERRORS, w))} > 0",
            # A ticket: while it holds, no page can leave anyway, and the dead man's switch is what pages.
            f, "ticket", "prometheus",
            "Prometheus cannot send alerts to Alertmanager",
            f"Prometheus {label('instance')} has no Alertmanager or fails to send to it: no alert reaches a receiver. "
            "This alert is only visible in Prometheus itself; the Watchdog's silence is what pages.",
            "Check Alertmanager is up (`obs status`) and that prometheus.yml's alerting section points at its port.",
            bad=Scenario(((selector(c.PROMETHEUS_ALERTMANAGERS_DISCOVERED, PROMETHEUS), "0x{n}"),),
                         fires=(PROMETHEUS,)),
            healthy=Scenario(((selector(c.PROMETHEUS_ALERTMANAGERS_DISCOVERED,
                                   {**PROMETHEUS, "job": "p2"}), "1x{n}"),
                              (selector(c.PROMETHEUS_NOTIFICATIONS_ERRORS, PROMETHEUS), "2x{n}")))),
        _notifications_alert(t, user_webhooks),
        PipelineAlert(
            c.WATCHDOG_ALERT, c.PIPELINE_GROUP_STACK, "vector(1)", None, "none", "obs",
            "Watchdog: the alerting pipeline is alive",
            "Always firing. Route it to a dead man's switch: when it stops arriving, Prometheus, Alertmanager or the "
            "path between them is down.",
            "If the dead man's switch triggers, check Prometheus and Alertmanager with `obs status` and `obs verify`.",
            bad=Scenario((), fires=({},)), healthy=Scenario(())),
    )


def _notifications_alert(t: Timing, user_webhooks: bool) -> PipelineAlert:
    """Alertmanager 0.35 labels notification failures by integration only, not by receiver, and every
    page is also copied to the verifier's webhook sink, which fails while no drill runs. So webhook
    failures are watched only when the spec has webhook receivers of its own."""
    w, s = t.rate_window, t.scrape_interval
    failed = c.ALERTMANAGER_NOTIFICATIONS_FAILED
    matcher = "" if user_webhooks else matchers(ne("integration", "webhook"))
    probe_sink = ((selector(failed, {**ALERTMANAGER, "integration": "webhook", "reason": "other"}), "0+1x{n}"),)
    return PipelineAlert(
        c.NOTIFICATIONS_FAILING_ALERT, c.PIPELINE_GROUP_STACK,
        # Not by instance: in an Alertmanager cluster each replica that tries the failing integration counts its
        # own failures, and one alert per replica would page once per replica for one broken integration.
        f"{sum_by(('job', 'integration'), increase(failed + matcher, w))} > 0",
        # No `for:`: one failed delivery is already a page nobody got. Alertmanager routes this alert
        # away from the failing integration (obs/generate/configs/alertmanager.py).
        None, "page", "alertmanager",
        f"Alertmanager fails to deliver {label('integration')} notifications",
        f"Alertmanager fails to send notifications through {label('integration')}: alerts fire but nobody is "
        "told.",
        "Check the receiver's secret file and URL in obs.yaml (alerting.receivers) and the Alertmanager log "
        "(`obs logs alertmanager`) for the integration's error.",
        bad=Scenario(((selector(failed, {**ALERTMANAGER, "integration": "slack", "reason": "other"}), "0+1x{n}"),),
                     fires=({"job": ALERTMANAGER["job"], "integration": "slack"},), onset=s),
        healthy=Scenario(((selector(failed, {**ALERTMANAGER, "integration": "pagerduty", "reason": "other"}), "4x{n}"),)
                         + (() if user_webhooks else probe_sink)))
