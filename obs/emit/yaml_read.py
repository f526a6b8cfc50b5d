"""Reading back YAML that obs or a component wrote: generated artifacts, a builder manifest.

The spec is not read here: obs/spec/ reads it, with every node's line and column for its errors. What is
read here is either obs's own output or a file a tool checks, so a plain safe load is enough, and a file
that does not parse is one error message, not a traceback.

At a thousand services `obs lint` reads thousands of these: libyaml's parser composes them where it reads
them as the pure parser does (obs.spec.loader.fast_compose: not too deep for its recursion, none of the
characters and directives it reads otherwise), about five times as fast; elsewhere, and for the message of a
file that does not parse, the pure parser reads them.
"""
from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from obs.spec.loader import fast_compose


class ArtifactError(ValueError):
    """The text is not YAML."""


def _reader() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    # A plain `=` is YAML 1.1's "value" tag, which no loader constructs; Go's YAML (Kubernetes, kustomize) reads
    # it as the string "=", and kustomize writes AlertmanagerConfig's `matchType: =` unquoted.
    yaml.constructor.add_constructor("tag:yaml.org,2002:value", type(yaml.constructor).construct_yaml_str)
    return yaml


def _documents(text: str) -> list[object]:
    """Every document's data, empty ones as None."""
    try:
        nodes = fast_compose(text)
        if nodes is not None:
            constructor = _reader().constructor
            return [constructor.construct_document(node) for node in nodes]
        return list(_reader().load_all(text))
    except YAMLError as e:
        raise ArtifactError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
    except RecursionError:
        raise ArtifactError("nested too deeply to read") from None


def load(text: str) -> object:
    """The one document of `text` (None when it is empty)."""
    documents = _documents(text)
    if len(documents) > 1:
        raise ArtifactError("expected a single document in the stream")
    return documents[0] if documents else None


def load_all(text: str) -> list[object]:
    """Every document of a multi-document stream (`kustomize build`'s output), empty ones left out."""
    return [doc for doc in _documents(text) if doc is not None]
