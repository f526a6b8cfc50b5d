"""obs stack build: build the real stack binaries from the Go module proxy, at the pinned versions."""
from __future__ import annotations

import time
from pathlib import Path

import click

from obs.commands.common import out_dir_for, progress
from obs.commands.generate import generate
from obs.commands.options import emit_json, format_option, spec_argument
from obs.model import conventions as c
from obs.stack import build, cache


@click.group("stack", epilog="""\b
Examples:
  obs stack build                   build every binary `obs up`, `obs test` and `obs lint` use
  obs stack build --all             and promtool, Sloth and the Kubernetes validators, for tests""")
def command() -> None:
    """Manage the real stack binaries (collector, Jaeger, Prometheus, Alertmanager)."""


@command.command("build", epilog=f"""\b
Examples:
  obs stack build                   build for ./obs.yaml (the collector from its manifest)
  obs stack build --out build       use build/deploy/otelcol/builder-config.yaml
  obs stack build --format json     binary paths and build times, for scripts
  obs stack build --all             also promtool (obs test), Sloth (bench/slo_vs_sloth.py) and the
                                    validators of deploy/kubernetes and deploy/rulers (kustomize,
                                    thanos, cortextool, kubecheck and controller-gen, which makes
                                    kubecheck's schemas)
\b
Builds from the Go module proxy (needs Go >= 1.26) at the versions pinned in
obs/versions.py: the collector with the builder and the generated manifest
({c.OTELCOL_MANIFEST}), Jaeger v2 with the components obs configures, Prometheus v3,
and Alertmanager with amtool. A cold build of all of them takes about 14 minutes on 2 cores,
two at a time; each progress line says how long its build usually takes. What is already
built is skipped, so a second run takes seconds. Binaries are cached in
$OBS_CACHE_DIR (default ~/.cache/obs); progress goes to stderr. Exit 3 when Go or
the proxy is missing or a build fails.""")
@spec_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output directory holding the collector manifest (default: the spec's).")
@click.option("--all", "everything", is_flag=True,
              help="Also build promtool, Sloth and the Kubernetes artifacts' validators (kustomize, thanos, "
                   "cortextool, kubecheck, controller-gen), which only `obs test`, tests and benchmarks use.")
@click.option("--jobs", "-j", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Binaries built side by side: a Go build leaves cores idle while it downloads and links, so 2 "
                   "build cold 10% faster than 1 on 2 cores (BENCHMARKS.md).")
@format_option
def build_command(spec: Path, out: Path | None, everything: bool, jobs: int, fmt: str) -> None:
    """Build every stack binary that is missing; print where each one is."""
    target = out_dir_for(spec, out)
    manifest = target / c.OTELCOL_MANIFEST
    if not manifest.is_file():
        progress(f"{manifest} is missing; generating artifacts from {spec} first")
        generate(spec, out, check=False)
    started = time.monotonic()
    paths = build.ensure(build.ALL if everything else build.STACK, manifest=manifest, progress=progress, jobs=jobs)
    if fmt == "json":
        emit_json({"cache": str(cache.cache_root()), "seconds": round(time.monotonic() - started, 2),
                   "binaries": {name: {"path": str(path), "build_seconds": build.build_seconds(name, manifest)}
                                for name, path in sorted(paths.items())}})
    else:
        width = max(map(len, paths))
        for name, path in sorted(paths.items()):
            click.echo(f"{name:<{width}}  {path}")
