"""The only SLO rules that read raw data: each SLI's error and event rates over the base window (5m).

Both rates are recorded per second, summed to the SLO's group_by labels. Everything
longer is derived from these two series (obs/generate/slo/windows.py).

HTTP SLIs read the request-duration histogram in every form zero-code instrumentation sends, series by
series, because one fleet sends several (measured in tests/realsvc/README.md):
- native: `http.server.request.duration` as an OTLP exponential histogram, which Prometheus stores as a
  native histogram (the Python SDK with `obs env`'s settings): counts from histogram_count(), the share under
  a latency threshold from histogram_fraction(), at any threshold;
- classic: the same metric with explicit buckets (`_bucket{le=...}`, `_count`; the Node.js SDK ignores the
  exponential setting);
- old: `http.server.duration` in milliseconds with `http.status_code` (the Python distro's default without
  OTEL_SEMCONV_STABILITY_OPT_IN), read at the threshold in milliseconds.
Classic and old series are judged for latency only where they have the threshold bucket, so an instance with
another bucket layout (say, mid-rollout) is left out instead of reading as all slow. An instance sends one
form, so `native or classic or old` per series never counts a request twice.
Why not convert old to stable in the collector: its transform processor cannot be built at the pinned
version (the module proxy refuses its dependencies), and one more `or` per rule costs little.
"""
from __future__ import annotations

from dataclasses import dataclass

from obs.generate.slo.text import on_groups, slo_selector, sum_by
from obs.model import conventions as c
from obs.model.build import le_label
from obs.model.domain import SLO, Histogram
from obs.model.kinds import SliKind
from obs.model.promql import Matcher, eq, histogram_count, histogram_fraction, match, rate, selector
from obs.model.windows import BASE_WINDOW

WINDOW = "{{window}}"


@dataclass(frozen=True)
class Form:
    """One way the HTTP duration histogram reaches Prometheus."""

    name: str
    status_label: str
    per_second: int          # units per second of its bucket bounds: 1 (seconds) or 1000 (milliseconds)


STABLE = Form(c.HTTP_DURATION, c.HTTP_STATUS_LABEL, 1)
OLD = Form(c.HTTP_OLD_DURATION, c.HTTP_OLD_STATUS_LABEL, 1000)


def le_matcher(threshold_le: str) -> Matcher:
    """Prometheus 3 writes `le="1.0"` when it parses a scrape, but an OTLP or older writer may say `1`."""
    if threshold_le.endswith(".0"):
        whole = threshold_le[:-2]
        return match("le", f"{whole}|{whole}\\.0")
    return eq("le", threshold_le)


def _sel(slo: SLO, name: str, *extra: Matcher) -> str:
    return selector(name, [(c.SERVICE_NAME_LABEL, slo.service), *extra])


def _failed(form: Form) -> tuple[Matcher, ...]:
    return (match(form.status_label, "5.."),)


def native(slo: SLO) -> bool:
    """The service is declared to send native histograms (what `obs env` sets up)."""
    return slo.sli.histogram is Histogram.NATIVE


def _classic_count(slo: SLO, form: Form, window: str, failed: bool) -> str:
    return rate(_sel(slo, form.name + "_count", *(_failed(form) if failed else ())), window)


def _threshold_bucket(slo: SLO, form: Form, window: str) -> str:
    assert slo.sli.threshold is not None
    # From the exact milliseconds: 0.3 s * 1000 in floats could miss the "300" bucket by a rounding error.
    le = le_label(slo.sli.threshold.ms * form.per_second / 1000)
    return rate(_sel(slo, form.name + "_bucket", le_matcher(le)), window)


def http_counts(slo: SLO, failed: bool = False, window: str = str(BASE_WINDOW)) -> str:
    """Requests (failed ones: 5xx) per second, of every form, summed to the SLO's groups."""
    stable = rate(_sel(slo, STABLE.name, *(_failed(STABLE) if failed else ())), window)
    return sum_by(slo, f"{histogram_count(stable)}\nor {_classic_count(slo, STABLE, window, failed)}\n"
                       f"or {_classic_count(slo, OLD, window, failed)}")


def http_fast(slo: SLO, window: str = str(BASE_WINDOW)) -> str:
    """Requests per second at or under the latency threshold."""
    assert slo.sli.threshold is not None
    native_rate = rate(_sel(slo, STABLE.name), window)
    # histogram_fraction interpolates inside the one bucket that straddles the threshold; exponential buckets
    # are narrow (a few percent wide at the SDKs' default scale), so that is the error. An idle series has a
    # 0/0 fraction (NaN): `>= 0` drops it before the sum, where it would otherwise poison every other.
    fraction = histogram_fraction("0", f"{slo.sli.threshold.s:g}", native_rate)
    good = f"({histogram_count(native_rate)} * {fraction}) >= 0"
    return sum_by(slo, f"{good}\nor {_threshold_bucket(slo, STABLE, window)}\nor {_threshold_bucket(slo, OLD, window)}")


def http_counted(slo: SLO, window: str = str(BASE_WINDOW)) -> str:
    """Requests per second of the series the latency SLI can judge: bucketed series need the threshold bucket."""
    judged = [f"({_classic_count(slo, f, window, False)} and ignoring(le) {_threshold_bucket(slo, f, window)})"
              for f in (STABLE, OLD)]
    native_count = histogram_count(rate(_sel(slo, STABLE.name), window))
    return sum_by(slo, f"{native_count}\nor " + "\nor ".join(judged))


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
    if kind == SliKind.AVAILABILITY:
        total = http_counts(slo)
        bad = http_counts(slo, failed=True)
        return [(c.slo_events(str(BASE_WINDOW)), total), (c.slo_errors(str(BASE_WINDOW)), bad + zero_errors)]
    if kind == SliKind.LATENCY:
        # A series without the threshold bucket is not counted at all, so with traffic the fast rate is
        # always there to subtract; the zero fallback covers an idle native series (its fraction dropped).
        slow = f"clamp_min(\n  {events}\n  - {on_groups(slo)} ({http_fast(slo)}),\n  0\n){zero_errors}"
        return [(c.slo_events(str(BASE_WINDOW)), http_counted(slo)), (c.slo_errors(str(BASE_WINDOW)), slow)]
    if kind == SliKind.EVENTS:
        assert slo.sli.error_query and slo.sli.total_query
        total = sum_by(slo, with_window(slo.sli.total_query))
        bad = sum_by(slo, with_window(slo.sli.error_query))
        return [(c.slo_events(str(BASE_WINDOW)), total), (c.slo_errors(str(BASE_WINDOW)), bad + zero_errors)]
    assert kind == SliKind.RAW and slo.sli.error_ratio_query
    # A raw ratio carries no traffic, so it is recorded with a unit weight: every derived window
    # is then the time average of the ratio. NaN (0/0) and out-of-range values are dropped.
    ratio = f"clamp_max(\n  ({with_window(slo.sli.error_ratio_query)}) >= 0,\n  1\n)"
    return [(c.slo_errors(str(BASE_WINDOW)), ratio), (c.slo_events(str(BASE_WINDOW)), f"{errors} * 0 + 1")]


def counts_traffic(slo: SLO) -> bool:
    """A raw ratio has no event count, so the minimum-traffic guard cannot apply to it."""
    return slo.sli.kind != SliKind.RAW
