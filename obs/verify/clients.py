"""Small HTTP clients for the APIs verify reads: Prometheus's HTTP API, Alertmanager's v2 API, Jaeger's query API, the
collector's health and internal telemetry. Unreachable is an answer, not a crash."""
from __future__ import annotations

import time
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from obs.verify.connection import LOCAL, Settings, describe_error, describe_status
from obs.verify.selfmetrics import Snapshot

# A component that takes longer than this to answer one local API call is as good as down.
TIMEOUT_S = 2.0


class Unreachable(Exception):
    def __init__(self, component: str, url: str, reason: str):
        self.component, self.url, self.reason = component, url, reason
        super().__init__(f"{component} is unreachable at {url}: {reason}")


class ApiError(Exception):
    """The component answered, but with an error (a bad query, a 5xx)."""


class Http:
    """One component's API. `settings` carry a deployed endpoint's TLS, credentials and headers (none locally);
    a refusal of the credentials (401, 403) is as good as unreachable, and says so."""

    component = "component"

    def __init__(self, base: str, timeout: float = TIMEOUT_S, settings: Settings = LOCAL,
                 alternates: tuple[str, ...] = ()):
        self.base = base.rstrip("/")
        # Replicas of the same component (`topology: ha`): when one cannot be reached, the next is asked.
        self.alternates = tuple(a.rstrip("/") for a in alternates)
        self.timeout = settings.timeout or timeout
        self.session = settings.session()

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        for _ in self.alternates:
            try:
                return self._request(method, path, **kw)
            except Unreachable:
                # Ask the next replica first from now on; the one that failed goes last.
                self.base, self.alternates = self.alternates[0], (*self.alternates[1:], self.base)
        return self._request(method, path, **kw)

    def _request(self, method: str, path: str, **kw: Any) -> requests.Response:
        url = self.base + path
        try:
            r = self.session.request(method, url, timeout=self.timeout, **kw)
        except requests.RequestException as e:
            raise Unreachable(self.component, url, describe_error(e)) from None
        refused = describe_status(r.status_code)
        if refused is not None:
            raise Unreachable(self.component, url, refused)
        return r

    def get_json(self, path: str, **params: Any) -> tuple[int, Any]:
        r = self.request("GET", path, params=params or None)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, None

    def reachable(self, path: str) -> bool:
        try:
            return self.request("GET", path).status_code < 500
        except Unreachable:
            return False


class Jaeger(Http):
    component = "Jaeger (trace backend)"

    def has_trace(self, trace_id: str) -> bool:
        status, doc = self.get_json(f"/api/v3/traces/{trace_id}")
        if status == 200 and isinstance(doc, dict):
            return bool((doc.get("result") or {}).get("resourceSpans"))
        if status == 404:
            return False
        # Older query services speak only the v1 API.
        status, doc = self.get_json(f"/api/traces/{trace_id}")
        return status == 200 and bool((doc or {}).get("data"))

    def services(self) -> list[str]:
        status, doc = self.get_json("/api/v3/services")
        if status == 200 and isinstance(doc, dict) and "services" in doc:
            return list(doc.get("services") or [])
        status, doc = self.get_json("/api/services")
        if status != 200:
            raise ApiError(f"Jaeger /api/services answered {status}")
        return list((doc or {}).get("data") or [])

    def dependencies(self, end_ms: int, lookback_ms: int) -> list[dict[str, Any]]:
        """The service graph over (end - lookback, end]: [{"parent", "child", "callCount"}]; memory storage
        computes it from the traces it holds, on request."""
        status, doc = self.get_json("/api/dependencies", endTs=end_ms, lookback=lookback_ms)
        if status != 200 or not isinstance(doc, dict):
            raise ApiError(f"Jaeger /api/dependencies answered {status}")
        return [d for d in doc.get("data") or [] if isinstance(d, dict)]

    def search(self, service: str, start_us: int, end_us: int, limit: int) -> list[dict[str, Any]]:
        """Whole traces (v1 JSON: spans with references, processes) holding a span of `service` that started
        in [start, end]; the v1 search takes microseconds, not a lookback."""
        status, doc = self.get_json("/api/traces", service=service, start=start_us, end=end_us, limit=limit)
        if status != 200 or not isinstance(doc, dict):
            raise ApiError(f"Jaeger /api/traces?service={service} answered {status}")
        return [t for t in doc.get("data") or [] if isinstance(t, dict)]


