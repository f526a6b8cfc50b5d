"""What a verify run produces: timed hops, findings that name where data stopped, and probe results."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from obs.model.floors import HopId


class Status(StrEnum):
    FAIL = "fail"       # fails the check
    WARN = "warn"       # shown with the result
    INFO = "info"       # only in JSON and JUnit


@dataclass(frozen=True)
class Finding:
    """Where data stopped (hop), how sure we are (status: fail | warn | info), why, and what to do about it.

    Only `fail` fails a check; `warn` is shown with the result, `info` only in JSON and JUnit. `case` names
    which known situation a diagnosis recognised (e.g. "old semantic conventions"), when it did."""

    hop: str
    status: Status
    why: str
    fix: str = ""
    case: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))

    def as_dict(self) -> dict[str, Any]:
        out = {"hop": self.hop, "status": self.status, "why": self.why, "fix": self.fix}
        if self.case:
            out["case"] = self.case
        return out


@dataclass(frozen=True)
class Hop:
    """One stretch of the pipeline: how long the data took, against the least time the config allows."""

    id: HopId                       # stable, used as a metric label
    title: str
    seconds: float | None           # None: the data never got past this hop
    floor: float

    @property
    def slow(self) -> bool:
        # A hop more than 2x (+ 0.5 s of scheduling noise) over its floor points to a backlog or a retry.
        return self.seconds is not None and self.seconds > 2 * self.floor + 0.5

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "seconds": None if self.seconds is None else round(self.seconds, 4),
                "floor_seconds": round(self.floor, 4)}


@dataclass
class ProbeResult:
    """name is the check's id (trace, metric, alert, scrape, coverage:...); ok False fails the run."""

    name: str
    ok: bool
    summary: str
    seconds: float = 0.0
    floor: float = 0.0
    hops: list[Hop] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    probe_id: str | None = None
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "ok": self.ok, "skipped": self.skipped, "summary": self.summary,
            "seconds": round(self.seconds, 4), "floor_seconds": round(self.floor, 4), "probe_id": self.probe_id,
            "hops": [h.as_dict() for h in self.hops], "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class Report:
    project: str
    profile: str
    budget: float
    floor: float
    results: list[ProbeResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    env: str = "local"

    @property
    def ok(self) -> bool:
        return all(r.ok or r.skipped for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project, "env": self.env, "profile": self.profile, "ok": self.ok,
            "seconds": round(self.seconds, 4),
            "floor_seconds": round(self.floor, 4), "budget_seconds": round(self.budget, 4),
            "warnings": self.warnings, "results": [r.as_dict() for r in self.results],
        }
