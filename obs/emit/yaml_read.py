"""Reading back YAML that obs or a component wrote: generated artifacts, a builder manifest.

The spec is not read here: obs/spec/ reads it, with every node's line and column for its errors. What is
read here is either obs's own output or a file a tool checks, so a plain safe load is enough, and a file
that does not parse is one error message, not a traceback.
"""
from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


class ArtifactError(ValueError):
    """The text is not YAML."""


def load(text: str) -> object:
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as e:
        raise ArtifactError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
