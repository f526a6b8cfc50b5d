"""Why an SLI query is empty, from what the service does send: the finding points at the one thing to change.

`classify` is pure: it takes the facts Prometheus holds about the service (SeriesFacts: the metric names with
its `service_name`, the `le` of its classic HTTP buckets, how many samples its series have in the SLI's window
and how far apart) and names the case:
- no telemetry at all: instrument it with the settings `obs env` prints (or send synthetic traffic);
- traces but no metrics: only the collector's span metrics carry its name, so its metrics exporter is off;
- the old HTTP semantic conventions (`http_server_duration_milliseconds`) still arriving: the collector
  converts explicit-bucket ones, so either its config predates that or they are exponential (in ms, which
  it cannot rescale): `OTEL_SEMCONV_STABILITY_OPT_IN=http`;
- classic buckets without one at the latency threshold: native histograms (Python) or a View (Node.js);
- samples too far apart for the windows: `OTEL_METRIC_EXPORT_INTERVAL`;
- an events or raw SLI whose selectors match nothing.
`gather` reads the facts from Prometheus.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import promql_parser

from obs.model import conventions as c
from obs.model.domain import SLO
from obs.model.kinds import SliKind
from obs.model.timing import Timing
from obs.model.windows import BASE_WINDOW
from obs.verify import clients

# Series seen within this window count as what the service sends now (coverage's RECENT_S).
RECENT_S = 600
STABLE = c.HTTP_DURATION                                  # http_server_request_duration_seconds
OLD_PREFIX = "http_server_duration_"                      # http.server.duration, e.g. _milliseconds(_bucket)
SPAN_METRICS = (c.SPANMETRICS_CALLS, c.SPANMETRICS_DURATION)
NOT_THE_SERVICE = ("target_info",)                        # resource attributes: sent with any metric, says nothing
SDK_DEFAULT_INTERVAL_MS = 60000
NODE_PREFIXES = ("nodejs_", "v8js_")                      # runtime metrics only the Node.js SDK sends
UNNAMED_PREFIX = "unknown_service"
HTTP_KINDS = ("availability", "latency")

# Case names, stable in JSON: the finding's `hop` says which one held.
NO_TELEMETRY = "no telemetry"
NO_METRICS = "no metrics"
NO_HTTP_METRIC = "no HTTP metric"
OLD_SEMCONV = "old semantic conventions"
NO_THRESHOLD_BUCKET = "no bucket at the threshold"
EXPORT_INTERVAL = "export interval"
NO_MATCH = "no matching series"
UNEXPLAINED = "SLI query"


@dataclass(frozen=True)
class SeriesFacts:
    service: str
    names: frozenset[str] = frozenset()          # metric names with service_name=<service> in the last 10m
    le: frozenset[str] = frozenset()             # `le` of its http_server_request_duration_seconds_bucket series
    metric: str | None = None                    # the series whose samples were counted
    samples: int | None = None                   # most samples one of those series has in the SLI's base window
    gap_s: float | None = None                   # median seconds between them
    unnamed: tuple[str, ...] = ()                # service_name values of services started without a name
    unmatched: tuple[str, ...] = ()              # events / raw: selectors of the SLI's queries that match nothing


@dataclass(frozen=True)
class Diagnosis:
    case: str
    why: str
    fix: str
    facts: SeriesFacts = field(compare=False, default_factory=lambda: SeriesFacts(""))


def _env(service: str) -> str:
    return f"`obs env {service}`"


def _sample(names: frozenset[str], limit: int = 6) -> str:
    shown = sorted(n for n in names if n not in NOT_THE_SERVICE)
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def _le_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def has_threshold_bucket(le: frozenset[str], threshold_s: float) -> bool:
    return any(v is not None and abs(v - threshold_s) <= 1e-9 * max(1.0, threshold_s)
               for v in map(_le_float, le))


def _interval(facts: SeriesFacts, timing: Timing, empty: str) -> Diagnosis | None:
    """Too few samples for the SLI's window, or samples far apart for the profile: the export interval."""
    expected = timing.sdk_metric_interval.s
    few = facts.samples is not None and facts.samples < 2
    slow = facts.gap_s is not None and facts.gap_s > max(2 * expected, expected + 1)
    if not (few or slow):
        return None
    every = f", one every {facts.gap_s:.0f}s" if facts.gap_s is not None else ""
    why = (f"{empty}: {facts.service}'s {facts.metric} has {facts.samples} sample(s) in the last {BASE_WINDOW}{every}; "
           f"rate() over the SLI's {BASE_WINDOW} window needs two, and the {timing.name} profile expects one every "
           f"{expected:g}s (its dashboards rate over {expected * c.RATE_SAMPLES:g}s)")
    fix = (f"set OTEL_METRIC_EXPORT_INTERVAL={timing.sdk_metric_interval.ms} in {facts.service}'s environment "
           f"({_env(facts.service)} prints it; the SDKs default to {SDK_DEFAULT_INTERVAL_MS})")
    if facts.samples == 1 and facts.gap_s is None:
        fix += f", or wait one export interval if {facts.service} has just started"
    return Diagnosis(EXPORT_INTERVAL, why, fix, facts)


