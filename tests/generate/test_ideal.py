"""The exact model the promtool suites take their expectations from: its counts, and the Ideals kept for reuse."""
from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext
from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obs.generate.slo import ideal
from obs.generate.slo.ideal import Ideal
from obs.generate.slo.series import Segment
from obs.model.domain import SLI, SLO
from obs.model.durations import Duration
from obs.model.kinds import Severity, SliKind
from obs.model.windows import Tier


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
    assert [made.window(t, t) for t in range(4)] == [(0, 0), (5, 10), (10, 20), (14, 24)]
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


def _all_at_once(segments: tuple[Segment, ...]) -> tuple[list[D], list[D]]:
    """The running sums added up over every minute at once, as the Ideal did before it added them as read."""
    events = list(accumulate((s.per_minute for s in segments for _ in range(s.minutes)), initial=D(0)))
    errors = list(accumulate((s.per_minute * s.error_ratio for s in segments for _ in range(s.minutes)),
                             initial=D(0)))
    return events, errors


@pytest.mark.parametrize("segments", [
    _outage(600),
    (Segment(60, D("597.009"), D(0)), Segment(700, D("597.009"), D("0.04486")), Segment(3, D("0.3"), D(1))),
    (Segment(0, D(5), D(1)), Segment(10, D("1.1"), D("0.333")), Segment(0, D(7), D(0)), Segment(5, D(9), D("0.5"))),
], ids=["an outage probe", "a slow burn and a trickle", "segments of no minutes among them"])
def test_an_ideal_adds_up_only_the_minutes_a_question_reads_and_reads_what_adding_them_all_at_once_would(
        segments: tuple[Segment, ...]) -> None:
    made = Ideal(list(segments))
    events, errors = _all_at_once(segments)
    assert made.end == len(events) - 1
    early = min(15, made.end)
    assert made.window(early, 5) == (errors[early] - errors[early - 5], events[early] - events[early - 5])
    assert len(made.events) - 1 == min(max(early, ideal._STRETCH), made.end)   # a stretch, not every minute
    for t, width in [(t, w) for t in range(made.end + 1) for w in (1, 5, 60, made.end)] + [(made.end + 50, 60)]:
        bad, total = made.window(t, width)
        now, lo = min(t, made.end), max(0, t - width)
        # Alike as text too: the expectations are written from these Decimals, exponent and all.
        assert (str(bad), str(total)) == (str(errors[now] - errors[lo]), str(events[now] - events[lo]))
    assert made.events == events and made.errors == errors


_SEGMENTS = st.lists(st.builds(Segment, st.integers(0, 400),
                               st.decimals(0, 5000, places=3, allow_nan=False, allow_infinity=False),
                               st.decimals(0, 1, places=6, allow_nan=False, allow_infinity=False)),
                     min_size=1, max_size=5).filter(lambda segs: sum(s.minutes for s in segs) > 0)


@settings(max_examples=200, deadline=None)
@given(segments=_SEGMENTS, questions=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 900)), max_size=12))
def test_whatever_is_asked_in_whatever_order_an_ideal_answers_as_the_sums_added_all_at_once(
        segments: list[Segment], questions: list[tuple[float, int]]) -> None:
    made = Ideal(segments)
    events, errors = _all_at_once(tuple(segments))
    for share, width in questions:
        t = round(share * made.end)
        lo = max(0, t - width)
        assert tuple(map(str, made.window(t, width))) == (str(errors[t] - errors[lo]), str(events[t] - events[lo]))
    assert made.events == events[:len(made.events)] and made.errors == errors[:len(made.errors)]


def _slo(objective: str, burn_rate: D, min_events: D, long: int, short: int, hold: int) -> tuple[SLO, Tier]:
    tier = Tier(Severity.PAGE, Duration(long * 60_000), Duration(short * 60_000), burn_rate, Duration(hold * 60_000))
    return SLO("svc", "availability", D(objective), Duration.parse("30d"), SLI(SliKind.AVAILABILITY), (tier,),
               min_events), tier


