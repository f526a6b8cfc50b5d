"""The SLO alert conditions evaluated on exact per-minute counts: what the rules should do.

The generated promtool tests take their expectations from here (when a tier should
have fired) and promtool checks the real rules against them, plus a stated slack for
sampling (1m samples, 5m rate extrapolation, 1m evaluation).
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, Inexact, localcontext
from itertools import accumulate, chain, islice, repeat

from obs.generate.slo.alerts import threshold
from obs.generate.slo.series import Segment
from obs.generate.slo.sli import counts_traffic
from obs.model.domain import SLO
from obs.model.durations import Duration
from obs.model.windows import BASE_WINDOW, Tier

_STRETCH = 128   # minutes added up past the one a question reads (Ideal._upto()): a scan that goes on reads them next


def minutes(d: Duration) -> int:
    return d.ms // 60_000


class Ideal:
    """Counts per minute: minute k (1-based) holds the events between k-1 and k.

    The running sums are added up only as far as a question reads (_upto()): an outage probe runs for twice its
    longest window (8,640 minutes for a 3d ticket), but its tiers fire within minutes of the outage, and the scans
    stop there. With an objective per service each of its Ideals is asked a few questions once, and adding up the
    unread minutes was most of their cost."""

    def __init__(self, segments: list[Segment]):
        self.events, self.errors = [Decimal(0)], [Decimal(0)]
        self.end = sum(max(s.minutes, 0) for s in segments)
        # The running sums still to be read, minute by minute: the same additions, in the same order and Decimal
        # context, as adding up every segment at once (a product would round differently). The errors per minute
        # are worked out once per segment, when its first minute is added.
        self._more_events = self._sums(repeat(s.per_minute, max(s.minutes, 0)) for s in segments)
        self._more_errors = self._sums(repeat(s.per_minute * s.error_ratio, max(s.minutes, 0)) for s in segments)
        self._fired: dict[tuple[object, ...], int | None] = {}
        # Each segment's (errors, events) per minute, where every sum of them is exact (_exact_counts()).
        self._rates = _exact_counts(segments)

    @staticmethod
    def _sums(per_minute: Iterator[Iterator[Decimal]]) -> Iterator[Decimal]:
        return islice(accumulate(chain.from_iterable(per_minute), initial=Decimal(0)), 1, None)

    def _upto(self, t: int) -> None:
        """Adds the running sums up to minute `t` (at most the end), and a stretch beyond it, so a scan minute by
        minute calls here once per stretch."""
        more = min(max(t, len(self.events) - 1 + _STRETCH), self.end) + 1 - len(self.events)
        self.events += islice(self._more_events, more)
        self.errors += islice(self._more_errors, more)

    @staticmethod
    def of(segments: tuple[Segment, ...]) -> Ideal:
        """The shared Ideal of these segments: a thousand services' SLOs mostly have the same few objectives and
        tiers, so their scenarios probe the same counts with the same conditions, worked out once here (_Kept)."""
        return _KEPT.get(segments)

    def window(self, t: int, width: int) -> tuple[Decimal, Decimal]:
        lo = max(0, t - width)
        t = min(t, self.end)
        if t >= len(self.events):
            self._upto(t)
        return self.errors[t] - self.errors[lo], self.events[t] - self.events[lo]

    def ratio(self, t: int, width: int) -> Decimal | None:
        bad, total = self.window(t, width)
        return bad / total if total > 0 else None

    def firing(self, slo: SLO, tier: Tier, t: int) -> bool:
        limit = threshold(slo, tier)
        long, short = self.ratio(t, minutes(tier.long)), self.ratio(t, minutes(tier.short))
        if long is None or short is None or long <= limit or short <= limit:
            return False
        if counts_traffic(slo) and slo.min_events > 0:
            # Average events per base window over the whole long window, empty minutes included.
            _, total = self.window(t, minutes(tier.long))
            return total * minutes(BASE_WINDOW) / minutes(tier.long) >= slo.min_events
        return True

    def first_fire(self, slo: SLO, tier: Tier, start: int, end: int, margin: Decimal = Decimal(0)) -> int | None:
        """First minute in [start, end] at which the tier has fired (its condition held for its `for`).

        With a margin, the ratios must clear the threshold by that share of it (at most half the way to 1):
        the real rules read 5m rates, which trail the exact counts by a few minutes, so where a ratio
        crosses the threshold slowly (objective 50, a slow burn) only a margin says when they surely fired.

        firing() minute by minute, with what does not change between minutes worked out once (the
        tests' expectations come from here, a thousand SLOs at a time)."""
        hold, limit, long, short = minutes(tier.for_), threshold(slo, tier), minutes(tier.long), minutes(tier.short)
        limit = min(limit * (1 + margin), (limit + 1) / 2) if margin else limit
        guarded = counts_traffic(slo) and slo.min_events > 0
        base, min_events = minutes(BASE_WINDOW), slo.min_events
        # Everything the answer depends on; Decimals hash by value (0.1 and 0.10 alike, and compare alike too).
        key = (hold, limit, long, short, guarded, min_events, start, end)
        if key not in self._fired:
            self._fired[key] = None if self._never_over(limit) else self._first_fire(
                hold, limit, long, short, guarded, base, min_events, start, end)
        return self._fired[key]

    def _never_over(self, limit: Decimal) -> bool:
        """Whether no window's error ratio can exceed `limit`: each is the mean of its segments' ratios weighted by
        their events, so none exceeds the highest. A steady run just under a tier's threshold was scanned minute by
        minute to its end to find that it never fires; with an objective per service those scans were 63% of the
        minutes the suites scanned. Only where the counts are exact (_exact_counts()), and `limit` and its product
        with each segment's events are too: there the scan's quotients, rounded monotonically, cannot exceed `limit`
        either."""
        if self._rates is None:
            return False
        with localcontext() as ctx:
            ctx.clear_flags()
            below = +limit == limit and all(errors <= limit * events for errors, events in self._rates)
            return below and not ctx.flags[Inexact]

    def _first_fire(self, hold: int, limit: Decimal, long: int, short: int, guarded: bool, base: int,
                    min_events: Decimal, start: int, end: int) -> int | None:
        events, errors, last = self.events, self.errors, self.end
        run = 0
        for t in range(start, end + 1):
            now = min(t, last)
            if now >= len(events):
                self._upto(now)   # extends these very lists
            lo_long, lo_short = max(0, t - long), max(0, t - short)
            total_long, total_short = events[now] - events[lo_long], events[now] - events[lo_short]
            fired = (total_long > 0 and total_short > 0
                     and (errors[now] - errors[lo_long]) / total_long > limit
                     and (errors[now] - errors[lo_short]) / total_short > limit
                     and (not guarded or total_long * base / long >= min_events))
            run = run + 1 if fired else 0
            if run > hold:
                return t
        return None


def _exact_counts(segments: list[Segment]) -> list[tuple[Decimal, Decimal]] | None:
    """Each segment's (errors, events) per minute, as the running sums add them, where those sums are exact: none of
    them negative, and neither the products nor the whole run's totals rounded. Every running sum, and every
    difference of two, then has at most the totals' digits and no more decimals, so none is rounded either. None
    where that does not hold."""
    counted = [s for s in segments if s.minutes > 0]
    if any(s.per_minute < 0 or s.error_ratio < 0 for s in counted):
        return None
    with localcontext() as ctx:
        ctx.clear_flags()
        rates = [(s.per_minute * s.error_ratio, s.per_minute) for s in counted]
        sum(s.minutes * errors for s, (errors, _) in zip(counted, rates, strict=True))
        sum(s.minutes * s.per_minute for s in counted)
        return None if ctx.flags[Inexact] else [(errors, events) for errors, events in rates if events > 0]


# The Ideals kept for reuse, by the minutes they may hold (their end; those added up as read hold fewer): each
# minute holds two Decimals (about 230 bytes). The specs of the benchmarks need 27 Ideals at most, 29,210 minutes, so
# all are kept; a spec with an objective per service needs one Ideal per scenario, four thousand of up to 4,440
# minutes each, which a bound by count (512) held at 130 MB.
KEPT_MINUTES = 60_000


class _Kept:
    """Ideals by their segments, the least recently used first, holding KEPT_MINUTES at most between them."""

    def __init__(self) -> None:
        self.ideals: dict[tuple[Segment, ...], Ideal] = {}
        self.minutes = 0

    def get(self, segments: tuple[Segment, ...]) -> Ideal:
        ideal = self.ideals.pop(segments, None)
        if ideal is None:
            ideal = Ideal(list(segments))
            self.minutes += ideal.end
            while self.minutes > KEPT_MINUTES and self.ideals:
                self.minutes -= self.ideals.pop(next(iter(self.ideals))).end
        self.ideals[segments] = ideal   # last: the most recently used
        return ideal


_KEPT = _Kept()


def workbook_detection_minutes(slo: SLO, tier: Tier, error_ratio: Decimal = Decimal(1)) -> Decimal:
    """SRE workbook: time to fire = (1 - SLO) / error ratio x long window x burn rate, in minutes."""
    return slo.error_budget / error_ratio * minutes(tier.long) * tier.burn_rate
