"""A dead man's switch: page when the always-firing Watchdog alert stops arriving.

Prometheus fires the Watchdog alert all the time and Alertmanager re-sends it to
`/heartbeat` on every repeat interval. When those deliveries stop, something between
rule evaluation and notification is broken, and the broken part cannot page about
itself; the watcher pages instead, through a path that does not go through it.

The watcher is a pure state machine over times it is given (`now`), so tests drive it
with a fake clock. The `Pager` does the one side effect: a PagerDuty Events v2 POST.
"""
from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from obs.receivers import pagerduty

RESOLVED = "resolved"


@dataclass(frozen=True)
class Action:
    """What the watcher wants sent: open the page, or close it."""

    event_action: str           # "trigger" | "resolve"
    dedup_key: str
    summary: str = ""           # trigger only
    since: float | None = None  # trigger only: when the heartbeat stopped (the clock's time)


class Watcher:
    def __init__(self, timeout: float, name: str = "heartbeat"):
        if timeout <= 0:
            raise ValueError("the heartbeat timeout must be positive")
        self.timeout = timeout
        self.name = name
        # Stable for the watcher's name, not random per process: after a restart, a new trigger
        # joins the incident still open in PagerDuty instead of opening a second one.
        self.dedup_key = f"obs-dead-mans-switch-{name}"
        self.last_beat: float | None = None
        self.stopped_at: float | None = None    # when a payload said the Watchdog resolved
        self.page_open = False
        self._lock = threading.Lock()           # beats come from request threads, checks from a timer

    @property
    def armed(self) -> bool:
        """Only a heartbeat that was once seen can stop: a fresh watcher with no sender stays quiet."""
        return self.last_beat is not None or self.stopped_at is not None

    def beat(self, now: float, alerts_status: str | None = None) -> None:
        """A heartbeat: a firing Watchdog notification, or a bare ping (None).

        A resolved Watchdog notification arms the watcher too but means the opposite: Prometheus
        stopped sending the alert, so the heartbeat stopped at `now`, without waiting for the timeout.
        """
        with self._lock:
            if alerts_status == RESOLVED:
                self.stopped_at = now
            else:
                self.last_beat = now
                self.stopped_at = None

    def check(self, now: float) -> Action | None:
        """The page to send now, if any. Repeats until `confirm` says it was delivered."""
        with self._lock:
            stopped = self._stopped(now)
            if stopped is not None and not self.page_open:
                return Action("trigger", self.dedup_key, self._summary(stopped, now), stopped)
            if stopped is None and self.page_open:
                return Action("resolve", self.dedup_key)
            return None

    def confirm(self, action: Action) -> None:
        """The page URL accepted `action`: at most one page is open, and only a sent trigger is resolved."""
        with self._lock:
            self.page_open = action.event_action == "trigger"

    def _stopped(self, now: float) -> float | None:
        if self.stopped_at is not None:
            return self.stopped_at
        if self.last_beat is not None and now - self.last_beat > self.timeout:
            return self.last_beat
        return None

    def _summary(self, since: float, now: float) -> str:
        if self.stopped_at is not None:
            why = (f"Alertmanager reported the Watchdog alert resolved at {_utc(since)}: Prometheus stopped "
                   "firing it, so rule evaluation or Prometheus's path to Alertmanager is broken")
        else:
            why = (f"no Watchdog heartbeat for {now - since:.0f}s (since {_utc(since)}, timeout "
                   f"{self.timeout:g}s): Prometheus, Alertmanager, or Alertmanager's notifications have stopped")
        return f"obs dead man's switch '{self.name}': {why}"[:pagerduty.SUMMARY_MAX]


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PageResult:
    status: int | None              # what the page URL answered; None when nothing was sent
    event: dict[str, Any]           # the event as sent, with the routing key masked
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False           # no routing key file: recorded as what would have been paged

    @property
    def settled(self) -> bool:
        """No retry needed: the page URL took it, or there was nowhere to send it."""
        return self.dry_run or (self.status is not None and 200 <= self.status < 300)


class Pager:
    """Sends a watcher's action as a PagerDuty Events v2 event."""

    def __init__(self, url: str, routing_key_file: Path | None, source: str | None = None,
                 timeout: float = 10.0):
        self.url = url
        self.routing_key_file = routing_key_file
        self.source = source or f"obs receivers on {socket.gethostname()}"
        self.timeout = timeout

    def event(self, action: Action, routing_key: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"routing_key": routing_key, "event_action": action.event_action,
                               "dedup_key": action.dedup_key, "client": "obs receivers"}
        if action.event_action == "trigger":
            payload = {"summary": action.summary, "source": self.source, "severity": "critical",
                       "component": "alerting pipeline", "group": "obs", "class": "dead man's switch"}
            if action.since is not None:
                payload["timestamp"] = datetime.fromtimestamp(action.since, UTC).isoformat()
            doc["payload"] = payload
        return doc

    def send(self, action: Action) -> PageResult:
        if self.routing_key_file is None:
            return PageResult(None, self._shown(action), ["no routing key file: would have paged"], dry_run=True)
        try:
            # Read at send time so a rotated key is used without a restart.
            routing_key = self.routing_key_file.read_text().strip()
        except (OSError, UnicodeDecodeError) as e:
            return PageResult(None, self._shown(action),
                              [f"cannot read the routing key file {self.routing_key_file}: {_reason(e)}"])
        if not routing_key:
            return PageResult(None, self._shown(action), [f"the routing key file {self.routing_key_file} is empty"])
        event = self.event(action, routing_key)
        shown = pagerduty.masked_object(event)
        request = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return PageResult(response.status, shown, _errors_in(response.read()))
        except urllib.error.HTTPError as e:
            return PageResult(e.code, shown, _errors_in(e.read()) or [f"HTTP {e.code} {e.reason}"])
        except (urllib.error.URLError, OSError) as e:
            return PageResult(None, shown, [f"cannot reach the page URL: {_reason(e)}"])

    def _shown(self, action: Action) -> dict[str, Any]:
        """The event for the log when there is no key to send it with."""
        return pagerduty.masked_object(self.event(action, ""))


def _errors_in(body: bytes) -> list[str]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return []
    errors = doc.get("errors") if isinstance(doc, dict) else None
    return [str(e) for e in errors] if isinstance(errors, list) else []


def _reason(e: Exception) -> str:
    reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or e
    return str(reason)
