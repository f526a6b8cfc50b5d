"""The PagerDuty Events API v2 contract, as a pure function over the request body.

Alertmanager's pagerduty integration is pointed at obs's receiver server in tests and
staging; a notification PagerDuty would refuse must be refused here too, with PagerDuty's
status and response shape, or the mistake only shows up on the night of a real outage.
Every problem is reported at once, so one drill run shows them all.

Error messages never quote the routing key: they end up in the event log and on stdout.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

ROUTING_KEY_LEN = 32
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_MAX = 1024
DEDUP_KEY_MAX = 255
TOP_LEVEL = ("routing_key", "event_action", "dedup_key", "payload", "client", "client_url", "links", "images")
OPTIONAL_STRINGS = ("component", "group", "class")
SECRET_KEYS = ("routing_key", "service_key")

ACCEPTED_STATUS = 202
REJECTED_STATUS = 400


def check(body: bytes) -> tuple[int, dict[str, Any], list[str]]:
    """(HTTP status, response JSON, errors) PagerDuty would answer for this request body."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # bad UTF-8 is a ValueError; absurd nesting a RecursionError
        return rejected(["Invalid JSON"])
    errors = problems(event)
    if errors:
        return rejected(errors)
    dedup_key = event.get("dedup_key")
    if not dedup_key:
        # Only a trigger may omit it (problems() insists for the others); PagerDuty makes one up.
        dedup_key = uuid.uuid4().hex
    return ACCEPTED_STATUS, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, []


def rejected(errors: list[str]) -> tuple[int, dict[str, Any], list[str]]:
    return REJECTED_STATUS, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, errors


def problems(event: object) -> list[str]:
    """Everything wrong with a decoded event; empty when PagerDuty would accept it."""
    if not isinstance(event, dict):
        return [f"Event must be a JSON object, not {_kind(event)}"]
    errors = [f"'{key}' is not a field of an event" for key in event if key not in TOP_LEVEL]
    errors += _routing_key(event.get("routing_key"))
    action = event.get("event_action")
    if action is None:
        errors.append("'event_action' is missing")
    elif action not in ACTIONS:
        errors.append(f"'event_action' {_show(action)} is invalid (must be one of {', '.join(ACTIONS)})")
    errors += _dedup_key(event, action)
    payload = event.get("payload")
    if action == "trigger" and payload is None:
        errors.append("'payload' is required for a trigger")
    elif payload is not None and not isinstance(payload, dict):
        errors.append(f"'payload' must be an object, not {_kind(payload)}")
    elif action == "trigger":
        # PagerDuty reads the payload only to open an incident; on acknowledge and resolve it is ignored.
        assert isinstance(payload, dict)   # a trigger's payload is present, and anything else was reported
        errors += _payload(payload)
    for key in ("client", "client_url"):
        if key in event and not isinstance(event[key], str):
            errors.append(f"'{key}' must be a string, not {_kind(event[key])}")
    errors += _list_of_objects(event, "links", "href")
    errors += _list_of_objects(event, "images", "src")
    return errors


def _routing_key(key: object) -> list[str]:
    if key is None:
        return ["'routing_key' is missing"]
    if not isinstance(key, str):
        return [f"'routing_key' must be a string, not {_kind(key)}"]
    if len(key) != ROUTING_KEY_LEN:
        return [f"'routing_key' must be {ROUTING_KEY_LEN} characters long, not {len(key)}"]
    return []


def _dedup_key(event: dict[str, Any], action: object) -> list[str]:
    if "dedup_key" not in event:
        if action in ("acknowledge", "resolve"):
            return [f"'dedup_key' is required to {action} an event"]
        return []
    key = event["dedup_key"]
    if not isinstance(key, str):
        return [f"'dedup_key' must be a string, not {_kind(key)}"]
    if not key and action in ("acknowledge", "resolve"):
        return [f"'dedup_key' is required to {action} an event"]
    if len(key) > DEDUP_KEY_MAX:
        return [f"'dedup_key' is {len(key)} characters long; at most {DEDUP_KEY_MAX} are allowed"]
    return []


def _payload(payload: dict[str, Any]) -> list[str]:
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary:
        errors.append("'payload.summary' is missing or blank" if summary in (None, "")
                      else f"'payload.summary' must be a string, not {_kind(summary)}")
    elif len(summary) > SUMMARY_MAX:
        errors.append(f"'payload.summary' is {len(summary)} characters long; at most {SUMMARY_MAX} are allowed")
    source = payload.get("source")
    if not isinstance(source, str) or not source:
        errors.append("'payload.source' is missing or blank" if source in (None, "")
                      else f"'payload.source' must be a string, not {_kind(source)}")
    severity = payload.get("severity")
    if severity is None:
        errors.append("'payload.severity' is missing")
    elif severity not in SEVERITIES:
        errors.append(f"'payload.severity' {_show(severity)} is invalid (must be one of {', '.join(SEVERITIES)})")
    if "timestamp" in payload and not _iso8601(payload["timestamp"]):
        errors.append(f"'payload.timestamp' {_show(payload['timestamp'])} is not an ISO 8601 date and time")
    for key in OPTIONAL_STRINGS:
        if key in payload and not isinstance(payload[key], str):
            errors.append(f"'payload.{key}' must be a string, not {_kind(payload[key])}")
    return errors


def _list_of_objects(event: dict[str, Any], key: str, required: str) -> list[str]:
    """links and images: lists of objects, each naming its target (href of a link, src of an image)."""
    if key not in event:
        return []
    items = event[key]
    if not isinstance(items, list):
        return [f"'{key}' must be a list, not {_kind(items)}"]
    errors = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(f"'{key}[{i}]' must be an object, not {_kind(item)}")
        elif not isinstance(item.get(required), str) or not item[required]:
            errors.append(f"'{key}[{i}].{required}' is missing or blank")
    return errors


def _iso8601(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    # fromisoformat also takes a bare date; PagerDuty's timestamp is a moment, so it needs a time.
    return "T" in value.upper() or " " in value


def mask(routing_key: object) -> str:
    """Enough of a routing key to tell two apart in a log, never enough to use it."""
    return (routing_key[:4] if isinstance(routing_key, str) else "") + "…"


def masked(doc: object) -> object:
    """A copy of a decoded body with every routing key masked, wherever it sits.

    Only the top-level one is in the contract, but a batch sent by mistake, or a v1
    `service_key`, is as secret and must not reach the log either."""
    if isinstance(doc, dict):
        return masked_object(doc)
    if isinstance(doc, list):
        return [masked(v) for v in doc]
    return doc


def masked_object(doc: dict[str, Any]) -> dict[str, Any]:
    """masked() of a JSON object, which stays an object."""
    return {k: mask(v) if k in SECRET_KEYS else masked(v) for k, v in doc.items()}


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    """A rejected value, quoted and cut short: enough to recognise it, never a whole pasted document."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
