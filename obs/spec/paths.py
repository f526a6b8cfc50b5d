"""How a problem names a place in the spec: `services[0].slos[1].objective`.

Apart from obs.spec.validation so that reading YAML (obs.spec.loader and the modules it uses) needs no pydantic: a
spec's YAML is read in a second process while this one imports it (obs.spec.loader.read_ahead)."""
from __future__ import annotations


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)
