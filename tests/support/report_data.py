"""Report data made from the real result types (obs.verify.result, obs.verify.incidents), for tests of the page
that need no stack: what `obs verify` and `obs drill` print, saved as they save it."""
from __future__ import annotations

from dataclasses import replace

from obs.model.detection import Incident
from obs.model.floors import HopId
from obs.report.data import (
    ComponentKind,
    PipelineRow,
    ReportData,
    Series,
    Severity,
    SloStatus,
    StackState,
    Threshold,
    Version,
    Window,
)
from obs.report.saved import Kind, SavedDrill, SavedVerify, wrap
from obs.verify.incidents import IncidentResult
from obs.verify.result import Finding, Hop, ProbeResult, Report, Status

NOW = 1_800_000_000.0
DIGEST = "ab" * 32


def verify_report(lost_at: HopId | None = None, project: str = "shop") -> Report:
    """Every probe passing, or the alert probe losing its data at `lost_at`."""
    alert_hops = [Hop(HopId.EXPORT, "OTLP export accepted by the collector", 0.03, 0.05),
                  Hop(HopId.PROMETHEUS, "collector batch → Prometheus", 0.15, 0.05),
                  Hop(HopId.RULE, "the probe rule fires", 0.0, 1.0),
                  Hop(HopId.ALERTMANAGER, "Prometheus → Alertmanager", 0.27, 0.05),
                  Hop(HopId.WEBHOOK, "Alertmanager → the webhook sink", 0.07, 0.05)]
    findings = []
    if lost_at is not None:
        alert_hops = [replace(h, seconds=None) if h.id == lost_at else h for h in alert_hops]
        findings = [Finding("Alertmanager", Status.FAIL, "Alertmanager does not answer", "start it with `obs up`")]
    results = [
        ProbeResult("trace", True, "trace found in Jaeger", 0.16, 0.3,
                    [Hop(HopId.EXPORT, "OTLP export accepted", 0.1, 0.05), Hop(HopId.JAEGER, "Jaeger", 0.06, 0.25)]),
        ProbeResult("metric", True, "probe queryable", 0.12, 0.1,
                    [Hop(HopId.EXPORT, "OTLP export accepted", 0.03, 0.05),
                     Hop(HopId.PROMETHEUS, "collector → Prometheus", 3.2, 0.05)]),   # slow: over 2x + 0.5 s
        ProbeResult("alert", lost_at is None, "probe alert delivered" if lost_at is None else "probe alert lost",
                    0.5, 1.2, alert_hops, findings),
        ProbeResult("coverage:sli", True, "every SLI query returns data",
                    findings=[Finding("sli", Status.WARN, "checkout sends few samples", "wait")]),
    ]
    return Report(project, "fast", 29.2, 12.1, results, ["a warning"], 12.0)


def drill_results() -> list[IncidentResult]:
    paged = IncidentResult(Incident.ERRORS, 60.9, "SLOErrorBudgetBurn", 1.4, 1, "oncall", 3.8, 11.0)
    late = IncidentResult(Incident.CRASH, 6.0, "ObsServiceSilent", 9.5, 1, "oncall", 1.0, 11.0)
    never = IncidentResult(Incident.COLLECTOR, 3.0, "ObsPipelineComponentDown", None, 0, None, None, 41.0,
                           findings=[Finding("pages", Status.FAIL, "no page arrived", "check the route")])
    return [paged, late, never]


def saved_verify(report: Report | None = None, digest: str | None = DIGEST) -> SavedVerify:
    result = wrap(Kind.VERIFY, (report or verify_report()).as_dict(), digest, NOW - 60)
    assert isinstance(result, SavedVerify)
    return result


def saved_drill(results: list[IncidentResult] | None = None) -> SavedDrill:
    doc = {"incidents": [r.as_dict() for r in (results or drill_results())], "target_s": 300.0}
    result = wrap(Kind.DRILL, doc, DIGEST, NOW - 30)
    assert isinstance(result, SavedDrill)
    return result


def slo(service: str = "checkout", name: str = "availability", budget_left: float | None = 0.8) -> SloStatus:
    start = NOW - 3600
    wave = tuple((start + i * 60, 0.0005 + 0.0004 * (i % 7) / 7) for i in range(61))
    return SloStatus(
        service=service, slo=name, objective=99.9, period="30d", attained=0.9995, budget_left=budget_left,
        windows=(Window("5m", 0.5), Window("1h", 0.4, 14.4, Severity.PAGE, "5m"),
                 Window("3d", None, 1.0, Severity.TICKET, "6h")),
        error_ratio=(Series("5m window", wave, 0), Series("1h window", wave[::2], 1)),
        burn_rate=(Series("1h window", tuple((t, v * 1000) for t, v in wave), 1),),
        ratio_thresholds=(Threshold("ticket at 1× over 3d and 6h", 0.001, Severity.TICKET),
                          Threshold("page at 14.4× over 1h and 5m", 0.0144, Severity.PAGE)),
        burn_thresholds=(Threshold("ticket at 1× over 3d and 6h", 1.0, Severity.TICKET),
                         Threshold("page at 14.4× over 1h and 5m", 14.4, Severity.PAGE)),
        start=start, end=NOW)


PIPELINE = (PipelineRow("otelcol", ComponentKind.RECEIVER, "otlp", "spans", 400, 12, 1),
            PipelineRow("otelcol", ComponentKind.EXPORTER, "otlp_grpc/jaeger", "spans", 0, 0, 0),
            PipelineRow("prometheus", ComponentKind.NOTIFIER, "http://127.0.0.1:9093/api/v2/alerts", "alerts", 30, 0,
                        0))


def full(**changes: object) -> ReportData:
    """A report with every section filled."""
    data = ReportData(
        project="shop", spec="obs.yaml", spec_sha256=DIGEST, made_at=NOW, range_s=6 * 3600,
        stack=StackState(True, "", (Version("prometheus", "3.16.0", "3.16.0"), Version("otelcol", "0.165.0", None))),
        verify=saved_verify(), drill=saved_drill(), slos=(slo(), slo("worker", "jobs")), pipeline=PIPELINE,
        declared_slos=(("checkout", "availability"), ("worker", "jobs")))
    return replace(data, **changes)  # type: ignore[arg-type]


def unreached(**changes: object) -> ReportData:
    """No stack answered: only what is saved."""
    data = ReportData(project="shop", spec="obs.yaml", spec_sha256=None, made_at=NOW, range_s=6 * 3600,
                      stack=StackState(False, "nothing answers at http://127.0.0.1:9090"),
                      declared_slos=(("checkout", "availability"),))
    return replace(data, **changes)  # type: ignore[arg-type]
