"""obs logs: the log of one stack component, optionally followed."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import click

from obs.errors import Exit, StackError
from obs.stack import runtime as rt
from obs.stack import tools
from obs.stack.compose_runtime import SERVICES, ComposeStack
from obs.stack.state import State


def follow(path: Path, start: int) -> None:
    """Print what is appended to `path` from byte `start` until interrupted; survives a rotated log."""
    pos = start
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < pos:
            pos = 0  # rotated or purged: start over on the new file
        if size > pos:
            with open(path, "rb") as fh:
                fh.seek(pos)
                chunk = fh.read()
            pos += len(chunk)
            click.echo(chunk.decode(errors="replace"), nl=False)
        time.sleep(0.25)


NAMES = (*SERVICES, "receivers", "thanos-query", "gateway-dns")
# `topology: ha` runs these as replicas named <component>-<i>.
REPLICATED = re.compile(r"(alertmanager|prometheus|thanos-sidecar|otelcol-gateway)-[0-9]")


def _component(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value in NAMES or REPLICATED.fullmatch(value):
        return value
    raise click.BadParameter(f"{value!r} is not a component; choose from {', '.join(NAMES)}, or a replica under "
                             "`topology: ha` such as alertmanager-0, prometheus-1 or otelcol-gateway-0 (`obs status` "
                             "lists them)")


@click.command("logs", epilog="""\b
Examples:
  obs logs prometheus               the last 50 lines of Prometheus's log
  obs logs otelcol -n 200           more lines
  obs logs alertmanager --follow    keep printing new lines (Ctrl-C to stop)
  obs logs jaeger --out build       the stack running from build/
  obs logs alertmanager-1           one replica, under `topology: ha`
  obs logs otelcol-gateway-0        one collector gateway, under `topology: ha`
\b
Native logs live in OUT/.obs/logs/COMPONENT.log; each `obs up` that starts a
component appends a `--- obs up` line with the exact command it ran.
Under compose this runs `docker compose logs`. Exit 3 when there is no log yet.""")
@click.argument("component", callback=_component)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Output directory the stack runs from.")
@click.option("-n", "--lines", type=click.IntRange(min=0), default=50, show_default=True,
              help="How many of the last lines to print.")
@click.option("-f", "--follow", "follow_", is_flag=True, help="Keep printing lines as they are written.")
def command(component: str, out: Path, lines: int, follow_: bool) -> None:
    """Print the log of COMPONENT (otelcol, jaeger, prometheus, alertmanager, receivers; grafana under compose)."""
    runtime = rt.recorded(out)
    if runtime == "compose":
        argv = ComposeStack(out, None).logs_argv(component, lines, follow_)
        try:
            code = subprocess.call([str(tools.system_tool(argv[0])), *argv[1:]], cwd=out)
        except KeyboardInterrupt:
            code = 0
        if code:
            raise Exit(3)
        return
    state = State(out)
    path = state.log_file(component)
    if not path.is_file():
        hint = "grafana runs only under compose" if component == "grafana" else "start the stack with `obs up`"
        raise StackError(f"no log for {component} at {path}; {hint}")
    for line in state.tail(component, lines):
        click.echo(line)
    if follow_:
        try:
            follow(path, path.stat().st_size)
        except KeyboardInterrupt:
            pass