class Prometheus(Http):
    """Prometheus's HTTP API. Under `topology: ha`, `base` is Thanos Query, which answers the query, rule, alert and
    target APIs for the pair; what only a Prometheus server has (its Alertmanagers, its OTLP receiver, its own
    /metrics and configuration) is asked of `servers`, the replicas, one after the other."""

    component = "Prometheus"

    def __init__(self, base: str, timeout: float = TIMEOUT_S, settings: Settings = LOCAL,
                 alternates: tuple[str, ...] = (), servers: tuple[str, ...] = ()):
        super().__init__(base, timeout, settings, alternates)
        self._server = Prometheus(servers[0], timeout, settings, servers[1:]) if servers else None

    @property
    def server(self) -> Prometheus:
        # Not an attribute that can be `self`: a client referring to itself is freed, and its session's open
        # connection closed, only by the cycle collector, and a verify run makes hundreds of clients.
        return self if self._server is None else self._server

    def _data(self, path: str, **params: Any) -> Any:
        status, doc = self.get_json(path, **params)
        if not isinstance(doc, dict) or doc.get("status") != "success":
            err = (doc or {}).get("error") if isinstance(doc, dict) else None
            raise ApiError(f"Prometheus {path} answered {status}: {err or 'no JSON body'}")
        return doc["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._data("/api/v1/query", query=promql)["result"]
        return result

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._data("/api/v1/query_range", query=promql, start=start, end=end,
                                                  step=step)["result"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        targets: list[dict[str, Any]] = self._data("/api/v1/targets", state="active")["activeTargets"]
        return targets

    def rule_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self._data("/api/v1/rules")["groups"]
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self._data("/api/v1/alerts")["alerts"]
        return alerts

    def alertmanagers(self) -> list[str]:
        return [a["url"] for a in self.server._data("/api/v1/alertmanagers")["activeAlertmanagers"]]

    def label_values(self, label: str, start: float | None = None, end: float | None = None) -> list[str]:
        span = {} if start is None else {"start": start, "end": end}
        values: list[str] = self._data(f"/api/v1/label/{label}/values", **span)
        return values

    def series(self, match: str, start: float, end: float) -> list[dict[str, Any]]:
        """Label sets (with __name__) of every series matching `match` with samples in [start, end]."""
        series: list[dict[str, Any]] = self._data("/api/v1/series", **{"match[]": match, "start": start, "end": end})
        return series

    def ready(self) -> bool:
        return self.reachable("/-/ready")

    def config(self) -> str:
        """The configuration Prometheus runs, as YAML (secrets shown as <secret>)."""
        text: str = self.server._data("/api/v1/status/config")["yaml"]
        return text

    def format_query(self, promql: str) -> str:
        """PromQL in Prometheus's own canonical form (/api/v1/format_query): read-only, changes nothing."""
        text: str = self.server._data("/api/v1/format_query", query=promql)
        return text

    def otlp_receiver_enabled(self) -> bool | None:
        """An empty OTLP request is valid: 2xx when the receiver is on, 404 when Prometheus runs without it."""
        try:
            r = self.server.request("POST", "/api/v1/otlp/v1/metrics", data=b"",
                             headers={"Content-Type": "application/x-protobuf"})
        except Unreachable:
            return None
        return r.status_code != 404

    def self_metrics(self) -> Snapshot:
        return parse_metrics(self.server.request("GET", "/metrics").text)


class Alertmanager(Http):
    component = "Alertmanager"

    def alerts(self, **matchers: str) -> list[dict[str, Any]]:
        flt = [f'{k}="{v}"' for k, v in matchers.items()]
        status, doc = self.get_json("/api/v2/alerts", filter=flt) if flt else self.get_json("/api/v2/alerts")
        if status != 200 or not isinstance(doc, list):
            raise ApiError(f"Alertmanager /api/v2/alerts answered {status}")
        return doc

    def ready(self) -> bool:
        return self.reachable("/-/ready")

    def status(self) -> dict[str, Any]:
        """/api/v2/status: cluster state and peers, the configuration as loaded (`config.original`), versions."""
        status, doc = self.get_json("/api/v2/status")
        if status != 200 or not isinstance(doc, dict):
            raise ApiError(f"Alertmanager /api/v2/status answered {status}")
        return doc

    def silence(self, matchers: dict[str, str], starts: float, ends: float, comment: str,
                created_by: str = "obs") -> str:
        """Silence alerts matching `matchers` (a value with `|` is a regex) from `starts` to `ends` (Unix
        times); returns the silence's id."""
        doc = {"matchers": [{"name": k, "value": v, "isRegex": "|" in v, "isEqual": True} for k, v in matchers.items()],
               "startsAt": _iso(starts), "endsAt": _iso(ends), "createdBy": created_by, "comment": comment}
        r = self.request("POST", "/api/v2/silences", json=doc)
        try:
            silence_id: str | None = r.json()["silenceID"] if r.status_code == 200 else None
        except (ValueError, KeyError, TypeError):
            silence_id = None
        if silence_id is None:
            raise ApiError(f"Alertmanager /api/v2/silences answered {r.status_code}: {r.text[:200]}")
        return silence_id

    def silences(self) -> list[dict[str, Any]]:
        status, doc = self.get_json("/api/v2/silences")
        if status != 200 or not isinstance(doc, list):
            raise ApiError(f"Alertmanager /api/v2/silences answered {status}")
        return doc

    def expire(self, silence_id: str) -> None:
        self.request("DELETE", f"/api/v2/silence/{silence_id}")

    def self_metrics(self) -> Snapshot:
        return parse_metrics(self.request("GET", "/metrics").text)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


class Collector(Http):
    component = "OpenTelemetry Collector"

    def __init__(self, health: str, metrics_url: str, timeout: float = TIMEOUT_S):
        super().__init__(health, timeout)
        self.metrics_url = metrics_url

    def healthy(self) -> bool:
        try:
            return self.request("GET", "/").status_code == 200
        except Unreachable:
            return False

    def self_metrics(self) -> Snapshot:
        try:
            r = self.session.get(self.metrics_url, timeout=self.timeout)
        except requests.RequestException as e:
            raise Unreachable(self.component, self.metrics_url, describe_error(e)) from None
        return parse_metrics(r.text)


def parse_metrics(text: str) -> Snapshot:
    """Exposition text -> {(name, labels): value}. `_total` is dropped so both naming styles compare equal."""
    out: Snapshot = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name = s.name[:-6] if s.name.endswith("_total") else s.name
            out[(name, frozenset(s.labels.items()))] = s.value
    return out
