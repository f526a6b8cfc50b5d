"""Which windows an SLO records, and how each window longer than the base is tiled from shorter ones.

Only the base window (5m) reads raw data. A longer window W is the traffic-weighted
rate over W, built as a sum of non-overlapping pieces of already-recorded windows,
each looked up once with `offset`:

    errors_1h(t) = (errors_30m(t) + errors_30m(t - 30m)) / 2

Each piece is one instant lookup of one series, so a 3d window costs three lookups
instead of Sloth's rate() over three days of raw samples. The pieces tile the window
exactly, so there is no smoothing delay at the leading edge: a new outage shows in
every window as soon as it shows in the 5m rate. The ratio of two such sums is a
ratio of sums (weighted by traffic), never a mean of ratios.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from obs.model.domain import SLO
from obs.model.durations import Duration
from obs.model.windows import BASE_WINDOW

D = Duration.parse

# Lookups per tiled window; a window needing more gets a stepping stone recorded below it.
MAX_PIECES = 12
# Stepping stones, tried shortest first, when the SLO's own windows are too far apart.
STONES = tuple(D(w) for w in ("30m", "1h", "2h", "6h", "1d", "3d", "7d", "28d"))
# Windows up to this length are recorded at the evaluation interval; longer ones change so
# slowly that the long interval loses nothing (model.stack.timing.slo_long_interval).
SHORT_GROUP_MAX = D("1h")


@dataclass(frozen=True)
class Piece:
    window: Duration      # a recorded window
    offset: Duration      # how far back its lookup reaches


def period_window(slo: SLO) -> Duration:
    """The budget period, whole base windows only (a period like 30d always is)."""
    return Duration(slo.period.ms - slo.period.ms % BASE_WINDOW.ms)


def needed_windows(slo: SLO) -> set[Duration]:
    return {BASE_WINDOW, period_window(slo), *(t.long for t in slo.tiers), *(t.short for t in slo.tiers)}


def tile(window: Duration, recorded: list[Duration]) -> list[Piece]:
    """Greedy: the largest recorded windows first. Every window is a multiple of the base, so it ends exactly."""
    pieces, offset, rest = [], Duration(0), window
    for size in sorted((w for w in recorded if w < window), reverse=True):
        while rest >= size:
            pieces.append(Piece(size, offset))
            offset, rest = offset + size, Duration(rest.ms - size.ms)
    assert rest.ms == 0, f"{window} is not a multiple of {BASE_WINDOW}"
    return pieces


def recorded_windows(slo: SLO) -> tuple[Duration, ...]:
    """Every window the SLO records, ascending: its own windows plus any stepping stones they need."""
    return _recorded_for(tuple(sorted(needed_windows(slo))))


@lru_cache(maxsize=256)
def _recorded_for(needed: tuple[Duration, ...]) -> tuple[Duration, ...]:
    # Cached: it depends on the windows alone, which a thousand SLOs share, and rules, tests and
    # dashboards each ask for it.
    recorded = [BASE_WINDOW]
    for window in needed:
        if window != BASE_WINDOW:
            _record(window, recorded)
    return tuple(sorted(recorded))


def _record(window: Duration, recorded: list[Duration]) -> None:
    while len(tile(window, recorded)) > MAX_PIECES:
        # The next rung above what is recorded; it tiles from the rungs below it, so recursion is shallow.
        rungs = [s for s in STONES if max(recorded) < s < window]
        _record(rungs[0] if rungs else _fallback_stone(window, recorded), recorded)
    if window not in recorded:
        recorded.append(window)


def _fallback_stone(window: Duration, recorded: list[Duration]) -> Duration:
    """Past the last rung (a year-long period): a stone of about a twelfth of the window, on a recorded boundary."""
    unit = max(recorded)
    return Duration(max(unit.ms * 2, window.ms // MAX_PIECES // unit.ms * unit.ms))


def tiling(slo: SLO) -> dict[Duration, list[Piece]]:
    """Recorded window -> the pieces it is built from (the base window has none: it reads raw data)."""
    return {w: list(pieces) for w, pieces in _tiling_for(recorded_windows(slo))}


@lru_cache(maxsize=256)
def _tiling_for(windows: tuple[Duration, ...]) -> tuple[tuple[Duration, tuple[Piece, ...]], ...]:
    return tuple((w, tuple(tile(w, [x for x in windows if x < w]))) for w in windows if w != BASE_WINDOW)


def is_short(window: Duration) -> bool:
    return window <= SHORT_GROUP_MAX
