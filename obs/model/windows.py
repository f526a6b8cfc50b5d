"""Burn-rate tiers as data: the SRE workbook's defaults for a multiwindow, multi-burn-rate alert."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from obs.model.durations import Duration
from obs.model.kinds import Severity

D = Duration.parse


@dataclass(frozen=True)
class Tier:
    severity: Severity
    long: Duration
    short: Duration
    burn_rate: Decimal
    for_: Duration = Duration(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    @property
    def name(self) -> str:
        """Stable tier label: the long window, e.g. `1h`. Alertmanager inhibits slower tiers by it."""
        return str(self.long)


# Google SRE Workbook, "Alerting on SLOs", for a 30-day period. Burn rates scale with the
# period so that each tier still consumes the same share of budget (2%, 5%, 10%, 10%).
WORKBOOK_PERIOD = D("30d")
WORKBOOK = (
    Tier(Severity.PAGE, D("1h"), D("5m"), Decimal("14.4")),
    Tier(Severity.PAGE, D("6h"), D("30m"), Decimal("6")),
    Tier(Severity.TICKET, D("1d"), D("2h"), Decimal("3")),
    Tier(Severity.TICKET, D("3d"), D("6h"), Decimal("1")),
)

# The short windows every SLO records; longer windows are derived from these.
BASE_WINDOW = D("5m")

# The platform's promise: an outage pages within minutes. At a full outage the workbook's fastest page
# fires after burn x budget x 1h (52 s at 99.9%, but 43 min at 95%). Where that exceeds this cap, a
# single-window tier over the base window is added, at the error ratio a full outage reaches in the cap:
# FAST_PAGE_CAP / BASE_WINDOW = 40% of requests failing for two minutes.
FAST_PAGE_CAP = D("2m")


def full_outage_seconds(tier: Tier, budget: Decimal) -> Decimal:
    """Seconds of a 100% outage (after steady traffic) until the tier's long-window ratio crosses its threshold."""
    return tier.burn_rate * budget * Decimal(tier.long.ms) / 1000


@lru_cache(maxsize=256)   # decimal arithmetic, the same few (tiers, budget) for every SLO of a large spec
def fast_tier(tiers: tuple[Tier, ...], budget: Decimal) -> Tier | None:
    """The extra page tier an SLO needs to page a full outage within FAST_PAGE_CAP, or None."""
    pages = [t for t in tiers if t.severity == Severity.PAGE]
    if not pages or min(full_outage_seconds(t, budget) for t in pages) <= Decimal(FAST_PAGE_CAP.ms) / 1000:
        return None
    ratio = Decimal(FAST_PAGE_CAP.ms) / Decimal(BASE_WINDOW.ms)
    return Tier(Severity.PAGE, BASE_WINDOW, BASE_WINDOW, (ratio / budget).quantize(Decimal("0.000001")).normalize())


def workbook_tiers(period: Duration) -> tuple[Tier, ...]:
    """The workbook tiers, rescaled so each consumes the same budget share over `period` (but never below 1x)."""
    if period == WORKBOOK_PERIOD:
        return WORKBOOK
    scale = Decimal(period.ms) / Decimal(WORKBOOK_PERIOD.ms)
    # Never below 1x: a slower burn than that would ticket an error rate the budget can sustain.
    return tuple(
        Tier(t.severity, t.long, t.short,
             max(Decimal(1), (t.burn_rate * scale).quantize(Decimal("0.000001")).normalize()), t.for_)
        for t in WORKBOOK
    )
