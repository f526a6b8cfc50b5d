"""A fast-profile spec for drills: an HTTP service with an availability and a latency SLO, PagerDuty for pages
and Slack for tickets (so a failing PagerDuty can be reported somewhere else), on the given ports."""
from __future__ import annotations

from pathlib import Path


def write_spec(directory: Path, ports: dict[str, int], profile: str = "fast") -> Path:
    port_lines = "\n".join(f"    {k}: {v}" for k, v in ports.items())
    spec = directory / "obs.yaml"
    spec.write_text(f"""\
version: obs/v1
project: drill-test
stack:
  profile: {profile}
  ports:
{port_lines}
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
alerting:
  receivers:
    - name: oncall
      pagerduty:
        routing_key: {{env: OBS_TEST_DRILL_KEY}}
    - name: chat
      slack:
        api_url: {{env: OBS_TEST_DRILL_SLACK}}
        channel: "#ops"
  routes:
    - match: {{severity: page}}
      receiver: oncall
    - match: {{severity: ticket}}
      receiver: chat
""")
    return spec
