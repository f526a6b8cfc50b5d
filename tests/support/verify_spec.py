"""A fast-profile spec for verify tests: HTTP, events and scrape-only services, all on free ports."""
from __future__ import annotations

from pathlib import Path

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
