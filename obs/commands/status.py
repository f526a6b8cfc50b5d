"""obs status: each component's health, pid and URL; exit 0 only when all are healthy."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands import _stack
from obs.commands.common import load, out_dir_for
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import Exit
from obs.stack import runtime as rt


@click.command("status", epilog=f"""\b
Examples:
  obs status                        is the stack for ./obs.yaml healthy?
  obs status --format json          the same as data, with every URL
  obs status && obs verify          verify only a healthy stack
\b
States: healthy; unhealthy (obs started it, but its health URL does not answer);
stopped; foreign (obs did not start it, yet something answers on its port).
{_stack.EXIT_CODES}""")
@spec_argument
@_stack.out_option
@format_option
def command(spec: Path, out: Path | None, fmt: str) -> None:
    """Show the health of every stack component for SPEC (default ./obs.yaml)."""
    model = load(spec)
    target = out_dir_for(spec, out)
    runtime = rt.recorded(target)
    statuses = rt.open_stack(runtime, target, model).status()
    code = _stack.exit_code(statuses)
    if fmt == "json":
        emit_json(_stack.document(runtime, target, model, statuses))
    else:
        summary = {0: "healthy", 1: "NOT healthy", 3: "not running"}[code]
        click.echo(f"stack {summary} ({runtime}, {target.resolve()}):")
        _stack.print_table(statuses)
        if code != 3:
            _stack.print_endpoints(model)
    if code:
        raise Exit(code)
