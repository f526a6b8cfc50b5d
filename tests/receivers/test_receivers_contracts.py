"""The vendors' contracts the local receivers enforce: PagerDuty Events API v2 and Slack incoming webhooks.

Pure functions over request bodies; the HTTP server around them is in test_receivers_server.py.
"""
from __future__ import annotations

import json
import re

import pytest

from obs.receivers import pagerduty, slack

KEY = "0123456789abcdef0123456789abcdef"


def body(doc: object) -> bytes:
    return json.dumps(doc).encode()


def trigger(**changes: object) -> dict:
    """A minimal valid trigger, with top-level fields replaced (None removes one)."""
    event = {"routing_key": KEY, "event_action": "trigger",
             "payload": {"summary": "checkout is failing", "source": "prometheus", "severity": "critical"}}
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def with_payload(**changes: object) -> dict:
    """A minimal valid trigger, with payload fields replaced (None removes one)."""
    event = trigger()
    event["payload"] = {k: v for k, v in {**event["payload"], **changes}.items() if v is not None}
    return event


def errors_of(event: object) -> list[str]:
    status, response, errors = pagerduty.check(body(event))
    assert status == 400 and response["errors"] == errors
    return errors


def test_a_minimal_trigger_is_accepted_with_a_new_32_hex_dedup_key_each_time():
    first = pagerduty.check(body(trigger()))
    second = pagerduty.check(body(trigger()))
    for status, response, errors in (first, second):
        assert (status, errors) == (202, [])
        assert response["status"] == "success" and response["message"] == "Event processed"
        assert re.fullmatch(r"[0-9a-f]{32}", response["dedup_key"])
    assert first[1]["dedup_key"] != second[1]["dedup_key"]


def test_a_trigger_with_every_optional_field_is_accepted_and_keeps_its_dedup_key():
    event = trigger(dedup_key="checkout/availability", client="Alertmanager", client_url="http://am:9093",
                    links=[{"href": "http://grafana/d/x", "text": "dashboard"}],
                    images=[{"src": "http://grafana/render.png", "alt": "graph"}])
    event["payload"].update(timestamp="2024-05-01T12:00:00.000+00:00", component="api", group="shop",
                            **{"class": "availability", "custom_details": {"firing": 3, "labels": ["a"]}})
    status, response, errors = pagerduty.check(body(event))
    assert (status, response["dedup_key"], errors) == (202, "checkout/availability", [])


@pytest.mark.parametrize("severity", pagerduty.SEVERITIES)
def test_each_documented_severity_is_accepted(severity):
    assert pagerduty.check(body(with_payload(severity=severity)))[0] == 202


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_only_the_key_the_action_and_the_dedup_key(action):
    status, response, _ = pagerduty.check(body({"routing_key": KEY, "event_action": action, "dedup_key": "d1"}))
    assert (status, response["dedup_key"]) == (202, "d1")


def test_a_resolve_is_not_judged_by_the_payload_alertmanager_sends_along_with_it():
    # Alertmanager sends the same payload on resolve; PagerDuty only reads it to open an incident.
    event = {**with_payload(severity="page"), "event_action": "resolve", "dedup_key": "d1"}
    assert pagerduty.check(body(event))[0] == 202


@pytest.mark.parametrize("length, accepted", [(31, False), (32, True), (33, False), (0, False)])
def test_the_routing_key_must_be_exactly_32_characters(length, accepted):
    status, _, errors = pagerduty.check(body(trigger(routing_key="r" * length)))
    assert status == (202 if accepted else 400)
    assert errors == ([] if accepted else [f"'routing_key' must be 32 characters long, not {length}"])


@pytest.mark.parametrize("length, accepted", [(1, True), (1024, True), (1025, False)])
def test_the_summary_is_at_most_1024_characters_counted_as_characters_not_bytes(length, accepted):
    for char in ("x", "é"):
        status, _, errors = pagerduty.check(body(with_payload(summary=char * length)))
        assert status == (202 if accepted else 400), (char, length)
        assert errors == ([] if accepted else [f"'payload.summary' is {length} characters long; "
                                               "at most 1024 are allowed"])


@pytest.mark.parametrize("length, accepted", [(255, True), (256, False)])
def test_the_dedup_key_is_at_most_255_characters(length, accepted):
    assert pagerduty.check(body(trigger(dedup_key="d" * length)))[0] == (202 if accepted else 400)


