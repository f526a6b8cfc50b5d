"""Cyclic garbage collection held off for a bounded batch of work.

CPython's cycle collector runs after every few hundred net allocations and, every so often, scans every object
alive. Reading a spec of a thousand services makes some 40,000 YAML nodes, a model of thousands of frozen objects
and, before that, imports build thousands of classes; the collector rescans them all again and again to find
cycles that a run this short never needs reclaimed. At a thousand services that was a fifth of `obs generate`'s
time (BENCHMARKS.md). What a batch allocates is bounded by the spec's own limits (obs.spec.loader.MAX_BYTES,
obs.spec.yaml_walk.MAX_NODES), so its uncollected cycles are too; the collector is back on afterwards, so the
long-running commands (up, verify, drill) collect as usual.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def batch() -> Iterator[None]:
    """No cycle collection inside; the state it was in, after. Nests."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
