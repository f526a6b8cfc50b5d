"""obs up: generate if needed, build what is missing, start the stack and wait until it is healthy."""
from __future__ import annotations

import time
from pathlib import Path

import click

from obs.commands import _stack
from obs.commands.common import load, progress
from obs.commands.generate import generate
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import Exit
from obs.stack import runtime as rt


@click.command("up", epilog="""\b
Examples:
  obs up                            start the stack for ./obs.yaml and wait until healthy
  obs up --runtime native           run the real binaries as local processes, even with Docker
  obs up build/obs.yaml --out build run another spec's stack from another directory
  obs up --format json              URLs and pids for scripts
\b
Run it again at any time: healthy components are left alone, a crashed or killed
one is restarted, one whose config or binary changed is restarted. --runtime auto
(the default) uses compose when a Docker engine answers, else native processes.
Native state (pids, logs, data, secrets) lives in OUT/.obs; first runs build the
binaries (minutes; `obs stack build` does it ahead of time).
\b
Exit codes: 0 healthy; 2 bad spec; 3 a port is taken, a binary cannot be built,
or a component exits or never becomes healthy (its last log lines are shown).""")
@spec_argument
@_stack.out_option
@click.option("--runtime", type=click.Choice(rt.RUNTIMES), default="auto", show_default=True,
              help="native: local processes; compose: docker compose; auto: compose if Docker answers.")
@click.option("--timeout", type=click.FloatRange(min=1), default=None,
              help="Seconds each component may take to become healthy (default 120 native, 300 compose).")
@format_option
def command(spec: Path, out: Path | None, runtime: str, timeout: float | None, fmt: str) -> None:
    """Start the stack for SPEC (default ./obs.yaml) and wait until every component is healthy."""
    started = time.monotonic()
    model = load(spec)
    target, drift = generate(spec, out, check=False)
    if not drift.clean:
        progress(f"generated artifacts in {target} were missing or stale; regenerated them")
    chosen = rt.choose(runtime)
    stack = rt.open_stack(chosen, target, model)
    if timeout is not None:
        stack.timeout = timeout
    progress(f"starting the {chosen} stack from {target}")
    statuses = stack.up(progress)
    seconds = round(time.monotonic() - started, 2)
    if fmt == "json":
        emit_json(_stack.document(chosen, target, model, statuses, seconds=seconds))
    else:
        healthy = all(s.healthy for s in statuses)
        click.echo(f"stack {'healthy' if healthy else 'NOT healthy'} ({chosen}, {seconds}s):")
        _stack.print_table(statuses)
        _stack.print_endpoints(model)
    code = _stack.exit_code(statuses)
    if code:
        raise Exit(code)
