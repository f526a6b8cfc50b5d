"""obs init: write a commented starter obs.yaml."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import click

from obs.errors import InputError


def starter() -> str:
    return files("obs.spec").joinpath("starter.yaml").read_text(encoding="utf-8")


@click.command("init", epilog="""\b
Examples:
  obs init                  write ./obs.yaml
  obs init --force          overwrite an existing one
  obs init && obs validate && obs generate""")
@click.option("--force", is_flag=True, help="Overwrite an existing obs.yaml.")
@click.option("--path", "path", type=click.Path(path_type=Path, dir_okay=False), default="obs.yaml",
              show_default=True, help="Where to write the spec.")
def command(force: bool, path: Path) -> None:
    """Write a commented starter obs.yaml: an AI-tools platform with HTTP, events and latency SLOs."""
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass --force to overwrite it")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(starter(), encoding="utf-8")
    tmp.replace(path)
    click.echo(f"wrote {path}; next: `obs validate {path}` then `obs generate {path}`")
