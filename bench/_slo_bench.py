"""Synthetic traffic for bench/slo_vs_sloth.py: one schedule, served live and backfilled as history.

Each SLO's service handles RATE requests a second, split into a 200 and a 500 series.
Until `switch_at` every service fails HEALTHY of them; from then on each follows its
scenario's error ratio. Counters are the exact integral of that schedule, so the live
scrape continues the backfilled history without a reset.
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

METRIC = "http_server_request_duration_seconds_count"
RATE = 10.0            # requests per second per service
HEALTHY = 0.0002       # a fifth of a 99.9% budget
JOB = "synthetic"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Traffic:
    services: list[str]
    ratios: list[float]          # error ratio of each service after the switch
    start: float                 # unix seconds where the counters start at 0
    switch_at: float
    instance: str                # the exporter's host:port, as the scrape labels it
    replicas: int = 1            # instances per service, each with its own pair of series

    def count(self, i: int, failing: bool, t: float) -> float:
        before = max(0.0, min(t, self.switch_at) - self.start)
        after = max(0.0, t - self.switch_at)
        share = (lambda r: r) if failing else (lambda r: 1 - r)
        return RATE / self.replicas * (before * share(HEALTHY) + after * share(self.ratios[i]))

    def labels(self, i: int, code: str, replica: int, scraped: bool) -> str:
        own = (f'http_response_status_code="{code}",service_instance_id="r{replica}",'
               f'service_name="{self.services[i]}"')
        return "{" + (f'instance="{self.instance}",job="{JOB}",' if not scraped else "") + own + "}"

    def series(self):
        """(service index, status code, failing, replica) for every raw series."""
        for i in range(len(self.services)):
            for replica in range(self.replicas):
                for code, failing in (("200", False), ("500", True)):
                    yield i, code, failing, replica

    def exposition(self, t: float) -> str:
        lines = [f"# TYPE {METRIC} untyped"]
        for i, code, failing, replica in self.series():
            lines.append(f"{METRIC}{self.labels(i, code, replica, True)} {self.count(i, failing, t):.6f}")
        return "\n".join(lines) + "\n"


def write_history(path: Path, traffic: Traffic, end: float, step: float, recorded: dict[str, float],
                  recorded_step: float) -> int:
    """OpenMetrics for promtool's backfill: the raw counters every `step`, and obs's recorded
    per-window rates (constant in a steady history) every `recorded_step`. Returns the sample count."""
    n = 0
    with path.open("w") as out:
        out.write(f"# TYPE {METRIC} unknown\n")
        for i, code, failing, replica in traffic.series():
            series = METRIC + traffic.labels(i, code, replica, False)
            t = traffic.start
            while t <= end:
                out.write(f"{series} {traffic.count(i, failing, t):.6f} {t:.3f}\n")
                t += step
                n += 1
        for name, value in sorted(recorded.items()):
            out.write(f"# TYPE {name} unknown\n")
            for service in traffic.services:
                series = f'{name}{{service="{service}",slo="availability"}}'
                t = traffic.start
                while t <= end:
                    out.write(f"{series} {value} {t:.3f}\n")
                    t += recorded_step
                    n += 1
        out.write("# EOF\n")
    return n


class Exporter:
    """Serves the live counters on 127.0.0.1:<port>/metrics."""

    def __init__(self, port: int, clock):
        self.traffic: Traffic | None = None
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                body = exporter.traffic.exposition(clock()).encode() if exporter.traffic else b""
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
