"""The only SLO rules that read raw data: each SLI's error and event rates over the base window (5m).

Both rates are recorded per second, summed to the SLO's group_by labels. Everything
longer is derived from these two series (obs/generate/slo_windows.py).

HTTP SLIs read `http.server.request.duration` in both forms instrumentation sends, series by series,
because one fleet sends both: the Python SDK honours the exponential-histogram setting `obs env` gives,
and the Node.js SDK (sdk-node 0.223) ignores it and keeps explicit buckets.
- native (an OTLP exponential histogram, stored by Prometheus as a native histogram): counts come from
  histogram_count(), and the share under a latency threshold from histogram_fraction(), at any threshold;
- classic (`_bucket{le=...}`, `_count`): only series that have a bucket at the threshold are judged, so
  an instance with another bucket layout (say, mid-rollout) is left out of the latency SLI instead of
  reading as all slow.
An instance sends one form, so `native or classic` per series never counts a request twice.
"""
from __future__ import annotations

from obs.generate.slo_text import matchers, on_groups, slo_selector, sum_by
from obs.model import conventions as c
from obs.model.domain import SLO, Histogram
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
    name = f"{c.HTTP_DURATION}_{suffix}" if suffix else c.HTTP_DURATION
    return f"{name}{own}{''.join(',' + e for e in extra)}}}"


def native(slo: SLO) -> bool:
    """The service is declared to send native histograms (what `obs env` sets up)."""
    return slo.sli.histogram is Histogram.NATIVE


def http_counts(slo: SLO, *extra: str, window: str = str(BASE_WINDOW)) -> str:
    """Requests per second, native or classic series alike, summed to the SLO's groups."""
    return sum_by(slo, f"histogram_count(rate({_http(slo, '', *extra)}[{window}]))\n"
                       f"or rate({_http(slo, 'count', *extra)}[{window}])")


def _bucket(slo: SLO, window: str) -> str:
    assert slo.sli.threshold_le is not None
    return f"rate({_http(slo, 'bucket', le_matcher(slo.sli.threshold_le))}[{window}])"


def http_fast(slo: SLO, window: str = str(BASE_WINDOW)) -> str:
    """Requests per second at or under the latency threshold."""
    assert slo.sli.threshold is not None
    rate = f"rate({_http(slo, '')}[{window}])"
    # histogram_fraction interpolates inside the one bucket that straddles the threshold; exponential buckets
    # are narrow (a few percent wide at the SDKs' default scale), so that is the error. An idle series has a
    # 0/0 fraction (NaN): `>= 0` drops it before the sum, where it would otherwise poison every other.
    good = f"(histogram_count({rate}) * histogram_fraction(0, {slo.sli.threshold.s:g}, {rate})) >= 0"
    return sum_by(slo, f"{good}\nor {_bucket(slo, window)}")


def http_counted(slo: SLO, window: str = str(BASE_WINDOW)) -> str:
    """Requests per second of the series the latency SLI can judge: classic series need the threshold bucket."""
    count = f"rate({_http(slo, 'count')}[{window}])"
    return sum_by(slo, f"histogram_count(rate({_http(slo, '')}[{window}]))\n"
                       f"or ({count} and ignoring(le) {_bucket(slo, window)})")


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
        total = http_counts(slo)
        bad = http_counts(slo, FIVE_XX)
        return [(c.slo_events(str(BASE_WINDOW)), total), (c.slo_errors(str(BASE_WINDOW)), bad + zero_errors)]
    if kind == "latency":
        # A series without the threshold bucket is not counted at all, so with traffic the fast rate is
        # always there to subtract; the zero fallback covers an idle native series (its fraction dropped).
        slow = f"clamp_min(\n  {events}\n  - {on_groups(slo)} ({http_fast(slo)}),\n  0\n){zero_errors}"
        return [(c.slo_events(str(BASE_WINDOW)), http_counted(slo)), (c.slo_errors(str(BASE_WINDOW)), slow)]
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
    if kind == "availability":
        return f"{http_counts(slo, FIVE_XX, window=window)}\n/ {http_counts(slo, window=window)}"
    total = http_counted(slo, window)
    return f"({total} - ({http_fast(slo, window)}))\n/ {total}"


def counts_traffic(slo: SLO) -> bool:
    """A raw ratio has no event count, so the minimum-traffic guard cannot apply to it."""
    return slo.sli.kind != "raw"
