"""The only SLO rules that read raw data: each SLI's error and event rates over the base window (5m).

Both rates are recorded per second, summed to the SLO's group_by labels. Everything
longer is derived from these two series (obs/generate/slo_windows.py).
"""
from __future__ import annotations

from obs.generate.slo_text import matchers, on_groups, slo_selector, sum_by
from obs.model import conventions as c
from obs.model.domain import SLO
from obs.model.windows import BASE_WINDOW

WINDOW = "{{window}}"
FIVE_XX = f'{c.HTTP_STATUS_LABEL}=~"5.."'


def le_matcher(threshold_le: str) -> str:
    """Prometheus 3 writes `le="1.0"` when it parses a scrape, but an OTLP or older writer may say `1`."""
    if threshold_le.endswith(".0"):
        whole = threshold_le[:-2]
        return f'le=~"{whole}|{whole}\\\\.0"'
    return f'le="{threshold_le}"'


def _http(slo: SLO, suffix: str, *extra: str) -> str:
    own = matchers([(c.SERVICE_NAME_LABEL, slo.service)])[:-1]
    return f"{c.HTTP_DURATION}_{suffix}{own}{''.join(',' + e for e in extra)}}}"


def _rate(selector: str) -> str:
    return f"rate({selector}[{BASE_WINDOW}])"


def with_window(query: str) -> str:
    return query.replace(WINDOW, str(BASE_WINDOW))


def base_rules(slo: SLO) -> list[tuple[str, str]]:
    """(record, expr) in evaluation order; a rule may read a record written just before it in its group."""
    sel = slo_selector(slo)
    events = f"{c.slo_events(str(BASE_WINDOW))}{sel}"
    errors = f"{c.slo_errors(str(BASE_WINDOW))}{sel}"
    # With traffic but no failing series at all, the error rate is 0, not absent.
    zero_errors = f"\nor {on_groups(slo)} 0 * {events}"
    kind = slo.sli.kind
    if kind == "availability":
        total = sum_by(slo, _rate(_http(slo, "count")))
        bad = sum_by(slo, _rate(_http(slo, "count", FIVE_XX)))
        return [(c.slo_events(str(BASE_WINDOW)), total), (c.slo_errors(str(BASE_WINDOW)), bad + zero_errors)]
    if kind == "latency":
        assert slo.sli.threshold_le is not None
        total = sum_by(slo, _rate(_http(slo, "count")))
        fast = sum_by(slo, _rate(_http(slo, "bucket", le_matcher(slo.sli.threshold_le))))
        # No zero fallback here: without the threshold bucket the SLI is unknown, and the
        # no-data alert says so instead of the SLO silently reading 100% good.
        slow = f"clamp_min(\n  {events}\n  - {on_groups(slo)} {fast},\n  0\n)"
        return [(c.slo_events(str(BASE_WINDOW)), total), (c.slo_errors(str(BASE_WINDOW)), slow)]
    if kind == "events":
        assert slo.sli.error_query and slo.sli.total_query
        total = sum_by(slo, with_window(slo.sli.total_query))
        bad = sum_by(slo, with_window(slo.sli.error_query))
        return [(c.slo_events(str(BASE_WINDOW)), total), (c.slo_errors(str(BASE_WINDOW)), bad + zero_errors)]
    assert kind == "raw" and slo.sli.error_ratio_query
    # A raw ratio carries no traffic, so it is recorded with a unit weight: every derived window
    # is then the time average of the ratio. NaN (0/0) and out-of-range values are dropped.
    ratio = f"clamp_max(\n  ({with_window(slo.sli.error_ratio_query)}) >= 0,\n  1\n)"
    return [(c.slo_errors(str(BASE_WINDOW)), ratio), (c.slo_events(str(BASE_WINDOW)), f"{errors} * 0 + 1")]


def raw_ratio(slo: SLO, window: str) -> str:
    """The error ratio over `window` straight from raw data, as Sloth computes every window: for cross-checks."""
    def over(query: str) -> str:
        return query.replace(WINDOW, window)
    kind = slo.sli.kind
    if kind == "raw":
        return f"({over(slo.sli.error_ratio_query or '')})"
    if kind == "events":
        return f"{sum_by(slo, over(slo.sli.error_query or ''))}\n/ {sum_by(slo, over(slo.sli.total_query or ''))}"
    total = sum_by(slo, f"rate({_http(slo, 'count')}[{window}])")
    if kind == "availability":
        bad = sum_by(slo, f"rate({_http(slo, 'count', FIVE_XX)}[{window}])")
        return f"{bad}\n/ {total}"
    assert slo.sli.threshold_le is not None
    fast = sum_by(slo, f"rate({_http(slo, 'bucket', le_matcher(slo.sli.threshold_le))}[{window}])")
    return f"({total} - {fast})\n/ {total}"


def counts_traffic(slo: SLO) -> bool:
    """A raw ratio has no event count, so the minimum-traffic guard cannot apply to it."""
    return slo.sli.kind != "raw"
