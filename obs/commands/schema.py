"""obs schema: the JSON Schema of obs.yaml, for editor completion."""
from __future__ import annotations

import json
from typing import Any

import click

from obs.spec.v1 import Spec


def schema() -> dict[str, Any]:
    doc = Spec.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "obs.yaml (obs/v1)"
    return doc


@click.command("schema", epilog="""\b
Examples:
  obs schema > obs.schema.json
  # then, in VS Code with the YAML extension, first line of obs.yaml:
  # yaml-language-server: $schema=./obs.schema.json""")
def command() -> None:
    """Print the JSON Schema of obs.yaml on stdout."""
    click.echo(json.dumps(schema(), indent=2, sort_keys=True))