def classify(slo: SLO, facts: SeriesFacts, timing: Timing, empty: str) -> Diagnosis:
    """`empty` says what is empty (e.g. "no data from obs:slo_events:rate5m"); it leads every `why`."""
    svc = facts.service
    names = facts.names - set(NOT_THE_SERVICE)
    http = slo.sli.kind in HTTP_KINDS
    # An events or raw SLI may select by other labels than service_name: its own selectors decide.
    if not names and (http or facts.unmatched or facts.metric is None):
        why = f"{empty}: Prometheus has no series with {c.SERVICE_NAME_LABEL}=\"{svc}\" in the last {RECENT_S // 60}m"
        if facts.unnamed:
            why += (f"; it has series from {', '.join(facts.unnamed)}: a service started without OTEL_SERVICE_NAME "
                    "reports under that name")
        return Diagnosis(NO_TELEMETRY, why, f"instrument {svc} to send OTLP to the collector with the settings "
                         f"{_env(svc)} prints, or run `obs verify --traffic` to send synthetic data", facts)
    if not http:
        if facts.unmatched:
            why = (f"{empty}: nothing matches {', '.join(f'`{s}`' for s in facts.unmatched)}; {svc} sends "
                   f"{_sample(names)}")
            return Diagnosis(NO_MATCH, why, f"make {svc} send the metrics its SLI's queries select (names and labels "
                             "as Prometheus stores them), or fix the queries in obs.yaml", facts)
        return _interval(facts, timing, empty) or _unexplained(slo, facts, names, empty)
    stable = {n for n in names if n == STABLE or n.startswith(STABLE + "_")}
    if not stable:
        old = sorted(n for n in names if n.startswith(OLD_PREFIX))
        if old:
            explicit = any(n.endswith("_bucket") for n in old)
            how = ("explicit buckets the running collector did not convert (its config predates the conversion: "
                   "run `obs generate` and `obs up`)" if explicit else
                   "an exponential histogram in ms, which the collector cannot rescale to seconds")
            why = (f"{empty}: {svc} sends the old HTTP semantic conventions ({', '.join(old)}: {how}), not "
                   f"{STABLE}")
            return Diagnosis(OLD_SEMCONV, why, f"set OTEL_SEMCONV_STABILITY_OPT_IN=http in {svc}'s environment "
                             f"({_env(svc)} sets it) and restart it: the SDK then sends {STABLE}", facts)
        if names <= {f"{SPAN_METRICS[0]}", *(f"{SPAN_METRICS[1]}_{s}" for s in ("bucket", "count", "sum"))}:
            why = (f"{empty}: {svc} sends traces (the collector's span metrics carry its name) but no metrics of "
                   "its own")
            return Diagnosis(NO_METRICS, why, f"set OTEL_METRICS_EXPORTER=otlp in {svc}'s environment "
                             f"({_env(svc)} sets it; older SDKs default to none)", facts)
        why = f"{empty}: {svc} sends {_sample(names)}, but no {STABLE}"
        return Diagnosis(NO_HTTP_METRIC, why, f"instrument {svc}'s HTTP server (zero-code instrumentation records "
                         "http.server.request.duration), or give this SLO an events SLI over what it sends", facts)
    native = STABLE in stable
    threshold = slo.sli.threshold
    if slo.sli.kind == SliKind.LATENCY and threshold is not None and not native and f"{STABLE}_bucket" in stable \
            and not has_threshold_bucket(facts.le, threshold.s):
        bounds = sorted(v for v in map(_le_float, facts.le) if v is not None and v != float("inf"))
        shown = ", ".join(f"{b:g}" for b in bounds)
        why = (f"{empty}: {svc} sends classic buckets of {STABLE} (le {shown}) but none at the latency threshold "
               f"{threshold} (le=\"{threshold.s:g}\"), so no request can be judged fast or slow")
        nearest = min(bounds, key=lambda b: abs(b - threshold.s)) if bounds else None
        view = (f"add a View with the boundary {threshold.s:g} to http.server.request.duration in code and list it "
                f"in {svc}'s latency_buckets")
        if any(n.startswith(NODE_PREFIXES) for n in names):
            # Its runtime metrics say Node.js, which keeps explicit buckets whatever the aggregation setting.
            fix = f"{svc} runs on Node.js, which ignores the exponential-aggregation setting: {view}"
        else:
            fix = (f"Python: set `histogram: native` for {svc} in obs.yaml and start it with "
                   f"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram "
                   f"({_env(svc)} sets it): native histograms read any threshold; Node.js ignores that variable: "
                   + view)
        if nearest is not None:
            fix += f", or use a threshold it has a bucket for ({nearest * 1000:g}ms)"
        return Diagnosis(NO_THRESHOLD_BUCKET, why, fix, facts)
    return _interval(facts, timing, empty) or _unexplained(slo, facts, names, empty)


