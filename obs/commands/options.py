"""The options every command shares, and its JSON output: apart from obs.commands.common, which loads the model
and with it pydantic and the generators, so that a command can begin work before those load (`obs generate`
reads its spec ahead)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

spec_argument = click.argument("spec", type=click.Path(path_type=Path), default="obs.yaml",
                               required=False)
format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                             help="json prints one machine-readable document on stdout.")


def emit_json(doc: object) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
