"""What a report shows, as plain frozen data: the renderer draws exactly this and fetches nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from obs.report.saved import SavedDrill, SavedVerify


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "nothing to judge"     # no result saved and no SLO reporting: the page says so


class Severity(StrEnum):
    """Of an alert threshold drawn on a chart (the spec's tiers page or ticket)."""
    PAGE = "page"
    TICKET = "ticket"


class ComponentKind(StrEnum):
    """Where along the pipeline a row of counts was read, which decides what its columns mean."""
    RECEIVER = "receiver"            # accepted; refused (pushed back to the sender); failed (lost inside)
    EXPORTER = "exporter"            # sent; failed after retries or never queued (lost)
    NOTIFIER = "notifier"            # Prometheus → Alertmanager: sent; errors; dropped
    INTEGRATION = "integration"      # Alertmanager → a vendor: delivered; failed


@dataclass(frozen=True)
class Version:
    component: str
    pinned: str | None               # what obs builds (stack.versions)
    running: str | None              # what the component reports, None when it does not answer


@dataclass(frozen=True)
class StackState:
    reached: bool                    # at least Prometheus answered: live sections are filled
    why: str = ""                    # when not reached: what did not answer, in words
    versions: tuple[Version, ...] = ()
    where: str = "local"             # `local` or a deployed environment's name


@dataclass(frozen=True)
class Series:
    """One line on a time-series chart: (Unix seconds, value) points, ascending in time."""
    name: str
    points: tuple[tuple[float, float], ...]
    colour: int = 0                  # the palette slot: one window keeps one colour across charts


@dataclass(frozen=True)
class Threshold:
    """A horizontal line drawn across a chart: where an alert fires."""
    label: str
    value: float
    severity: Severity


@dataclass(frozen=True)
class Window:
    """The burn rate now over one window; `threshold` when a tier alerts on this window, else None."""
    window: str
    burn_rate: float | None
    threshold: float | None = None
    severity: Severity | None = None
    short: str | None = None         # the tier's short window, which must exceed the threshold too


@dataclass(frozen=True)
class SloStatus:
    service: str
    slo: str
    objective: float                 # percent, e.g. 99.9
    period: str                      # e.g. 30d
    attained: float | None           # the SLI over the period, as a ratio (0.9993); None without data
    budget_left: float | None        # share of the period's error budget left (may be negative)
    windows: tuple[Window, ...] = ()
    error_ratio: tuple[Series, ...] = ()
    burn_rate: tuple[Series, ...] = ()
    ratio_thresholds: tuple[Threshold, ...] = ()
    burn_thresholds: tuple[Threshold, ...] = ()
    grouped: bool = False            # group_by: the numbers are the worst group's
    start: float = 0.0               # the time axis: from where data begins within the range, to `end`
    end: float = 0.0


@dataclass(frozen=True)
class PipelineRow:
    component: str                   # the scrape job that reported it: otelcol, jaeger, prometheus, alertmanager
    kind: ComponentKind
    name: str                        # the receiver, exporter, Alertmanager or integration
    signal: str                      # spans, metric_points, alerts, notifications
    accepted: float
    refused: float
    dropped: float


@dataclass(frozen=True)
class ReportData:
    project: str
    spec: str                        # the spec's file name as shown
    spec_sha256: str | None
    made_at: float                   # Unix seconds
    range_s: float
    stack: StackState
    verify: SavedVerify | None = None
    drill: SavedDrill | None = None
    slos: tuple[SloStatus, ...] = ()
    declared_slos: tuple[tuple[str, str], ...] = ()   # (service, slo) from the spec, shown even without data
    pipeline: tuple[PipelineRow, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def verdict(self) -> tuple[Verdict, tuple[str, ...]]:
        """Pass or fail, and each reason for a failure."""
        reasons: list[str] = []
        judged = False
        if self.verify is not None:
            judged = True
            reasons += [f"verify: {r.name} failed" for r in self.verify.result.results if not (r.ok or r.skipped)]
        if self.drill is not None:
            judged = True
            reasons += [f"drill: {i.incident.value} " + ("paged late" if i.paged_once else "did not page once")
                        for i in self.drill.result.incidents if not i.ok]
        for s in self.slos:
            if s.budget_left is not None:
                judged = True
                if s.budget_left < 0:
                    reasons.append(f"SLO {s.service}/{s.slo}: error budget exhausted")
        if not judged:
            return Verdict.UNKNOWN, ()
        return (Verdict.FAIL if reasons else Verdict.PASS), tuple(reasons)
