"""What `obs up`, `status`, `down` and `logs` share: options, the status table and its exit code."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from obs.model import conventions as c
from obs.model.domain import Model
from obs.stack.components import urls
from obs.stack.native import ComponentStatus

out_option = click.option("--out", type=click.Path(path_type=Path, file_okay=False),
                          help="Output directory the stack runs from (default: the spec's).")

EXIT_CODES = """\b
Exit codes: 0 every component healthy; 1 some are not; 3 none is running."""


def exit_code(statuses: list[ComponentStatus]) -> int:
    """0 all healthy; 3 nothing of ours is running (the stack is down); 1 anything in between."""
    if all(s.healthy for s in statuses):
        return 0
    if not any(s.healthy or s.pid is not None for s in statuses):
        return 3
    return 1


def document(runtime: str, out: Path, model: Model, statuses: list[ComponentStatus], **extra: object) -> dict[str, Any]:
    return {"runtime": runtime, "out": str(out), "healthy": all(s.healthy for s in statuses),
            "components": [asdict(s) for s in statuses], "urls": urls(model), **extra}


def print_table(statuses: list[ComponentStatus]) -> None:
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        pid = f"pid {s.pid}" if s.pid else "-"
        state = click.style(f"{s.state:<9}", fg="green" if s.healthy else "red")
        click.echo(f"  {s.name:<{width}}  {state}  {pid:<10}  {s.url}")
        if s.detail:
            click.echo(f"  {'':<{width}}  {s.detail}")


def print_endpoints(model: Model) -> None:
    u = urls(model)
    click.echo(f"OTLP: gRPC {u['otlp_grpc']}, HTTP {u['otlp_http']}  |  Prometheus {u['prometheus']}  |  "
               f"Alertmanager {u['alertmanager']}  |  Jaeger {u['jaeger_query']}")
    print_telemetry_hint(model)


def print_telemetry_hint(model: Model) -> None:
    """Where a service sends telemetry, and the one command that configures its SDK for it."""
    sending = [s.name for s in model.services if s.otlp]
    if not sending:
        return
    example = sending[0]
    click.echo(f"Send telemetry: OTLP/HTTP to {urls(model)['otlp_http']} (gRPC {urls(model)['otlp_grpc']}). "
               f"Instrument a service with its settings: env $(obs env {example}) <command>  "
               f"(or {c.INSTRUMENTATION_DIR}/{example}.env)")
