"""obs down: stop exactly what `obs up` started; keep data unless --purge."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands import _stack
from obs.commands.common import out_dir_for, progress
from obs.commands.options import emit_json, format_option, spec_argument
from obs.stack import runtime as rt


@click.command("down", epilog="""\b
Examples:
  obs down                          stop the stack for ./obs.yaml, keep its data
  obs down --purge                  also delete OUT/.obs: TSDB, silences, logs, secrets
  obs down --out build              stop the stack running from build/
\b
Only processes recorded in OUT/.obs/pids are signalled, and only after their start
time and command line match the record: SIGTERM, then SIGKILL after 10s. Under
compose it runs `docker compose down` (--purge adds --volumes). Exit 3 if a
process cannot be stopped.""")
@spec_argument
@_stack.out_option
@click.option("--purge", is_flag=True, help="Also remove data, logs and secrets under OUT/.obs.")
@format_option
def command(spec: Path, out: Path | None, purge: bool, fmt: str) -> None:
    """Stop the stack for SPEC (default ./obs.yaml). The spec itself is not read."""
    target = out_dir_for(spec, out)
    runtime = rt.recorded(target)
    stopped = rt.open_stack(runtime, target, None).down(purge=purge, progress=progress)
    if fmt == "json":
        emit_json({"runtime": runtime, "out": str(target), "stopped": stopped, "purged": purge})
    else:
        click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        if purge:
            click.echo(f"purged {target.resolve() / '.obs'}")