def _unexplained(slo: SLO, facts: SeriesFacts, names: AbstractSet[str], empty: str) -> Diagnosis:
    why = f"{empty}, although {facts.service} sends {_sample(frozenset(names))}"
    return Diagnosis(UNEXPLAINED, why, "run the SLI's recording-rule queries (`obs test` shows them) in Prometheus "
                     "to see which part is empty; `obs logs prometheus`", facts)


# --- gathering from Prometheus ----------------------------------------------------------------------------


def _selectors(query: str) -> list[str]:
    found: list[str] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            found.append(str(node))

    promql_parser.walk(promql_parser.parse(query.replace("{{window}}", str(BASE_WINDOW))), visit)
    return list(dict.fromkeys(found))


def _sli_queries(slo: SLO) -> list[str]:
    return [q for q in (slo.sli.error_query, slo.sli.total_query, slo.sli.error_ratio_query) if q]


def _spacing(prom: clients.Prometheus, selector: str) -> tuple[int | None, float | None]:
    """(most samples a matching series has in the base window, median gap between that series' samples)."""
    rows = prom.query(f"{selector}[{BASE_WINDOW}]")
    best: list[float] = []
    for row in rows:
        stamps = [float(v[0]) for v in row.get("values") or row.get("histograms") or []]
        if len(stamps) > len(best):
            best = sorted(stamps)
    if not rows:
        return None, None
    gaps = [b - a for a, b in zip(best, best[1:], strict=False)]
    return len(best), (statistics.median(gaps) if gaps else None)


def gather(prom: clients.Prometheus, slo: SLO, now: float | None = None) -> SeriesFacts:
    now = time.time() if now is None else now
    svc = slo.service
    own = f'{{{c.SERVICE_NAME_LABEL}="{svc}"}}'
    rows = prom.series(own, now - RECENT_S, now)
    names = frozenset(r.get("__name__", "") for r in rows) - {""}
    le = frozenset(r["le"] for r in rows if r.get("__name__") == f"{STABLE}_bucket" and "le" in r)
    http = slo.sli.kind in HTTP_KINDS
    unnamed: tuple[str, ...] = ()
    if http and not names - set(NOT_THE_SERVICE):
        unnamed = tuple(sorted(v for v in prom.label_values(c.SERVICE_NAME_LABEL, now - RECENT_S, now)
                               if v.startswith(UNNAMED_PREFIX)))
        return SeriesFacts(svc, names, unnamed=unnamed)
    metric = None
    unmatched: list[str] = []
    if http:
        for candidate in (STABLE, f"{STABLE}_count"):
            if candidate in names:
                metric = f'{candidate}{own}'
                break
    else:
        for query in _sli_queries(slo):
            for sel in _selectors(query):
                if not prom.series(sel, now - RECENT_S, now):
                    unmatched.append(sel)
                elif metric is None:
                    metric = sel
    if not names - set(NOT_THE_SERVICE) and (unmatched or metric is None):
        unnamed = tuple(sorted(v for v in prom.label_values(c.SERVICE_NAME_LABEL, now - RECENT_S, now)
                               if v.startswith(UNNAMED_PREFIX)))
    samples, gap = _spacing(prom, metric) if metric else (None, None)
    return SeriesFacts(svc, names, le, metric, samples, gap, unnamed, tuple(dict.fromkeys(unmatched)))


def diagnose(prom: clients.Prometheus, slo: SLO, timing: Timing, empty: str) -> Diagnosis:
    return classify(slo, gather(prom, slo), timing, empty)
