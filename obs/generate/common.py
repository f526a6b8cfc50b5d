"""What every generator shares: its inputs, the do-not-edit header, and the dumpers."""
from __future__ import annotations

from dataclasses import dataclass

from obs.emit import json_dump, yaml_dump
from obs.model import conventions as c
from obs.model.domain import Model


@dataclass(frozen=True)
class Inputs:
    """Files the user keeps beside the spec that generation reads, passed in so generators stay pure."""

    user_dashboards: tuple[tuple[str, str], ...] = ()   # (file name, Python source)


def header(model: Model) -> str:
    return c.HEADER.format(source=model.source)


def yaml(model: Model, data: object) -> str:
    return yaml_dump.dump(data, header=header(model))


def json(data: object) -> str:
    return json_dump.dump(data)
