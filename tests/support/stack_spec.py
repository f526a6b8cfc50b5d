"""A fast-profile spec whose every port is free and away from the defaults, for stack tests.

Ports come from 21000-29999: below Linux's ephemeral range (so an outgoing connection
cannot grab one between choosing and binding) and far from a developer's running stack.
"""
from __future__ import annotations

import random
import socket
from pathlib import Path

from obs.spec.v1 import Ports

PORT_KEYS = tuple(Ports.model_fields)
SECRET_ENV = "OBS_TEST_PAGERDUTY_KEY"


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(taken: set[int] = frozenset(), room: int = 1) -> dict[str, int]:
    """A free port per key; with `room`, the `room` ports from each are free too (replicas under `topology: ha`
    listen on their port + i)."""
    chosen: dict[str, int] = {}
    used: set[int] = set(taken)
    rng = random.Random()
    while len(chosen) < len(PORT_KEYS):
        port = rng.randrange(21000, 30000 - room)
        block = range(port, port + room)
        if not used.intersection(block) and all(port_is_free(p) for p in block):
            chosen[PORT_KEYS[len(chosen)]] = port
            used.update(block)
    return chosen


DEFAULT_BODY = f"""\
services:
  - name: checkout
    http: true
    slos:
      - name: availability
        objective: 99.9
        sli:
          availability: {{}}
alerting:
  receivers:
    - name: oncall
      pagerduty:
        routing_key: {{env: {SECRET_ENV}}}
"""


def write_spec(directory: Path, ports: dict[str, int], project: str = "stack-test", profile: str = "fast",
               body: str = DEFAULT_BODY, metrics: str | None = None, topology: str | None = None) -> Path:
    """obs.yaml in `directory`: the stack section on `ports`, then `body` (services and alerting)."""
    directory.mkdir(parents=True, exist_ok=True)
    port_lines = "\n".join(f"    {k}: {v}" for k, v in ports.items())
    metrics_line = f"  metrics: {metrics}\n" if metrics is not None else ""
    metrics_line += f"  topology: {topology}\n" if topology is not None else ""
    spec = directory / "obs.yaml"
    spec.write_text(f"""\
version: obs/v1
project: {project}
stack:
  profile: {profile}
{metrics_line}  ports:
{port_lines}
""" + body)
    return spec
