"""The exact model the promtool suites take their expectations from: its counts, and the Ideals kept for reuse."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from obs.generate.slo import ideal
from obs.generate.slo.ideal import Ideal
from obs.generate.slo.series import Segment


def _outage(rate: int) -> tuple[Segment, ...]:
    """An outage probe's segments, as long as a 3d ticket tier makes them: 4,440 minutes."""
    return Segment(120, D(rate), D(0)), Segment(4320, D(rate), D(1))


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> ideal._Kept:
    fresh = ideal._Kept()
    monkeypatch.setattr(ideal, "_KEPT", fresh)
    return fresh


def test_an_ideal_counts_each_minute_of_its_segments() -> None:
    made = Ideal([Segment(2, D(10), D("0.5")), Segment(1, D(4), D(1))])
    assert made.events == [0, 10, 20, 24] and made.errors == [0, 5, 10, 14]
    assert made.ratio(3, 1) == 1 and made.ratio(3, 3) == D(14) / 24


def test_the_ideal_of_segments_seen_before_is_the_one_worked_out_then(kept: ideal._Kept) -> None:
    first = Ideal.of(_outage(600))
    assert Ideal.of(_outage(600)) is first
    assert Ideal.of(_outage(601)) is not first


def test_the_kept_ideals_hold_no_more_minutes_than_the_bound_and_the_least_recently_used_goes_first(
        kept: ideal._Kept) -> None:
    # A spec with an objective per service makes an Ideal per scenario: a bound by count held 130 MB of them.
    at_most = ideal.KEPT_MINUTES // 4440
    for rate in range(600, 600 + 3 * at_most):
        Ideal.of(_outage(600))   # used again before each new one: kept throughout
        Ideal.of(_outage(rate + 1))
        assert kept.minutes <= ideal.KEPT_MINUTES
        assert kept.minutes == sum(i.end for i in kept.ideals.values())
    assert _outage(600) in kept.ideals and _outage(601) not in kept.ideals
    assert len(kept.ideals) == at_most