@pytest.mark.parametrize("event, error", [
    (trigger(routing_key=None), "'routing_key' is missing"),
    (trigger(routing_key=12345678901234567890123456789012), "'routing_key' must be a string, not a number"),
    (trigger(event_action=None), "'event_action' is missing"),
    (trigger(event_action="fire"), "'event_action' \"fire\" is invalid (must be one of trigger, acknowledge, resolve)"),
    (trigger(event_action="Trigger"), "'event_action' \"Trigger\" is invalid"),
    (trigger(dedup_key=7), "'dedup_key' must be a string, not a number"),
    ({"routing_key": KEY, "event_action": "resolve"}, "'dedup_key' is required to resolve an event"),
    ({"routing_key": KEY, "event_action": "acknowledge"}, "'dedup_key' is required to acknowledge an event"),
    ({"routing_key": KEY, "event_action": "resolve", "dedup_key": ""}, "'dedup_key' is required to resolve"),
    (trigger(payload=None), "'payload' is required for a trigger"),
    (trigger(payload="down"), "'payload' must be an object, not a string"),
    (with_payload(summary=None), "'payload.summary' is missing or blank"),
    (with_payload(summary=""), "'payload.summary' is missing or blank"),
    (with_payload(summary=["down"]), "'payload.summary' must be a string, not a list"),
    (with_payload(source=None), "'payload.source' is missing or blank"),
    (with_payload(source=""), "'payload.source' is missing or blank"),
    (with_payload(severity=None), "'payload.severity' is missing"),
    # obs's own severity labels: Alertmanager copies them into the event unless told otherwise.
    (with_payload(severity="page"), "'payload.severity' \"page\" is invalid (must be one of critical, error, "
                                    "warning, info)"),
    (with_payload(severity="ticket"), "'payload.severity' \"ticket\" is invalid"),
    (with_payload(severity="CRITICAL"), "'payload.severity' \"CRITICAL\" is invalid"),
    (with_payload(timestamp="yesterday"), "'payload.timestamp' \"yesterday\" is not an ISO 8601 date and time"),
    (with_payload(timestamp="2024-05-01"), "'payload.timestamp' \"2024-05-01\" is not an ISO 8601"),
    (with_payload(timestamp=1714564800), "'payload.timestamp' 1714564800 is not an ISO 8601"),
    (with_payload(component=3), "'payload.component' must be a string, not a number"),
    (with_payload(group={}), "'payload.group' must be a string, not an object"),
    (with_payload(**{"class": False}), "'payload.class' must be a string, not a boolean"),
    (trigger(client=1), "'client' must be a string, not a number"),
    (trigger(client_url=[]), "'client_url' must be a string, not a list"),
    (trigger(links={"href": "x"}), "'links' must be a list, not an object"),
    (trigger(links=["http://x"]), "'links[0]' must be an object, not a string"),
    (trigger(links=[{"text": "no target"}]), "'links[0].href' is missing or blank"),
    (trigger(images=[{"src": "a"}, {"alt": "b"}]), "'images[1].src' is missing or blank"),
    (trigger(service_key=KEY), "'service_key' is not a field of an event"),
    (trigger(description="v1 field"), "'description' is not a field of an event"),
])
def test_each_rule_rejects_what_breaks_it_with_its_own_error(event, error):
    errors = errors_of(event)
    assert len(errors) == 1 and errors[0].startswith(error), errors


def test_every_problem_is_reported_at_once_not_just_the_first():
    event = {"routing_key": "short", "event_action": "trigger", "extra": 1,
             "payload": {"summary": "s" * 1025, "severity": "page", "timestamp": "soon"}}
    errors = errors_of(event)
    assert errors == ["'extra' is not a field of an event",
                      "'routing_key' must be 32 characters long, not 5",
                      "'payload.summary' is 1025 characters long; at most 1024 are allowed",
                      "'payload.source' is missing or blank",
                      "'payload.severity' \"page\" is invalid (must be one of critical, error, warning, info)",
                      "'payload.timestamp' \"soon\" is not an ISO 8601 date and time"]


def test_a_rejection_has_pagerdutys_response_shape():
    status, response, errors = pagerduty.check(body(trigger(event_action="fire")))
    assert status == 400
    assert response == {"status": "invalid event", "message": "Event object is invalid", "errors": errors}


@pytest.mark.parametrize("raw", [b"", b"not json", b"{\"routing_key\":", b"\xff\xfe{}", b"[" * 100_000])
def test_a_body_that_is_not_json_is_rejected_as_invalid_json(raw):
    assert pagerduty.check(raw) == (400, {"status": "invalid event", "message": "Event object is invalid",
                                          "errors": ["Invalid JSON"]}, ["Invalid JSON"])


@pytest.mark.parametrize("doc, kind", [([trigger()], "a list"), ("trigger", "a string"), (None, "null")])
def test_json_that_is_not_an_object_is_rejected(doc, kind):
    assert errors_of(doc) == [f"Event must be a JSON object, not {kind}"]


def test_no_error_ever_quotes_the_routing_key():
    secret = "SECRET-routing-key-33-characters"  # 32 + 1: wrong length
    for event in (trigger(routing_key=secret + "x"), trigger(routing_key=[secret]),
                  trigger(routing_key={"k": secret})):
        assert secret not in json.dumps(pagerduty.check(body(event)))


def test_masking_keeps_four_characters_of_every_routing_key_wherever_it_sits():
    doc = [trigger(), {"nested": {"routing_key": KEY, "service_key": "abcdefgh"}}, {"routing_key": 5}]
    assert pagerduty.masked(doc) == [{**trigger(), "routing_key": "0123…"},
                                     {"nested": {"routing_key": "0123…", "service_key": "abcd…"}},
                                     {"routing_key": "…"}]
    assert KEY not in json.dumps(pagerduty.masked(doc))


ALERTMANAGER_SLACK = {  # the shape Alertmanager's slack integration posts: attachments, no top-level text
    "channel": "#alerts", "username": "Alertmanager",
    "attachments": [{"title": "[FIRING:1] SLOBurn", "text": "checkout is burning budget", "fallback": "x",
                     "color": "danger", "mrkdwn_in": ["fallback", "pretext", "text"]}]}


@pytest.mark.parametrize("doc", [
    {"text": "deploy finished"},
    {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]},
    {"attachments": [{"text": "hi"}]},
    ALERTMANAGER_SLACK,
    {"text": "", "attachments": [{"text": "hi"}]},
])
def test_slack_accepts_a_message_with_text_blocks_or_attachments(doc):
    assert slack.check(body(doc)) == (200, "ok")


@pytest.mark.parametrize("raw", [
    body({}), body({"text": ""}), body({"blocks": []}), body({"attachments": []}), body({"text": 5}),
    body({"blocks": {"type": "section"}}), body({"channel": "#alerts", "username": "Alertmanager"}),
    body([{"text": "hi"}]), body("hi"), b"", b"text=hi", b"\xff",
])
def test_slack_rejects_an_empty_message_or_a_body_that_is_not_a_json_object(raw):
    assert slack.check(raw) == (400, "invalid_payload")
    assert slack.problem(raw)
