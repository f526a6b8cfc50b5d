"""Checks on the spec itself: listeners, metric temporality, the verify budget, job names."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from obs.generate.network import is_loopback
from obs.lint import NOTE, Finding
from obs.model import conventions as c
from obs.model.domain import Model
from obs.verify.floors import floors

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
    if model.stack.metrics == "pull":
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
        if model.stack.metrics == "pull":
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


CHECKS = (listeners_beyond_loopback, delta_temporality, verify_budget, job_names)
