"""Specs for the pipeline-config tests: one that exercises every receiver kind, scrape targets and custom tiers."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ruamel.yaml import YAML

from obs.generate import render
from obs.model.build import build
from obs.model.domain import Model
from obs.spec.loader import parse_text

FULL = """
version: obs/v1
project: shop
stack:
  profile: {profile}
  metrics: {metrics}
  bind: {bind}
{stack_extra}
services:
  - name: api-gateway
    team: platform
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli: {{availability: {{}}}}
      - name: latency
        objective: 95
        sli: {{latency: {{threshold: 500ms}}}}
  - name: search
    http: true
    latency_buckets: [0.005, 0.01, 0.2, 1, 5]
    telemetry:
      otlp: true
      scrape:
        - targets: ["localhost:9187"]
        - targets: ["127.0.0.1:9188"]
          path: /stats
          interval: 30s
    slos:
      - name: fast
        objective: 99
        sli: {{latency: {{threshold: 200ms}}}}
  - name: cache
    slos:
      - name: hit-rate
        objective: 80
        sli:
          events:
            error_query: sum(rate(cache_misses_total[{{{{window}}}}]))
            total_query: sum(rate(cache_requests_total[{{{{window}}}}]))
        alerting:
          page: false
          tiers:
            - {{severity: ticket, long: 2d, short: 4h, burn_rate: 2}}
alerting:
  receivers:
    - name: pagerduty
      pagerduty: {{routing_key: {{env: PAGERDUTY_ROUTING_KEY}}}}
    - name: slack
      slack: {{api_url: {{file: /run/secrets/slack-url}}, channel: "#alerts"}}
    - name: hook
      webhook: {{url: "http://127.0.0.1:5001/hook"}}
    - name: hook-secret
      webhook: {{url_secret: {{env: HOOK_URL}}}}
    - name: mail
      email: {{to: oncall@example.com, from: obs@example.com, smarthost: "smtp.example.com:587",
               auth_username: obs, auth_password: {{env: SMTP_PASSWORD}}}}
  routes:
    - match: {{severity: page}}
      receiver: pagerduty
    - match: {{service: cache}}
      receiver: mail
      group_wait: 1m
    - match: {{severity: ticket}}
      receiver: slack
  default_receiver: hook
  heartbeat: {{url: {{env: HEARTBEAT_URL}}}}
"""

SECURE_RECEIVERS = """  receivers:
    bind: 0.0.0.0
    tls: {cert_file: certs/otlp.crt, key_file: certs/otlp.key}
    bearer_token: {env: OTLP_TOKEN}"""


def spec_text(profile: str = "production", metrics: str = "push", bind: str = "127.0.0.1",
              stack_extra: str = "") -> str:
    return FULL.format(profile=profile, metrics=metrics, bind=bind, stack_extra=stack_extra)


def model(profile: str = "production", metrics: str = "push", bind: str = "127.0.0.1", stack_extra: str = "") -> Model:
    spec, _ = parse_text(spec_text(profile, metrics, bind, stack_extra), "obs.yaml")
    return build(spec)


@lru_cache(maxsize=32)
def _rendered(profile: str, metrics: str, bind: str, stack_extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(render(model(profile, metrics, bind, stack_extra)).items())


def rendered(profile: str = "production", metrics: str = "push", bind: str = "127.0.0.1",
             stack_extra: str = "") -> dict[str, str]:
    """Every artifact of the spec; cached (dashboards take a while), a fresh dict each call."""
    return dict(_rendered(profile, metrics, bind, stack_extra))


def load(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(text)


def write_tree(m: Model, out: Path) -> dict[str, str]:
    """Every artifact, written as `obs generate` would, so relative paths (rule_files) resolve."""
    files = render(m)
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def free_ports() -> dict[str, int]:
    """A distinct free port for every stack port key, so tests never meet a running stack."""
    import socket

    from obs.spec.v1 import Ports

    sockets, ports = [], {}
    try:
        for key in Ports.model_fields:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            ports[key] = s.getsockname()[1]
    finally:
        for s in sockets:
            s.close()
    return ports


def ports_block(ports: dict[str, int]) -> str:
    return "  ports:\n" + "\n".join(f"    {k}: {v}" for k, v in ports.items())
