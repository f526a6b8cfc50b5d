"""What every probe shares during one verify run: endpoints, floors, the deadline, and the collector's counters."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from obs.model.domain import Model
from obs.model.environments import EndpointKind
from obs.model.floors import Floors
from obs.verify import clients
from obs.verify.endpoints import Endpoints
from obs.verify.poll import Deadline
from obs.verify.selfmetrics import Snapshot
from obs.verify.sink import Sink

Progress = Callable[[str, str], None]          # (check name, what it is doing now)


@dataclass
class Context:
    model: Model
    out: Path
    ep: Endpoints
    floors: Floors
    deadline: Deadline
    sink: Sink | None = None
    progress: Progress = lambda check, message: None
    stop: threading.Event = field(default_factory=threading.Event)
    collector_before: Snapshot | None = None
    traffic_sent: bool = False
    watching: bool = False                    # `obs verify --watch`: its own scrape target is up
    _after: Snapshot | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _background: list[threading.Thread] = field(default_factory=list)

    def meanwhile(self, work: Callable[[], None]) -> None:
        """Clean-up a probe need not wait for (its report is ready); the run waits for it before it ends."""
        thread = threading.Thread(target=work, name="obs-verify-cleanup", daemon=True)
        thread.start()
        self._background.append(thread)

    def finish(self) -> None:
        for thread in self._background:
            thread.join()

    def collector(self) -> clients.Collector:
        return clients.Collector(self.ep.collector_health, self.ep.collector_metrics)

    def collector_healthy(self) -> bool:
        # A deployed collector publishes no health endpoint to verify: unknown reads as healthy, so the
        # diagnosis rests on what the collector answered the export.
        return True if self.ep.deployed else self.collector().healthy()

    def collector_snapshot(self) -> Snapshot | None:
        if self.ep.deployed:
            return None
        try:
            return self.collector().self_metrics()
        except clients.Unreachable:
            return None

    def collector_after(self, fresh: bool = False) -> Snapshot | None:
        """One snapshot taken after the probes, shared by every diagnosis (cheaper, and consistent)."""
        with self._lock:
            if self._after is None or fresh:
                self._after = self.collector_snapshot()
            return self._after

    def prometheus(self) -> clients.Prometheus:
        return clients.Prometheus(self.ep.prometheus, settings=self.ep.settings_for(EndpointKind.PROMETHEUS),
                                  alternates=self.ep.prometheus_replicas, servers=self.ep.prometheus_replicas)

    def jaeger(self) -> clients.Jaeger:
        return clients.Jaeger(self.ep.jaeger, settings=self.ep.settings_for(EndpointKind.JAEGER))

    def alertmanager(self) -> clients.Alertmanager:
        return clients.Alertmanager(self.ep.alertmanager, settings=self.ep.settings_for(EndpointKind.ALERTMANAGER),
                                    alternates=self.ep.alertmanager_replicas)

    @property
    def export_timeout(self) -> float:
        # An OTLP export that takes seconds is already a finding; don't let the SDK's retries eat the budget.
        return max(0.5, min(2.0, self.deadline.left))


def down_reason(client: clients.Http, path: str) -> str | None:
    """None when the component answers `path`, else why it does not."""
    try:
        r = client.request("GET", path)
    except clients.Unreachable as e:
        return e.reason
    return None if r.status_code < 500 else f"HTTP {r.status_code}"
