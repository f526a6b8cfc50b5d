"""What reached the receivers: the contract receivers' event log (`obs receivers`), read as notices.

Alertmanager's real PagerDuty and Slack integrations post to the local contract receivers, which record
every request with the status they answered. A notice is one accepted (or rejected) notification:
which spec receiver, trigger or resolve, for which alert. obs's PagerDuty configs set `class` to the
alertname, `group` to the service and `component` to the component label, so pages are told apart
without parsing text; Slack messages carry the group labels in their title.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from obs.model.kinds import ReceiverKind
from obs.verify import clients

WATCHER_CLASS = "dead man's switch"


@dataclass(frozen=True)
class Notice:
    at: float                  # unix seconds, when the receiver got it
    kind: str                  # pagerduty | slack | webhook
    receiver: str
    action: str                # trigger | resolve
    alertname: str
    key: str                   # pairs a trigger with its resolve
    accepted: bool
    service: str = ""
    component: str = ""
    text: str = ""
    page: bool = True          # severity page (PagerDuty: critical), not a ticket

    def about(self, alertname: str, service: str | None = None, component: str | None = None,
              slo: str | None = None) -> bool:
        if self.kind == ReceiverKind.PAGERDUTY:
            # The summary starts with the group's label values (the SLO among them), then common labels in ().
            grouped = self.text.split("(", 1)[0].split()
            return (self.alertname == alertname and (service is None or self.service == service)
                    and (component is None or self.component == component) and (slo is None or slo in grouped))
        # Slack and webhooks: the alert's name and labels appear in the message.
        return alertname in self.text and all(v is None or v in self.text for v in (service, component, slo))


def notice(event: dict[str, Any]) -> Notice | None:
    """A notice from one recorded request, or None for heartbeats and the receivers' own bookkeeping."""
    kind, body, status = event.get("kind"), event.get("body"), event.get("status") or 0
    if kind == ROUTED and isinstance(body, dict):
        labels = {str(k): str(v) for k, v in (body.get("labels") or {}).items()}
        return Notice(float(event.get("at") or 0), ROUTED, str(event.get("receiver") or ""), str(body["action"]),
                      labels.get("alertname", ""), str(body.get("fingerprint") or ""), True, labels.get("service", ""),
                      labels.get("component", ""), json.dumps(labels, sort_keys=True),
                      page=labels.get("severity") == "page")
    if not isinstance(body, dict) or kind not in (ReceiverKind.PAGERDUTY, ReceiverKind.SLACK, ReceiverKind.WEBHOOK):
        return None
    at, receiver = float(event.get("at") or 0), str(event.get("receiver") or "")
    if kind == ReceiverKind.PAGERDUTY:
        raw_payload = body.get("payload")
        payload = raw_payload if isinstance(raw_payload, dict) else {}
        action = "trigger" if body.get("event_action") == "trigger" else "resolve"
        return Notice(at, kind, receiver, action, str(payload.get("class") or ""), str(body.get("dedup_key") or ""),
                      200 <= status < 300, str(payload.get("group") or ""), str(payload.get("component") or ""),
                      str(payload.get("summary") or ""), page=payload.get("severity", "critical") == "critical")
    text = json.dumps(body, sort_keys=True)
    if kind == ReceiverKind.SLACK:
        title = next((str(a.get("title") or "") for a in body.get("attachments") or [] if isinstance(a, dict)),
                     str(body.get("text") or ""))
        action = "resolve" if title.startswith("[RESOLVED") else "trigger"
        # Alertmanager's default title ends with the common labels' values in parentheses, severity among them.
        common = title.rsplit("(", 1)[-1].rstrip(")").split() if title.endswith(")") else []
        return Notice(at, kind, receiver, action, "", title.split("]", 1)[-1].strip(), status == 200, text=text,
                      page="page" in common)
    action = "resolve" if body.get("status") == "resolved" else "trigger"
    raw_labels = body.get("commonLabels")
    common_labels = raw_labels if isinstance(raw_labels, dict) else {}
    return Notice(at, kind, receiver, action, "", str(body.get("groupKey") or ""), 200 <= status < 300, text=text,
                  page=common_labels.get("severity") == "page")


ROUTED = "alertmanager"          # a notice read from Alertmanager's routing, not from a receiver


class AlertmanagerPages:
    """Pages as a deployed Alertmanager routes them, for `obs drill --env`, which cannot read the vendor's side.

    An alert Alertmanager lists with a receiver is a notice (`trigger`) when first seen, and `resolve` when it
    is gone. An alert silenced only by the drill's own silences (`ours`) counts, so a drill that keeps its page
    from people still times its detection; one inhibited, or silenced by anyone else, would reach nobody and
    does not count.
    The same interface as Receivers: events() since the last call, skip() to start afresh.
    """

    def __init__(self, am: clients.Alertmanager):
        self.am = am
        self.known: dict[str, dict[str, Any]] = {}
        self.ours: set[str] = set()

    def _would_notify(self, alert: dict[str, Any]) -> bool:
        status = alert.get("status") or {}
        return bool(alert.get("receivers")) and not status.get("inhibitedBy") and \
            set(status.get("silencedBy") or ()) <= self.ours

    def events(self) -> list[dict[str, Any]]:
        try:
            alerts = self.am.alerts()
        except (clients.Unreachable, clients.ApiError):
            return []
        now = time.time()
        current = {str(a.get("fingerprint")): a for a in alerts if self._would_notify(a)}
        out = [self._event(a, "trigger", now) for fp, a in current.items() if fp not in self.known]
        out += [self._event(a, "resolve", now) for fp, a in self.known.items() if fp not in current]
        self.known = current
        return out

    def skip(self) -> None:
        self.events()

    @staticmethod
    def _event(alert: dict[str, Any], action: str, at: float) -> dict[str, Any]:
        receivers = sorted(str(r.get("name")) for r in alert.get("receivers") or [])
        return {"kind": ROUTED, "at": at, "receiver": receivers[0] if receivers else "", "status": 200,
                "body": {"action": action, "labels": alert.get("labels") or {},
                         "fingerprint": alert.get("fingerprint")}}


class Receivers(clients.Http):
    """The contract receivers' own API: the event log and fault injection."""

    component = "receivers"

    def __init__(self, base: str):
        super().__init__(base)
        self.next = 0

    def events(self) -> list[dict[str, Any]]:
        """Every event recorded since the last call."""
        try:
            status, doc = self.get_json("/_obs/events", since=self.next)
        except clients.Unreachable:
            return []
        if status != 200 or not isinstance(doc, dict):
            return []
        self.next = int(doc.get("next") or self.next)
        return [e for e in doc.get("events") or [] if isinstance(e, dict)]

    def skip(self) -> None:
        """Forget what is already there: only what arrives from now on counts."""
        while self.events():
            pass

    def fault(self, kind: str, mode: str) -> None:
        r = self.request("POST", "/_obs/faults", json={kind: mode})
        if r.status_code != 200:
            raise clients.ApiError(f"the receivers refused fault {kind}={mode}: HTTP {r.status_code}")
