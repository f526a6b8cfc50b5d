"""The dead man's switch as a state machine over given times, and the pager's side of it without a server.

Paging through a real server (the watcher's page passing the PagerDuty contract) is in
test_receivers_server.py.
"""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from obs.receivers import pagerduty
from obs.receivers.heartbeat import Action, Pager, Watcher

T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z
KEY = "0123456789abcdef0123456789abcdef"


def opened(w: Watcher, now: float) -> Action:
    """The trigger the watcher asks for at `now`, delivered."""
    action = w.check(now)
    assert action is not None and action.event_action == "trigger"
    w.confirm(action)
    return action


def test_a_watcher_that_never_heard_a_heartbeat_never_pages():
    w = Watcher(timeout=150)
    assert [w.check(T0 + dt) for dt in (0, 151, 86_400 * 30)] == [None, None, None]
    assert not w.armed


@pytest.mark.parametrize("status", ["firing", None])
def test_a_firing_notification_or_a_bare_ping_arms_the_watcher(status):
    w = Watcher(timeout=150)
    w.beat(T0, status)
    assert w.armed and w.check(T0 + 151).event_action == "trigger"


def test_the_page_triggers_only_once_the_last_beat_is_older_than_the_timeout():
    w = Watcher(timeout=150)
    w.beat(T0, "firing")
    w.beat(T0 + 60, "firing")
    assert w.check(T0 + 210) is None
    action = w.check(T0 + 210.5)
    assert action.event_action == "trigger" and action.since == T0 + 60
    assert "no Watchdog heartbeat for 150s (since 2024-05-01T12:01:00Z, timeout 150s)" in action.summary
    assert len(action.summary) <= pagerduty.SUMMARY_MAX


def test_an_undelivered_trigger_is_asked_for_again_and_a_delivered_one_never_twice():
    w = Watcher(timeout=10)
    w.beat(T0)
    first = w.check(T0 + 11)
    assert w.check(T0 + 12) == Action("trigger", w.dedup_key, first.summary.replace("11s", "12s"), T0)
    w.confirm(first)
    assert [w.check(T0 + dt) for dt in (13, 100, 10_000)] == [None, None, None]
    assert w.page_open


def test_a_resolved_watchdog_pages_at_once_without_waiting_for_the_timeout():
    w = Watcher(timeout=150)
    w.beat(T0, "firing")
    w.beat(T0 + 5, "resolved")
    action = w.check(T0 + 5)
    assert action.event_action == "trigger" and action.since == T0 + 5
    assert "reported the Watchdog alert resolved at 2024-05-01T12:00:05Z" in action.summary


def test_a_resolved_watchdog_arms_a_watcher_that_just_started():
    w = Watcher(timeout=150)
    w.beat(T0, "resolved")
    assert w.armed and w.check(T0).event_action == "trigger"


def test_the_page_resolves_when_firing_beats_resume_and_a_failed_resolve_is_retried():
    w = Watcher(timeout=10)
    w.beat(T0, "firing")
    opened(w, T0 + 11)
    w.beat(T0 + 20, "firing")
    resolve = w.check(T0 + 20)
    assert resolve == Action("resolve", w.dedup_key)
    assert w.check(T0 + 21) == resolve        # not confirmed: the send failed; ask again
    w.confirm(resolve)
    assert w.check(T0 + 22) is None and not w.page_open


def test_a_resolved_notification_after_the_page_opened_changes_nothing_until_beats_resume():
    w = Watcher(timeout=10)
    w.beat(T0, "firing")
    opened(w, T0 + 11)
    w.beat(T0 + 12, "resolved")
    assert w.check(T0 + 13) is None
    w.beat(T0 + 14, None)
    assert w.check(T0 + 14).event_action == "resolve"


def test_beats_that_resume_before_a_trigger_was_delivered_need_no_resolve():
    w = Watcher(timeout=10)
    w.beat(T0)
    assert w.check(T0 + 11).event_action == "trigger"   # say its send failed: not confirmed
    w.beat(T0 + 12)
    assert w.check(T0 + 12) is None


def test_the_dedup_key_is_the_same_for_trigger_and_resolve_and_for_a_restarted_watcher_of_that_name():
    w = Watcher(timeout=10)
    w.beat(T0)
    trigger = opened(w, T0 + 11)
    w.beat(T0 + 12)
    assert w.check(T0 + 12).dedup_key == trigger.dedup_key == Watcher(timeout=99).dedup_key
    assert Watcher(timeout=10, name="other").dedup_key != trigger.dedup_key
    assert len(trigger.dedup_key) <= pagerduty.DEDUP_KEY_MAX


def test_a_summary_is_cut_to_pagerdutys_limit_whatever_the_watchers_name():
    w = Watcher(timeout=10, name="n" * 2000)
    w.beat(T0)
    assert len(w.check(T0 + 11).summary) == pagerduty.SUMMARY_MAX


@pytest.mark.parametrize("timeout", [0, -1])
def test_a_timeout_must_be_positive(timeout):
    with pytest.raises(ValueError):
        Watcher(timeout=timeout)


@pytest.mark.parametrize("action", [Action("trigger", "obs-dead-mans-switch-heartbeat", "stopped", T0),
                                    Action("resolve", "obs-dead-mans-switch-heartbeat")])
def test_the_pagers_event_passes_the_pagerduty_contract_with_severity_critical(action):
    event = Pager("http://127.0.0.1:9/", None, source="test").event(action, KEY)
    assert pagerduty.check(json.dumps(event).encode())[0] == 202
    if action.event_action == "trigger":
        assert event["payload"]["severity"] == "critical" and event["payload"]["source"] == "test"


def test_without_a_routing_key_file_the_pager_records_what_it_would_have_paged_and_is_done():
    result = Pager("http://127.0.0.1:9/", None).send(Action("trigger", "k", "stopped", T0))
    assert result.dry_run and result.settled and result.status is None
    assert result.event["payload"]["summary"] == "stopped" and result.event["routing_key"] == "…"
    assert result.errors == ["no routing key file: would have paged"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("content, error", [
    (None, "cannot read the routing key file"),
    ("  \n", "is empty"),
    (KEY, "cannot reach the page URL"),
])
def test_a_page_that_cannot_be_sent_is_not_settled_so_the_next_check_retries_it(tmp_path: Path, content, error):
    key_file = tmp_path / "pd.key"
    if content is not None:
        key_file.write_text(content)
    result = Pager(f"http://127.0.0.1:{closed_port()}/v2/enqueue", key_file).send(Action("resolve", "k"))
    assert not result.settled and result.status is None
    assert len(result.errors) == 1 and error in result.errors[0]
    assert KEY not in json.dumps(result.event)
