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


def _reader() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    # A plain `=` is YAML 1.1's "value" tag, which no loader constructs; Go's YAML (Kubernetes, kustomize) reads
    # it as the string "=", and kustomize writes AlertmanagerConfig's `matchType: =` unquoted.
    yaml.constructor.add_constructor("tag:yaml.org,2002:value", type(yaml.constructor).construct_yaml_str)
    return yaml


def load(text: str) -> object:
    try:
        return _reader().load(text)
    except YAMLError as e:
        raise ArtifactError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None


def load_all(text: str) -> list[object]:
    """Every document of a multi-document stream (`kustomize build`'s output), empty ones left out."""
    try:
        return [doc for doc in _reader().load_all(text) if doc is not None]
    except YAMLError as e:
        raise ArtifactError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
