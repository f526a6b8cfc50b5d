"""The pages for incidents an SLO cannot see: a dead pipeline component, a silent service, a service whose
traffic stopped. Each is a PipelineAlert, so it ships with the promtool scenarios that prove it.

How fast each pages, and which rule sets that bound, is computed in obs/model/detection.py from the
same timing. Services are matched by their OTLP job (`[namespace/]service.name`) against the spec's
declared names, so a namespaced deployment (or a drill's `obs-drill/<service>` canary) is covered too,
and an undeclared job going quiet pages nobody.
"""
from __future__ import annotations

import re

from obs.generate.pipeline.alerts import PipelineAlert, Scenario, label
from obs.generate.slo.sli import OLD, STABLE
from obs.model import conventions as c
from obs.model import detection
from obs.model.detection import MIN_EXPECTED_REQUESTS, TRAFFIC_BASELINE
from obs.model.domain import Model
from obs.model.durations import Duration
from obs.model.promql import histogram_count, match, ne, rate, selector, sum_by


def job_regex(services: list[str]) -> str:
    """Matches `name` and `namespace/name` for the given services; group 2 is the service."""
    return "(.+/)?(" + "|".join(re.escape(s).replace("\\-", "-") for s in services) + ")"


def _with_service(expr: str) -> str:
    return f'label_replace(\n  {expr},\n  "{c.LABEL_SERVICE}", "$2", "job", "(.+/)?(.+)"\n)'


def _requests(job_re: str, window: Duration) -> str:
    """Requests per second per job, whichever form of the HTTP duration histogram the job sends."""
    forms = [histogram_count(rate(selector(STABLE.name, regex={"job": job_re}), window)),
             rate(selector(f"{STABLE.name}_count", regex={"job": job_re}), window),
             rate(selector(f"{OLD.name}_count", regex={"job": job_re}), window)]
    return sum_by(["job"], "\n    " + "\n    or ".join(forms) + "\n  ")


def _unless_collector_was_down(expr: str, window: Duration) -> str:
    """A silence the collector explains is not the service's: while a collector scrape failed within the
    window, the service's own pages stay quiet. Inhibition alone races here: with a Prometheus pair, each
    replica resolves the collector's page on its own evaluation phase, and a symptom evaluated between
    the two reaches Alertmanager uninhibited. An absent `up` (a Prometheus that does not scrape the
    collector) holds nothing back."""
    return f"{expr}\nunless on () (min_over_time({selector('up', {'job': c.JOB_OTELCOL})}[{window}]) == 0)"


_COLLECTOR_UP = selector("up", {"job": c.JOB_OTELCOL, "instance": "127.0.0.1:8888"})
EXPLAINED_BY_COLLECTOR = "a collector scrape failed within its quiet window (the collector's page explains it)"


