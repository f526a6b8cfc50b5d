"""The collector's own counters, read before and after a probe: where along the collector the data went.

Names as the collector exposes them on :8888 (opentelemetry.io/docs/collector/internal-telemetry/), `_total` dropped:
otelcol_receiver_{accepted,refused,failed}_<items>, otelcol_exporter_{sent,send_failed,
enqueue_failed}_<items>, otelcol_exporter_queue_size{data_type}. Counters show up only
once they are non-zero, so a missing series reads as 0.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from obs.model import conventions as c

# A component's own /metrics: (name without `_total`, labels) -> value.
Snapshot = dict[tuple[str, frozenset[tuple[str, str]]], float]

ITEMS = c.OTELCOL_ITEMS


def _by(snapshot: Snapshot, name: str, label: str, where: dict[str, str] | None = None) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for (n, labels), value in snapshot.items():
        if n != name:
            continue
        d = dict(labels)
        if where and any(d.get(k) != v for k, v in where.items()):
            continue
        out[d.get(label, "")] += value
    return dict(out)


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    # A restarted collector starts its counters at zero again; then the after value is the delta.
    return {k: (v - before.get(k, 0.0) if v >= before.get(k, 0.0) else v) for k, v in after.items()}


@dataclass
class Flow:
    """What the collector did with one signal between two snapshots."""

    signal: str
    accepted: float = 0.0
    refused: float = 0.0
    failed: float = 0.0
    sent: dict[str, float] = field(default_factory=dict)             # per exporter
    send_failed: dict[str, float] = field(default_factory=dict)
    enqueue_failed: dict[str, float] = field(default_factory=dict)
    queued: dict[str, float] = field(default_factory=dict)           # queue size now, per exporter

    def exporters(self) -> list[str]:
        return sorted(set(self.sent) | set(self.send_failed) | set(self.enqueue_failed) | set(self.queued))

    def stuck(self, exporter: str) -> bool:
        """Items wait in the exporter's queue (retrying) or were dropped, and none got through."""
        lost = self.send_failed.get(exporter, 0) + self.enqueue_failed.get(exporter, 0) + self.queued.get(exporter, 0)
        return lost > 0 and self.sent.get(exporter, 0) == 0


def flow(signal: str, before: Snapshot, after: Snapshot) -> Flow:
    items = ITEMS[signal]

    def total(kind: str) -> float:
        name = c.otelcol_receiver_metric(kind, items)
        return sum(_delta(_by(before, name, "receiver"), _by(after, name, "receiver")).values())

    def per_exporter(kind: str) -> dict[str, float]:
        name = c.otelcol_exporter_metric(kind, items)
        return {k: v for k, v in _delta(_by(before, name, "exporter"), _by(after, name, "exporter")).items()}

    queued = _by(after, c.OTELCOL_QUEUE_SIZE, "exporter", {"data_type": signal})
    return Flow(signal, accepted=total("accepted"), refused=total("refused"), failed=total("failed"),
                sent=per_exporter("sent"), send_failed=per_exporter("send_failed"),
                enqueue_failed=per_exporter("enqueue_failed"), queued={k: v for k, v in queued.items() if v > 0})
