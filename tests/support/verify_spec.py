"""A fast-profile spec for verify tests: HTTP, events and scrape-only services, all on free ports."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, start_http_server

from obs.commands.generate import generate
from tests.support.stack_spec import SECRET_ENV, free_ports, port_is_free  # noqa: F401 - re-exported for the verify tests
from tests.support.stack_spec import write_spec as write_stack_spec


def write_spec(directory: Path, ports: dict[str, int], legacy_port: int, metrics: str = "push",
               project: str = "verify-test") -> Path:
    return write_stack_spec(directory, ports, project, "fast", f"""\
services:
  - name: checkout
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli:
          availability: {{}}
      - name: latency
        objective: 95
        sli:
          latency:
            threshold: 250ms
  - name: worker
    slos:
      - name: jobs
        objective: 99
        sli:
          events:
            error_query: sum(rate(jobs_total{{service_name="worker",outcome="failure"}}[{{{{window}}}}]))
            total_query: sum(rate(jobs_total{{service_name="worker"}}[{{{{window}}}}]))
  - name: legacy
    telemetry:
      otlp: false
      scrape:
        - targets: ["127.0.0.1:{legacy_port}"]
alerting:
  receivers:
    - name: oncall
      pagerduty:
        routing_key: {{env: {SECRET_ENV}}}
  routes:
    - match: {{severity: page}}
      receiver: oncall
""", metrics)


@contextmanager
def served_spec(directory: Path, metrics: str = "push", project: str = "verify-test") -> Iterator[Path]:
    """The verify spec written and generated in `directory` on free ports, its scrape-only service played by a real
    prometheus-client exporter for as long as the context lasts."""
    ports = free_ports()
    legacy = next(p for p in range(29500, 29999) if p not in ports.values() and port_is_free(p))
    spec = write_spec(directory, ports, legacy, metrics=metrics, project=project)
    generate(spec, None, check=False)
    registry = CollectorRegistry()
    Counter("legacy_requests", "Requests the legacy service handled.", registry=registry).inc()
    server, _ = start_http_server(legacy, addr="127.0.0.1", registry=registry)
    try:
        yield spec
    finally:
        server.shutdown()
        server.server_close()
