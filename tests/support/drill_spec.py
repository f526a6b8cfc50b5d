"""A spec for drills: an HTTP service with an availability and a latency SLO, PagerDuty for pages and Slack for
tickets (so a failing PagerDuty can be reported somewhere else), on the given ports."""
from __future__ import annotations

from pathlib import Path

from tests.support.stack_spec import write_spec as write_stack_spec

BODY = """\
services:
  - name: checkout
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli:
          availability: {}
      - name: latency
        objective: 95
        sli:
          latency:
            threshold: 250ms
alerting:
  receivers:
    - name: oncall
      pagerduty:
        routing_key: {env: OBS_TEST_DRILL_KEY}
    - name: chat
      slack:
        api_url: {env: OBS_TEST_DRILL_SLACK}
        channel: "#ops"
  routes:
    - match: {severity: page}
      receiver: oncall
    - match: {severity: ticket}
      receiver: chat
"""


def write_spec(directory: Path, ports: dict[str, int], profile: str = "fast") -> Path:
    return write_stack_spec(directory, ports, "drill-test", profile, BODY)
