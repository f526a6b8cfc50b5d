"""Checks on the spec itself: listeners, metric temporality, the verify budget, job names."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from obs.lint import NOTE, Finding
from obs.model import conventions as c
from obs.model.domain import Histogram, Model
from obs.model.durations import Duration
from obs.model.floors import floors
from obs.model.kinds import MetricsPath, SliKind
from obs.model.network import is_loopback
from obs.model.windows import BASE_WINDOW

MIN_SAMPLES_PER_WINDOW = 4
STACK_JOBS = (c.JOB_PROMETHEUS, c.JOB_OTELCOL, c.JOB_OTELCOL_EXPORTER, c.JOB_JAEGER, c.JOB_ALERTMANAGER, c.VERIFY_JOB)


def listeners_beyond_loopback(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    st = model.stack
    if not is_loopback(st.bind):
        yield Finding("listener-beyond-loopback", spec_path="stack.bind", message=(
            f"every stack port (Prometheus, Alertmanager, Jaeger, the collector's health and metrics, Grafana) "
            f"listens on {st.bind}, and none of them asks for credentials; keep 127.0.0.1 unless a firewall "
            "or an authenticating proxy guards them"))
    if not is_loopback(st.receivers_bind):
        missing = [what for what, ok in (("receivers.tls", st.receivers_tls), ("receivers.bearer_token",
                                                                                 st.receivers_bearer)) if not ok]
        if missing:
            yield Finding("listener-beyond-loopback", spec_path="stack.receivers.bind", message=(
                f"the OTLP receivers listen on {st.receivers_bind} without {' and '.join(missing)}: anyone who "
                "reaches the port can write traces and metrics (and read bearer tokens sent in clear text)"))


def delta_temporality(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    """Prometheus stores cumulative series; delta points need a converter on the way in."""
    if model.stack.metrics == MetricsPath.PULL:
        yield Finding("delta-temporality", severity=NOTE, spec_path="stack.metrics", message=(
            "metrics: pull re-accumulates delta metrics in the collector's Prometheus exporter, which drops "
            "non-monotonic delta sums and delta points that do not line up (two SDK instances writing one series); "
            "export cumulative (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative) or use metrics: push, "
            "where Prometheus converts deltas itself (--enable-feature=otlp-deltatocumulative)"))


def verify_budget(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    budget = model.stack.verify_budget
    if budget is None:
        return
    # A freshly started stack is the worst case: Prometheus may not have discovered Alertmanager yet.
    floor = floors(model, alertmanager_discovered=False).verify()
    if budget.s < floor:
        t = model.stack.timing
        knobs = [f"batch {t.batch_timeout}"]
        if model.stack.metrics == MetricsPath.PULL:
            knobs.append(f"scrape {t.scrape_interval}")
        knobs += [f"evaluation {t.evaluation_interval}", f"group_wait {t.group_wait}",
                  f"Alertmanager discovery or resend delay (up to {t.resend_delay})"]
        yield Finding("verify-budget", spec_path="stack.verify_budget", message=(
            f"verify_budget {budget} is shorter than the pipeline's floor of {floor:g}s under the {t.name} profile "
            f"({', '.join(knobs)}); every probe would time out: raise it to at least {floor:g}s "
            "or use `profile: fast`"))

def job_names(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    for i, s in enumerate(model.services):
        if s.name in STACK_JOBS:
            yield Finding("job-collision", spec_path=f"services[{i}].name", message=(
                f"service {s.name!r} shares the job label of obs's own {s.name!r} scrape job (Prometheus sets "
                "job=service.name for OTLP data), so `up` and the pipeline alerts mix the two; rename the service"))


def latency_threshold_without_bucket(model: Model, files: Mapping[str, str],
                                     environ: Mapping[str, str]) -> Iterable[Finding]:
    """A native service's threshold off the SDKs' default buckets is read only from native histograms."""
    for i, s in enumerate(model.services):
        if s.histogram is not Histogram.NATIVE:
            continue
        for j, slo in enumerate(s.slos):
            t = slo.sli.threshold
            if slo.sli.kind != SliKind.LATENCY or t is None or t.s in c.OTEL_HTTP_BUCKETS:
                continue
            near = min(c.OTEL_HTTP_BUCKETS, key=lambda b: abs(b - t.s))
            yield Finding("latency-threshold-without-bucket", severity=NOTE,
                          spec_path=f"services[{i}].slos[{j}].sli.latency.threshold", message=(
                f"{t} is no boundary of the SDKs' default explicit buckets, so only instances sending native "
                f"histograms count for this SLO. The Python SDK does with `obs env {s.name}`; the Node.js SDK "
                "(sdk-node 0.223) ignores OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, and its "
                "instances would be left out (`obs verify` says so). "
                f"For a Node.js service use {Duration.seconds(near)}, "
                "or `histogram: classic` with latency_buckets and a View that sets them in code"))


def sparse_scrapes(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    """A scrape interval so long that the SLIs' base window holds too few samples to rate over."""
    limit = BASE_WINDOW.ms // MIN_SAMPLES_PER_WINDOW
    for i, s in enumerate(model.services):
        for k, target in enumerate(s.scrape):
            interval = target.interval or model.stack.timing.scrape_interval
            if interval.ms > limit:
                yield Finding("sparse-samples", spec_path=f"services[{i}].telemetry.scrape[{k}].interval", message=(
                    f"scraped every {interval}, {s.name} leaves fewer than {MIN_SAMPLES_PER_WINDOW} samples in the "
                    f"{BASE_WINDOW} window its SLIs and panels rate over, so they read gaps and jumps; scrape at "
                    f"most every {Duration(limit)}"))


def incident_coverage(model: Model, files: Mapping[str, str], environ: Mapping[str, str]) -> Iterable[Finding]:
    """Every kind of incident must be able to page someone, within the platform's 5 minutes."""
    from obs.model.detection import TARGET_S, bounds
    if not model.receivers:
        return
    if model.heartbeat is None:
        yield Finding("no-dead-mans-switch", spec_path="alerting", message=(
            "no alerting.heartbeat: the always-firing Watchdog goes nowhere, so a dead Prometheus or Alertmanager "
            "pages nobody; set heartbeat.url ({env: HEARTBEAT_URL}) to a dead man's switch (Healthchecks.io, or "
            "`obs receivers --page-url ...` run somewhere else)"))
    pager = next((r for r in model.receivers if r.name == model.paging_receiver), None)
    if pager is not None and pager.kind not in model.fallback_receivers():
        yield Finding("no-fallback-receiver", spec_path="alerting.receivers", message=(
            f"pages go to {pager.name} ({pager.kind}) and no receiver of another kind exists, so if {pager.kind} "
            "rejects them (a revoked key, an outage) nobody hears of it; add one, e.g. a Slack channel"))
    for b in bounds(model):
        if b.seconds > TARGET_S:
            yield Finding("slow-detection", spec_path="alerting", message=(
                f"a {b.incident.value} incident pages after {b.seconds:.0f}s at worst through {b.rule}, over the "
                f"{TARGET_S:.0f}s target; the slowest part is {b.slowest.what} (`obs explain -v`)"))


CHECKS = (listeners_beyond_loopback, delta_temporality, verify_budget, job_names, latency_threshold_without_bucket,
          incident_coverage, sparse_scrapes)
