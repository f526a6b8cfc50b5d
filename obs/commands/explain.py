"""obs explain: the worst-case time each kind of incident takes to page, from the generated rules' timing."""
from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from obs.commands.common import load, out_console
from obs.commands.options import emit_json, spec_argument
from obs.errors import Exit


@click.command("explain", epilog="""\b
Examples:
  obs explain                   the detection table for obs.yaml's timing profile
  obs explain --verbose         every part of every bound
  obs explain --format json     for a benchmark or a report
\b
Each bound is the sum of what the configuration makes the pipeline wait: an SDK export
interval, a rule's window or `for:`, an evaluation interval, Alertmanager's group_wait, the
dead man's switch's heartbeat timeout. `obs drill` holds its measured pages to the same numbers.
\b
Exit codes: 0 every kind pages within the target (300 s); 1 some kind cannot; 2 bad spec.""")
@spec_argument
@click.option("--verbose", "-v", is_flag=True, help="List every part of each bound.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(spec: Path, verbose: bool, fmt: str) -> None:
    """Print how long each kind of incident in SPEC takes to page, at worst, and which setting dominates."""
    from obs.model.detection import TARGET_S, bounds

    model = load(spec)
    found = bounds(model)
    late = [b for b in found if b.seconds > TARGET_S]
    if fmt == "json":
        emit_json({"profile": model.stack.timing.name, "target_s": TARGET_S,
                   "incidents": [b.as_dict() for b in found]})
    else:
        console = out_console()
        t = Table(title=f"worst-case time to page · {model.stack.timing.name} timing", title_justify="left",
                  show_edge=False, header_style="bold")
        for col in ("incident", "bound", "pages through", "slowest part"):
            t.add_column(col, justify="right" if col == "bound" else "left")
        for b in found:
            t.add_row(b.incident.value, f"{b.seconds:.0f}s", b.rule, b.slowest.what)
        console.print(t)
        if verbose:
            for b in found:
                console.print(f"\n[bold]{b.incident.value}[/] ({b.starts}):")
                for p in b.parts:
                    console.print(f"  {p.seconds:8.1f}s  {p.what}")
        console.print(f"target: {TARGET_S:.0f}s; " + (f"[red]over it: {', '.join(b.incident.value for b in late)}[/]"
                                                      if late else "[green]every kind within it[/]"))
    if late:
        raise Exit(1)
