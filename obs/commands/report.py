"""obs report: one self-contained HTML page of the last verify and drill results and where every SLO stands."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands.common import err_console, load, out_dir_for, seconds_option
from obs.commands.options import spec_argument
from obs.errors import InputError, StackError
from obs.model import conventions as c

MAX_RANGE_S = 90 * 86400.0


@click.command("report", epilog="""\b
Examples:
  obs report -o report.html           the live stack, the last `obs verify` and `obs drill`
  obs report --range 24h -o day.html  SLO charts over the last day (default 6h)
  obs verify --format json > v.json && obs report --from v.json -o report.html
  obs report --env staging -o staging.html   a deployed environment and its saved results
\b
The page holds: a summary (pass or fail and why, the stack's versions, the spec's hash, when it was
made); verify (each hop of each probe as a bar against its floor, what was lost and at which hop);
drill (time to page and to resolve per incident against its bound); every SLO (attained SLI,
budget left, the burn rate now per window against the tier that alerts on it, and the error ratio
and burn rate over the range with the alert thresholds drawn in); the pipeline's health (items
accepted, refused and dropped per component). It is one file: no script, nothing fetched, light
and dark themes, and it prints to PDF. `obs verify --report FILE` and `obs drill --report FILE`
write the same page right after their run.
\b
Results: `obs verify` and `obs drill` save their last result under .obs/results/<env>/ beside the
spec's artifacts; --from FILE uses a file instead (a saved result, or what --format json printed).
\b
Exit codes: 0 written (whatever it says); 2 bad spec or option, or a saved result that is damaged
(the message names the file and the field); 3 nothing to show: the stack does not answer and no
result is saved.""")
@spec_argument
@click.option("-o", "--output", "output", type=click.Path(path_type=Path, dir_okay=False), default="report.html",
              show_default=True, help="The HTML file to write.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output directory with the generated artifacts and the state (default: the spec's).")
@click.option("--from", "sources", multiple=True, type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="A verify or drill result to show instead of the saved one (repeatable: one of each).")
@click.option("--range", "range_", metavar="DURATION", default="6h", show_default=True,
              help="How far back the SLO charts reach.")
@click.option("--env", "env", metavar="NAME", default="local", show_default=True,
              help="Report on this deployed environment (from the spec's `environments:`) and its saved results.")
def command(spec: Path, output: Path, out: Path | None, sources: tuple[Path, ...], range_: str, env: str) -> None:
    """Write one HTML page of SPEC's stack: verify, drill, SLOs and the pipeline's health."""
    from obs.report import page, saved

    model = load(spec)
    target = out_dir_for(spec, out)
    range_s = seconds_option(range_, "--range")
    if range_s is None or not 0 < range_s <= MAX_RANGE_S:
        raise InputError(f"--range {range_}: must be above 0 and at most 90d")
    chosen = page.Sources()
    kinds: set[str] = set()
    for path in sources:
        result = saved.load_file(path)
        if result.kind in kinds:
            raise InputError(f"--from {path}: a second {result.kind} result; give at most one of each kind")
        kinds.add(result.kind)
        chosen = chosen.with_(result)
    data = page.collect(model, spec, target, env, range_s, chosen)
    if page.nothing_to_show(data):
        raise StackError(f"nothing to show: {data.stack.why}, and no verify or drill result is saved under "
                         f"{target / c.STATE_RESULTS / env}; start the stack with `obs up`, or run `obs verify`")
    size = page.write(output, data)
    verdict, _ = data.verdict()
    err_console().print(f"wrote {output} ({size / 1024:.0f} KB): {verdict.value}")