def _collector_blip(bad: Scenario, step: Duration) -> Scenario:
    """The bad series, with the collector down for three scrapes around the onset and back up before the
    check: the moment after a restore, when the collector's page has resolved but the silence has not."""
    i = max(2, bad.onset.ms // step.ms - 1)
    return Scenario(bad.series + ((_COLLECTOR_UP, f"1x{i - 1} 0x2 1x{{n}}"),))


def component_down(model: Model) -> PipelineAlert:
    t = model.stack.timing
    jobs = "|".join(c.PIPELINE_COMPONENT_JOBS)
    collector, jaeger = ({"job": j, "instance": f"127.0.0.1:{p}"} for j, p in (("otelcol", 8888), ("jaeger", 14269)))
    return PipelineAlert(
        c.COMPONENT_DOWN_ALERT, c.PIPELINE_GROUP_INCIDENTS, f"{selector('up', regex={'job': jobs})} == 0", t.down_for,
        "page", label("job"),
        f"Telemetry pipeline component {label('job')} is down",
        f"Prometheus has not scraped {label('instance')} (job {label('job')}) for {t.down_for}: telemetry through "
        "it is being lost or queued. Pages about services going silent are held back while this fires.",
        "Run `obs status`; restart it with `obs up`; read `obs logs <component>` for why it died (memory limit, "
        "a bad config after `obs generate`, a port taken).",
        bad=Scenario(((selector("up", collector), "0x{n}"), (selector("up", jaeger), "0x{n}")),
                     fires=(collector, jaeger)),
        healthy=Scenario(((selector("up", {**collector, "instance": "10.0.0.2:8888"}), "1x{n}"),
                          (selector("up", {"job": "prometheus", "instance": "127.0.0.1:9090"}), "0x{n}"))))


def service_silent(model: Model, services: list[str]) -> PipelineAlert:
    t = model.stack.timing
    job_re = job_regex(services)
    quiet, memory = detection.quiet_window(t), t.silence_memory
    seen = selector("target_info", [match("job", job_re), ne(c.SYNTHETIC_LABEL, "true")])
    recent = selector("target_info", regex={"job": job_re})
    expr = _unless_collector_was_down(_with_service(f"count by (job) (last_over_time({seen}[{memory}]))\n"
                                                    f"  unless count by (job) (last_over_time({recent}[{quiet}]))"),
                                      quiet)
    svc = services[0]
    step = t.scrape_interval
    stop_after = 4
    gone = {"job": f"prod/{svc}", "instance": "i-1"}
    bad = Scenario(((selector("target_info", gone), f"1x{stop_after} _x{{n}}"),),
                   fires=({"job": f"prod/{svc}", c.LABEL_SERVICE: svc},), onset=step * (stop_after + 1) + quiet)
    return PipelineAlert(
        c.SERVICE_SILENT_ALERT, c.PIPELINE_GROUP_INCIDENTS, expr, None, "page", "service",
        f"{label(c.LABEL_SERVICE)} stopped sending telemetry",
        f"Every instance of {label('job')} has been silent for {quiet} (it sent telemetry within the last "
        f"{memory}): it crashed, or cannot reach the collector. Its SLOs cannot be judged meanwhile.",
        "Check the service's pods or processes; if they run, check they reach the collector (`obs env "
        "<service>`); `obs verify --only coverage` shows which services have data.",
        bad=bad, explained=_collector_blip(bad, step), explained_by=EXPLAINED_BY_COLLECTOR,
        healthy=Scenario(((selector("target_info", {"job": svc, "instance": "i-2"}), "1x{n}"),
                          (selector("target_info", {"job": "not-declared", "instance": "i-3"}),
                           f"1x{stop_after} _x{{n}}"),
                          (selector("target_info", {"job": f"ci/{svc}", "instance": "v", c.SYNTHETIC_LABEL: "true"}),
                           f"1x{stop_after} _x{{n}}"))))


def traffic_stopped(model: Model, services: list[str]) -> PipelineAlert:
    t = model.stack.timing
    job_re = job_regex(services)
    quiet = detection.quiet_window(t)
    expr = _unless_collector_was_down(
        _with_service(f"{_requests(job_re, quiet)} == 0\n  and {_requests(job_re, TRAFFIC_BASELINE)} "
                      f"* {quiet.ms // 1000 or 1} >= {MIN_EXPECTED_REQUESTS}"), quiet)
    svc = services[0]
    busy = {"job": svc, "instance": "i-1", "http_route": "/"}
    rising = 10
    # Enough requests that the baseline rate promises MIN_EXPECTED_REQUESTS per quiet window in any profile.
    per_step = 20 * MIN_EXPECTED_REQUESTS * TRAFFIC_BASELINE.ms // max(1, quiet.ms) // rising
    bad = Scenario(((selector(f"{STABLE.name}_count", busy), f"0+{per_step}x{rising} {per_step * rising}+0x{{n}}"),),
                   fires=({"job": svc, c.LABEL_SERVICE: svc},), onset=t.scrape_interval * (rising + 1) + quiet)
    return PipelineAlert(
        c.SERVICE_TRAFFIC_STOPPED_ALERT, c.PIPELINE_GROUP_INCIDENTS, expr, None, "page", "service",
        f"{label(c.LABEL_SERVICE)} serves no requests",
        f"{label('job')} still sends telemetry but has served no request for {quiet}, though the last "
        f"{TRAFFIC_BASELINE} promised at least {MIN_EXPECTED_REQUESTS} in that time: traffic is not reaching it "
        "(load balancer, DNS, a client-side outage) or it hangs.",
        "Check what routes traffic to the service and whether its clients see errors; the service dashboard "
        "shows when requests stopped.",
        bad=bad, explained=_collector_blip(bad, t.scrape_interval), explained_by=EXPLAINED_BY_COLLECTOR,
        healthy=Scenario(((selector(f"{STABLE.name}_count", {**busy, "job": f"prod/{svc}"}), f"0+{per_step}x{{n}}"),
                          (selector(f"{STABLE.name}_count", {**busy, "job": f"idle/{svc}"}), "0+1x10 10+0x{n}"))))


def otlp_services(model: Model) -> list[str]:
    """Services that send OTLP telemetry: the ones a silence can be noticed for."""
    return [s.name for s in model.services if s.otlp]


def http_services(model: Model) -> list[str]:
    return [s.name for s in model.services if s.otlp and s.http]


def incident_alerts(model: Model) -> tuple[PipelineAlert, ...]:
    alerts = [component_down(model)]
    if otlp_services(model):
        alerts.append(service_silent(model, otlp_services(model)))
    if http_services(model):
        alerts.append(traffic_stopped(model, http_services(model)))
    return tuple(alerts)
