"""The Slack incoming-webhook contract, as a pure function over the request body.

Slack answers a webhook with a plain-text word, not JSON: `ok`, or an error code. A
message needs something to show: text, blocks, or attachments. Alertmanager's slack
integration sends only attachments (no top-level text), which Slack accepts, so that
alone is enough here too.
"""
from __future__ import annotations

import json

ACCEPTED = (200, "ok")
REJECTED = (400, "invalid_payload")


def check(body: bytes) -> tuple[int, str]:
    """(HTTP status, response body) Slack would answer for this request body."""
    return REJECTED if problem(body) else ACCEPTED


def problem(body: bytes) -> str | None:
    """Why Slack would refuse the body, for obs's log (Slack itself only says invalid_payload)."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):  # bad UTF-8 is a ValueError; absurd nesting a RecursionError
        return "Invalid JSON"
    if not isinstance(message, dict):
        return "the message must be a JSON object"
    text = message.get("text")
    if isinstance(text, str) and text:
        return None
    if any(isinstance(message.get(key), list) and message[key] for key in ("blocks", "attachments")):
        return None
    return "the message has no text, blocks or attachments to show"
