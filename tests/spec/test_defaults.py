"""The spec's default instances are made without validation (obs.spec.v1.default), so that importing the spec
builds no validator: each must be what validation makes of the same values."""
from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from obs.spec import v1


def _defaults() -> list[tuple[str, BaseModel]]:
    found = []
    for name, kind in inspect.getmembers(v1, inspect.isclass):
        if issubclass(kind, v1.Strict) and kind.__module__ == v1.__name__:
            for field, info in kind.model_fields.items():
                if isinstance(info.default, BaseModel):
                    found.append((f"{name}.{field}", info.default))
    return found


DEFAULTS = _defaults()


def test_every_model_valued_default_is_found() -> None:
    # Stack's three, Route's match, KubeMonitors' three, Kubernetes' three, Spec's four.
    assert len(DEFAULTS) == 14, [name for name, _ in DEFAULTS]


@pytest.mark.parametrize("default", [d for _, d in DEFAULTS], ids=[n for n, _ in DEFAULTS])
def test_a_default_made_without_validation_equals_the_validated_one(default: BaseModel) -> None:
    values = {name: getattr(default, name) for name in default.model_fields_set}
    validated = type(default).model_validate(values)
    assert default == validated
    assert default.model_dump() == validated.model_dump()
    assert default.model_fields_set == validated.model_fields_set


def test_a_default_that_validation_refuses_is_caught() -> None:
    # The check above can fail: a default built with a value its field refuses differs from no validated instance.
    bad = v1.default(v1.KubeMonitor, selector={}, port="metrics")
    with pytest.raises(ValueError):
        type(bad).model_validate({name: getattr(bad, name) for name in bad.model_fields_set})
