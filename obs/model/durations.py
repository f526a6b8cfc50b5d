"""Durations as whole milliseconds, parsed from and printed in Prometheus's notation."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_UNITS = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
          ("m", 60_000), ("s", 1000), ("ms", 1)]
_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_MS = dict(_UNITS)


@lru_cache(maxsize=1024)
def _notation(ms: int) -> str:
    # Cached: the same few windows are printed hundreds of thousands of times at a thousand services.
    if ms == 0:
        return "0s"
    out, rest = [], ms
    for unit, size in _UNITS:
        if unit in ("y", "w"):
            continue
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)


@lru_cache(maxsize=1024)
def _parsed_ms(text: str) -> int:
    # Cached: a spec of a thousand services gives the same few windows thousands of times.
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _MS[u] for n, u in parts)


@dataclass(frozen=True, order=True)
class Duration:
    ms: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        return cls(_parsed_ms(text))

    @classmethod
    def seconds(cls, s: float) -> Duration:
        return cls(round(s * 1000))

    @property
    def s(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        """Prometheus notation with days as the largest unit: 30d reads better than Prometheus's own 4w2d."""
        return _notation(self.ms)

    def __mul__(self, k: int) -> Duration:
        return Duration(self.ms * k)

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.ms + other.ms)
