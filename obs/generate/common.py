"""What every generator shares: its inputs, the do-not-edit header, and the dumpers."""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from obs.emit import json_dump, yaml_dump
from obs.model import conventions as c
from obs.model.domain import Model, Service

T = TypeVar("T")
Later = Callable[[], str]   # a file's text, made when called
Maker = Callable[[Model, Service], dict[str, Later]]   # a service's files by path, each made when called
_MEMOS: dict[int, dict[object, object]] = {}


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


def every_service(model: Model, files: Callable[[Model, Service], dict[str, Later]]) -> dict[str, str]:
    """The files `files` gives for each service, made now, in the model's order: a generator's `generate`, whose
    render() counterpart stamps them per shape of service instead (obs.generate.stamp)."""
    out: dict[str, str] = {}
    for service in model.services:
        out.update(made(files(model, service)))
    return out


def made(files: dict[str, Later]) -> dict[str, str]:
    """Each file's text, made now."""
    return {path: make() for path, make in files.items()}


def per_model(model: Model, key: object, build: Callable[[], T]) -> T:
    """`build()`, once per model: several generators derive from the same parts (the rule groups feed the rule
    files, their tests, both rulers and the PrometheusRules), and building them again for each was most of a
    render. Kept while the model lives, keyed by identity (hashing a frozen model walks all of it). What is
    returned is shared: callers copy, never change it."""
    memo = _MEMOS.get(id(model))
    if memo is None:
        memo = _MEMOS[id(model)] = {}
        weakref.finalize(model, _MEMOS.pop, id(model), None)
    if key not in memo:
        memo[key] = build()
    return cast(T, memo[key])


def forget(model: Model) -> None:
    """Drop what per_model kept for `model`: a render's shared parts are not needed once its files are made.
    Emptied rather than removed, so that a model whose files are made when read (obs.generate.stamp_tree.Deferred)
    keeps its one finalizer however often it is emptied."""
    memo = _MEMOS.get(id(model))
    if memo is not None:
        memo.clear()
