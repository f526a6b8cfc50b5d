"""The receiver server's record of every notification it answered, and one-line summaries of them.

Tests and drills ask "what did Alertmanager send, and what did the vendor say?" by
reading this log over HTTP (`/_obs/events?since=N`) or in-process; `obs receivers`
prints it as it grows. Bodies are stored already masked: nothing secret is ever kept.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

KINDS = ("pagerduty", "slack", "webhook", "heartbeat", "watcher")
KEEP = 10_000


class EventLog:
    def __init__(self, keep: int = KEEP):
        # A receiver left running for weeks must not grow without bound; readers only want recent events.
        self._events: deque[dict[str, Any]] = deque(maxlen=keep)
        self._seq = 0
        self._changed = threading.Condition()

    def record(self, kind: str, receiver: str | None, status: int | None, body: object,
               errors: list[str] | None = None) -> dict[str, Any]:
        assert kind in KINDS, kind
        with self._changed:
            self._seq += 1
            event = {"seq": self._seq, "at": time.time(), "kind": kind, "receiver": receiver, "status": status,
                     "body": body, "errors": list(errors or [])}
            self._events.append(event)
            self._changed.notify_all()
        return event

    def since(self, seq: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Events after `seq`, oldest first, and the seq to ask from next time."""
        with self._changed:
            found = [e for e in self._events if e["seq"] > seq]
            return found, (found[-1]["seq"] if found else max(seq, 0))

    def wait(self, seq: int, timeout: float) -> tuple[list[dict[str, Any]], int]:
        """Like `since`, but waits up to `timeout` seconds for at least one new event."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq, timeout)
            return self.since(seq)


def summary(event: dict[str, Any], width: int = 100) -> str:
    """What a person watching the log needs first: the errors, else what the notification said."""
    text = "; ".join(event["errors"]) if event["errors"] else _said(event["kind"], event["body"])
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _said(kind: str, body: object) -> str:
    if not isinstance(body, dict):
        return "ping" if kind == "heartbeat" and body is None else ""
    if kind in ("pagerduty", "watcher"):
        raw = body.get("payload")
        payload = raw if isinstance(raw, dict) else {}
        parts = [body.get("event_action"), payload.get("severity")]
        head = " ".join(str(p) for p in parts if p)
        return f"{head}: {payload['summary']}" if payload.get("summary") else f"{head} {body.get('dedup_key', '')}"
    if kind == "slack":
        text = body.get("text")
        if isinstance(text, str) and text:
            return text
        attachments = body.get("attachments") if isinstance(body.get("attachments"), list) else []
        first = attachments[0] if attachments and isinstance(attachments[0], dict) else {}
        title = first.get("title") or first.get("fallback") or first.get("text")
        if title:
            return str(title)
        return f"{len(body.get('blocks') or [])} blocks"
    # webhook and heartbeat: Alertmanager's webhook payload, or whatever a team's client sent.
    if isinstance(body.get("alerts"), list):
        labels = [a.get("labels") for a in body["alerts"] if isinstance(a, dict)]
        names = sorted({str(x.get("alertname", "?")) for x in labels if isinstance(x, dict)})
        return f"{body.get('status', '?')}: {len(body['alerts'])} alert(s) {', '.join(names)}"
    return str(body.get("status") or ", ".join(list(body)[:5]))
