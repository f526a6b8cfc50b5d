"""The kinds the domain tells apart, as enums. Each is a `StrEnum`: it compares equal to, prints as and
serialises as its value, so generated files read the same, and code says `SliKind.LATENCY`, not "latency"."""
from __future__ import annotations

from enum import StrEnum


class SliKind(StrEnum):
    AVAILABILITY = "availability"   # the share of requests that did not fail (HTTP 5xx)
    LATENCY = "latency"             # the share of requests faster than a threshold
    EVENTS = "events"               # the user's own error and total queries
    RAW = "raw"                     # the user's own error-ratio query


class Severity(StrEnum):
    PAGE = "page"                   # wakes someone: PagerDuty critical
    TICKET = "ticket"               # for working hours: PagerDuty warning, a chat message


class ReceiverKind(StrEnum):
    PAGERDUTY = "pagerduty"
    SLACK = "slack"
    WEBHOOK = "webhook"
    EMAIL = "email"


class Topology(StrEnum):
    SINGLE = "single"               # one process of each component
    HA = "ha"                       # an Alertmanager cluster and a Prometheus pair


class MetricsPath(StrEnum):
    PUSH = "push"                   # the collector writes to Prometheus's OTLP receiver
    PULL = "pull"                   # Prometheus scrapes the collector's exporter


class Ruler(StrEnum):
    THANOS = "thanos"               # Thanos Ruler: Prometheus rule files with a partial response strategy
    CORTEX = "cortex"               # the Mimir and Cortex rulers: one rule namespace per file, per tenant


class DashboardLayout(StrEnum):
    TEMPLATED = "templated"         # a constant handful of dashboards; $team, $service and $slo pick what they show
    PER_SERVICE = "per_service"     # one dashboard per service and per SLO, their names written into every query
