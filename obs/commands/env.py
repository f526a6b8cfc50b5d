"""obs env: the OpenTelemetry SDK settings of one service, for zero-code instrumentation."""
from __future__ import annotations

from pathlib import Path

import click

from obs.commands.common import load
from obs.commands.options import emit_json, format_option, spec_argument
from obs.errors import InputError
from obs.generate.configs import instrumentation
from obs.model import conventions as c


@click.command("env", epilog=f"""\b
Examples:
  env $(obs env api-gateway) node --require @opentelemetry/auto-instrumentations-node/register app.js
  env $(obs env memory-search) opentelemetry-instrument python app.py
  obs env api-gateway --runtime compose     the settings for a container on the compose network
  obs env api-gateway --format json         {{"service": ..., "env": {{...}}, "notes": [...]}}

\b
Prints KEY=VALUE lines (dotenv: compose's env_file reads them too) with everything the
generated rules and dashboards rely on: service name and resource attributes, OTLP over
HTTP to the collector, traces and metrics on, the profile's export intervals, the stable
HTTP semantic conventions, cumulative temporality, and exponential histograms for services
with `histogram: native`. No secret is printed: notes on stderr say what to add yourself.
The same settings are generated as {c.INSTRUMENTATION_DIR}/SERVICE.env.
Exit 2 for an unknown service.""")
@click.argument("service")
@spec_argument
@click.option("--runtime", type=click.Choice(["native", "compose"]), default="native", show_default=True,
              help="Where the service runs: on this host, or as a container beside the compose stack.")
@format_option
def command(service: str, spec: Path, runtime: str, fmt: str) -> None:
    """Print the OTEL_* settings for SERVICE, as declared in SPEC (default ./obs.yaml)."""
    model = load(spec)
    found = next((s for s in model.services if s.name == service), None)
    if found is None:
        raise InputError(f"{spec}: no service named {service!r}; declared: "
                         + ", ".join(s.name for s in model.services))
    if not found.otlp:
        raise InputError(f"{spec}: service {service!r} does not send OTLP (telemetry.otlp: false), so it has no "
                         "SDK settings; set `telemetry: {otlp: true}` to instrument it")
    settings = instrumentation.settings(model, found, runtime)
    if fmt == "json":
        emit_json({"service": service, "runtime": runtime, "env": settings.env, "notes": list(settings.notes),
                   "file": c.instrumentation_file(service, runtime)})
        return
    for key, value in settings.env.items():
        click.echo(f"{key}={value}")
    for note in settings.notes:
        click.echo(f"# note: {note}", err=True)