def _scanned(segments: list[Segment], slo: SLO, tier: Tier, start: int, end: int, margin: D) -> int | None:
    """The first minute the tier fires, scanned minute by minute however the segments run."""
    made = Ideal(segments)
    made._rates = None
    return made.first_fire(slo, tier, start, end, margin)


# A third as a Decimal has 28 digits: times 7 events it is rounded, and so are the sums of such counts; so is a
# seventieth (0.0142857...), under a threshold of 0.0144.
_THIRD = D(1) / 3


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(st.builds(Segment, st.integers(0, 300),
                                   st.sampled_from([D(0), D(1), D(7), D("0.3"), D("597.009"), D(600)]),
                                   st.sampled_from([D(0), D("0.001"), D("0.0144"), D(1) / 70, D("0.1"), _THIRD, D(1)])),
                         min_size=1, max_size=4).filter(lambda segs: sum(s.minutes for s in segs) > 0),
       objective=st.sampled_from(["90", "99", "99.9", "66.66666666666666666666666666666666"]),
       burn=st.sampled_from([D(1), D("1.44"), D("0.01"), D(10) * _THIRD, D(3)]),
       min_events=st.sampled_from([D(0), D(5)]), windows=st.sampled_from([(5, 5), (60, 5), (360, 30)]),
       hold=st.sampled_from([0, 2]), margin=st.sampled_from([D(0), D("0.25")]), span=st.tuples(st.floats(0, 1),
                                                                                                  st.floats(0, 1)))
def test_a_tier_fires_first_at_the_minute_a_scan_of_every_minute_finds_even_where_no_window_can_reach_its_threshold(
        segments: list[Segment], objective: str, burn: D, min_events: D, windows: tuple[int, int], hold: int,
        margin: D, span: tuple[float, float]) -> None:
    # Steady runs under their threshold are answered without a scan (Ideal._never_over): thresholds at exactly a
    # segment's ratio (burn 1.44 x budget 0.01 is 0.0144, 10/3 x 0.1 is a third) and rounded counts among them.
    slo, tier = _slo(objective, burn, min_events, *windows, hold)
    made = Ideal(segments)
    start, end = sorted(round(share * made.end) for share in span)   # as the scenarios ask: within the run
    assert made.first_fire(slo, tier, start, end, margin) == _scanned(segments, slo, tier, start, end, margin)


@pytest.mark.parametrize("segments, scanned", [
    ([Segment(600, D(600), D("0.0143"))], False),
    ([Segment(60, D(600), D(0)), Segment(600, D("597.009"), D("0.0144"))], False),
    ([Segment(600, D(7), D(1) / 70)], True),
], ids=["a steady run just under the threshold", "a run at exactly the threshold after a healthy one",
        "a run whose counts are rounded"])
def test_a_run_whose_every_segment_is_at_or_under_the_threshold_is_not_scanned_where_its_counts_are_exact(
        segments: list[Segment], scanned: bool) -> None:
    slo, tier = _slo("99", D("1.44"), D(0), 60, 5, 0)   # a threshold of 0.0144
    made = Ideal(segments)
    assert made.first_fire(slo, tier, 1, made.end) is None
    assert (len(made.events) > 1) is scanned   # a scan adds up the minutes it reads


def test_a_threshold_whose_product_with_a_segments_events_is_rounded_is_scanned_and_fires() -> None:
    # Six digits make the case small: 4 x 0.499999 is 1.999996, rounded to 2.00000, which is no less than the
    # 2 errors a minute at 0.5; the exact product is, and the run does fire.
    slo, tier = _slo("90", D("4.99999"), D(0), 5, 5, 0)   # a threshold of 0.499999
    with localcontext() as ctx:
        ctx.prec = 6
        made = Ideal([Segment(10, D(4), D("0.5"))])
        assert made.first_fire(slo, tier, 1, made.end) == 1
