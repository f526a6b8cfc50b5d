"""The receiver server over real HTTP on an ephemeral port, the watcher paging through it, and `obs receivers`.

The watcher's clock is a fake the tests move, and its timer is off unless a test is about
the timer: a check runs when the test calls `check_watcher()`, so nothing sleeps.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from obs.cli import main
from obs.receivers import pagerduty
from obs.receivers.events import EventLog
from obs.receivers.server import MAX_BODY, PAGERDUTY_FAULT, ReceiverServer

T0 = 1_714_564_800.0
KEY = "0123456789abcdef0123456789abcdef"
SLACK_SECRET = "T0000SECRET/B0000SECRET/XXXXSECRETXXXX"
HTTP = requests.Session()
HTTP.trust_env = False  # a proxy from the environment must not sit between a test and its own server

# What Alertmanager's webhook integration posts for obs's always-firing Watchdog alert.
WATCHDOG = {
    "version": "4", "groupKey": '{}/{alertname="Watchdog"}:{alertname="Watchdog"}', "truncatedAlerts": 0,
    "status": "firing", "receiver": "obs-heartbeat", "groupLabels": {"alertname": "Watchdog"},
    "commonLabels": {"alertname": "Watchdog", "component": "obs", "severity": "none"},
    "commonAnnotations": {"summary": "Watchdog: the alerting pipeline is alive"},
    "externalURL": "http://127.0.0.1:9093",
    "alerts": [{"status": "firing", "labels": {"alertname": "Watchdog", "component": "obs", "severity": "none"},
                "annotations": {"summary": "Watchdog: the alerting pipeline is alive"},
                "startsAt": "2024-05-01T11:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=vector%281%29", "fingerprint": "8fd9a5b53a4c5f40"}],
}


def trigger(key: str = KEY, severity: str = "critical") -> dict:
    return {"routing_key": key, "event_action": "trigger",
            "payload": {"summary": "checkout is failing", "source": "prometheus", "severity": severity}}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "pd.key"
    path.write_text(KEY + "\n")  # as an editor or `echo` leaves it: the pager strips it
    return path


@pytest.fixture
def server(clock: Clock, key_file: Path):
    with ReceiverServer("127.0.0.1", 0, heartbeat_timeout=150, routing_key_file=key_file, check_interval=None,
                        clock=clock) as s:
        yield s


def post(server: ReceiverServer, path: str, doc: object = None, raw: bytes | None = None) -> requests.Response:
    data = raw if raw is not None else (b"" if doc is None else json.dumps(doc).encode())
    return HTTP.post(server.url + path, data=data, timeout=10)


def events(server: ReceiverServer, since: int = 0) -> dict:
    response = HTTP.get(f"{server.url}/_obs/events", params={"since": since}, timeout=10)
    assert response.status_code == 200
    return response.json()


def only_event(server: ReceiverServer) -> dict:
    found = events(server)["events"]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("path, doc, status, answer", [
    ("/v2/enqueue", trigger(), 202, "success"),
    ("/pagerduty/payments-oncall/v2/enqueue", trigger(), 202, "success"),
    ("/pagerduty/payments.oncall_2/v2/enqueue", trigger(severity="page"), 400, "invalid event"),
    ("/slack/team-a", {"text": "deploy finished"}, 200, "ok"),
    (f"/slack/team-a/{SLACK_SECRET}", {"text": "deploy finished"}, 200, "ok"),
    ("/slack/team-a", {"text": ""}, 400, "invalid_payload"),
    ("/webhook/team-a", {"anything": ["json"]}, 200, "ok"),
    ("/webhook/team-a/hook/SECRET", [1, 2], 200, "ok"),
    ("/heartbeat", WATCHDOG, 200, "ok"),
    ("/heartbeat", None, 200, "ok"),
])
def test_each_route_answers_as_its_vendor_and_records_the_request(server, path, doc, status, answer):
    response = post(server, path, doc)
    assert response.status_code == status
    assert (response.json()["status"] if path.endswith("enqueue") else response.text) == answer
    event = only_event(server)
    assert event["status"] == status and (event["errors"] == []) == (status < 300)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/-/healthy", 200), ("GET", "/heartbeat", 200),
    ("GET", "/", 404), ("POST", "/v2/enqueue/", 404), ("POST", "/pagerduty//v2/enqueue", 404),
    ("POST", "/pagerduty/a%20b/v2/enqueue", 404), ("POST", "/pagerduty/a/v1/enqueue", 404), ("POST", "/slack", 404),
    ("POST", "/slack/", 404), ("POST", "/webhook", 404), ("GET", "/_obs", 404),
    ("GET", "/v2/enqueue", 405), ("GET", "/slack/team-a", 405), ("PUT", "/heartbeat", 405),
    ("POST", "/-/healthy", 405), ("DELETE", "/_obs/events", 405), ("PATCH", "/_obs/faults", 405),
])
def test_unknown_paths_are_404_and_wrong_methods_405(server, method, path, status):
    response = HTTP.request(method, server.url + path, timeout=10)
    assert response.status_code == status
    if status == 405:
        assert response.headers["Allow"]


def test_a_wrong_method_on_a_receiver_path_is_recorded_so_a_misconfigured_sender_shows(server):
    HTTP.get(f"{server.url}/pagerduty/p/v2/enqueue", timeout=10)
    event = only_event(server)
    assert (event["kind"], event["receiver"], event["status"]) == ("pagerduty", "p", 405)
    assert event["errors"] == ["method GET not allowed; use POST"]


def test_a_rejected_event_is_recorded_with_status_400_its_errors_and_its_body(server):
    post(server, "/pagerduty/payments/v2/enqueue", trigger(severity="page"))
    event = only_event(server)
    assert (event["kind"], event["receiver"], event["status"]) == ("pagerduty", "payments", 400)
    assert event["errors"] == ['\'payload.severity\' "page" is invalid (must be one of critical, error, warning, '
                               'info)']
    assert event["body"]["payload"]["severity"] == "page"


def test_the_event_log_is_read_in_order_from_any_point_and_says_where_to_continue(server):
    before = time.time()
    for name in ("a", "b", "c"):
        post(server, f"/slack/{name}", {"text": name})
    log = events(server)
    assert [e["receiver"] for e in log["events"]] == ["a", "b", "c"]
    assert [e["seq"] for e in log["events"]] == [1, 2, 3] and log["next"] == 3
    assert all(before <= e["at"] <= time.time() for e in log["events"])
    assert set(log["events"][0]) == {"seq", "at", "kind", "receiver", "status", "body", "errors"}
    assert [e["receiver"] for e in events(server, 2)["events"]] == ["c"]
    assert events(server, 3) == {"events": [], "next": 3}
    post(server, "/webhook/d", {})
    assert [e["receiver"] for e in events(server, 3)["events"]] == ["d"]
    assert HTTP.get(f"{server.url}/_obs/events?since=last", timeout=10).status_code == 400


def test_the_log_keeps_the_newest_10000_events():
    log = EventLog()
    for i in range(10_005):
        log.record("webhook", str(i), 200, None)
    kept, nxt = log.since(0)
    assert (len(kept), kept[0]["seq"], nxt) == (10_000, 6, 10_005)


def test_routing_keys_and_slack_secret_paths_never_reach_the_log(server):
    post(server, "/pagerduty/p/v2/enqueue", trigger())
    post(server, "/pagerduty/p/v2/enqueue", trigger(key=KEY + "x"))        # rejected: 33 characters
    post(server, "/pagerduty/p/v2/enqueue", [trigger()])                    # rejected: not an object
    post(server, f"/slack/team-a/{SLACK_SECRET}", {"text": "hi"})
    log = events(server)
    assert [e["body"]["routing_key"] for e in log["events"][:2]] == ["0123…", "0123…"]
    assert log["events"][2]["body"][0]["routing_key"] == "0123…"
    assert log["events"][3]["receiver"] == "team-a"
    text = json.dumps(log)
    assert KEY not in text and "SECRET" not in text


def test_fault_injection_makes_each_vendor_refuse_everything_until_set_back(server):
    assert HTTP.get(f"{server.url}/_obs/faults", timeout=10).json() == {"pagerduty": "accept", "slack": "accept"}
    modes = HTTP.post(f"{server.url}/_obs/faults", json={"pagerduty": "reject", "slack": "reject"}, timeout=10)
    assert modes.json() == {"pagerduty": "reject", "slack": "reject"}
    refused = post(server, "/pagerduty/p/v2/enqueue", trigger())
    assert refused.status_code == 400
    assert refused.json() == {"status": "invalid event", "message": "Event object is invalid",
                              "errors": [PAGERDUTY_FAULT]}
    slack = post(server, "/slack/s", {"text": "hi"})
    assert (slack.status_code, slack.text) == (400, "invalid_payload")
    assert [(e["status"], e["errors"]) for e in events(server)["events"]] == [
        (400, [PAGERDUTY_FAULT]), (400, ["invalid_payload: obs fault injection"])]
    HTTP.post(f"{server.url}/_obs/faults", json={"pagerduty": "accept"}, timeout=10)
    assert post(server, "/pagerduty/p/v2/enqueue", trigger()).status_code == 202
    assert post(server, "/slack/s", {"text": "hi"}).status_code == 400


@pytest.mark.parametrize("doc", [{"pagerduty": "drop"}, {"jaeger": "reject"}, ["reject"], "reject"])
def test_a_fault_request_it_cannot_follow_is_refused_and_changes_nothing(server, doc):
    assert HTTP.post(f"{server.url}/_obs/faults", json=doc, timeout=10).status_code == 400
    assert HTTP.get(f"{server.url}/_obs/faults", timeout=10).json() == {"pagerduty": "accept", "slack": "accept"}


def test_a_body_over_1_mib_is_refused_with_413_and_recorded(server):
    exactly = post(server, "/webhook/w", raw=b" " * MAX_BODY)
    assert exactly.status_code == 400          # read and judged: blank is not JSON
    over = post(server, "/slack/s", raw=b" " * (MAX_BODY + 1))
    assert over.status_code == 413
    assert [(e["kind"], e["status"]) for e in events(server)["events"]] == [("webhook", 400), ("slack", 413)]
    assert post(server, "/slack/s", {"text": "still serving"}).status_code == 200


def test_a_chunked_body_is_refused_with_411_rather_than_misread(server):
    response = HTTP.post(f"{server.url}/webhook/w", data=iter([b"{}"]), timeout=10)
    assert response.status_code == 411


def test_an_alertmanager_watchdog_payload_arms_the_watcher_and_its_silence_pages_through_the_pagerduty_route(
        server, clock):
    assert post(server, "/heartbeat", WATCHDOG).status_code == 200
    clock.now += 150
    assert server.check_watcher() is None
    clock.now += 1
    page = server.check_watcher()
    assert (page["kind"], page["status"], page["errors"]) == ("watcher", 202, [])
    assert server.check_watcher() is None     # one open page at a time
    heartbeat, received, _ = events(server)["events"]
    assert (heartbeat["kind"], heartbeat["receiver"], heartbeat["status"]) == ("heartbeat", "obs-heartbeat", 200)
    # The page passed the same contract Alertmanager's events are held to, and its key was stripped and masked.
    assert (received["kind"], received["receiver"], received["status"], received["errors"]) == (
        "pagerduty", "watcher", 202, [])
    payload = received["body"]["payload"]
    assert payload["severity"] == "critical" and payload["source"]
    assert "no Watchdog heartbeat for 151s (since 2024-05-01T12:00:00Z" in payload["summary"]
    assert received["body"]["routing_key"] == page["body"]["routing_key"] == "0123…"


def test_the_page_resolves_with_the_same_dedup_key_when_heartbeats_resume(server, clock):
    post(server, "/heartbeat", WATCHDOG)
    clock.now += 151
    opened = server.check_watcher()
    post(server, "/heartbeat")                 # a bare ping is a heartbeat too
    closed = server.check_watcher()
    assert closed["status"] == 202 and closed["body"]["event_action"] == "resolve"
    assert closed["body"]["dedup_key"] == opened["body"]["dedup_key"]
    assert server.check_watcher() is None
    received = [e for e in events(server)["events"] if e["kind"] == "pagerduty"]
    assert [(e["body"]["event_action"], e["status"]) for e in received] == [("trigger", 202), ("resolve", 202)]


def test_a_resolved_watchdog_pages_at_once(server):
    post(server, "/heartbeat", WATCHDOG)
    post(server, "/heartbeat", {**WATCHDOG, "status": "resolved"})
    page = server.check_watcher()
    assert page["status"] == 202 and "reported the Watchdog alert resolved" in page["body"]["payload"]["summary"]


def test_a_refused_page_is_recorded_and_retried_on_the_next_check_until_it_is_taken(server, clock):
    HTTP.post(f"{server.url}/_obs/faults", json={"pagerduty": "reject"}, timeout=10)
    post(server, "/heartbeat", WATCHDOG)
    clock.now += 151
    first, second = server.check_watcher(), server.check_watcher()
    assert [(p["status"], p["errors"]) for p in (first, second)] == [(400, [PAGERDUTY_FAULT])] * 2
    HTTP.post(f"{server.url}/_obs/faults", json={"pagerduty": "accept"}, timeout=10)
    assert server.check_watcher()["status"] == 202
    assert server.check_watcher() is None


def test_without_a_routing_key_file_the_watcher_records_the_page_it_would_have_sent(clock):
    with ReceiverServer("127.0.0.1", 0, heartbeat_timeout=10, check_interval=None, clock=clock) as server:
        post(server, "/heartbeat", WATCHDOG)
        clock.now += 11
        page = server.check_watcher()
        assert (page["status"], page["errors"]) == (None, ["no routing key file: would have paged"])
        assert page["body"]["payload"]["severity"] == "critical"
        assert server.check_watcher() is None
        assert [e["kind"] for e in events(server)["events"]] == ["heartbeat", "watcher"]


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'"firing"'])
def test_a_heartbeat_that_is_neither_a_ping_nor_a_webhook_payload_is_refused_and_does_not_arm(server, clock, raw):
    assert post(server, "/heartbeat", raw=raw).status_code == 400
    assert not server.watcher.armed
    assert only_event(server)["status"] == 400


def test_the_timer_checks_the_watcher_without_being_asked(clock, key_file):
    with ReceiverServer("127.0.0.1", 0, heartbeat_timeout=10, routing_key_file=key_file, check_interval=0.01,
                        clock=clock) as server:
        post(server, "/heartbeat", WATCHDOG)
        clock.now += 11
        seq, found = 0, []
        while not any(e["kind"] == "watcher" for e in found):
            batch, seq = server.events.wait(seq, timeout=30)
            assert batch, "the timer never checked the watcher"
            found += batch
        assert [e["status"] for e in found if e["kind"] == "watcher"] == [202]


def test_a_port_in_use_is_a_clean_exit_3(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["receivers", "--port", str(busy.getsockname()[1])]) == 3
    err = capsys.readouterr().err
    assert "cannot listen on 127.0.0.1:" in err and "--port" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["--heartbeat-timeout", "0s"], ["--heartbeat-timeout", "soon"],
                                  ["--page-url", "ftp://pd.example"], ["--page-url", "events.pagerduty.com"],
                                  ["--page-url", "http://127.0.0.1:99999/v2/enqueue"],
                                  ["--page-routing-key-file", "/nonexistent/pd.key"], ["--port", "70000"]])
def test_bad_options_exit_2_before_listening(argv):
    assert main(["receivers", "--port", "0", *argv]) == 2


@pytest.mark.parametrize("kind, receiver, status, body, errors, shown", [
    ("pagerduty", "p", 202, trigger(), [], "p                 202  trigger critical: checkout is failing"),
    ("pagerduty", None, 400, None, ["Invalid JSON"], "-                 400  Invalid JSON"),
    ("slack", "s", 200, {"attachments": [{"title": "[FIRING:1] SLOBurn", "text": "x"}]}, [],
     "s                 200  [FIRING:1] SLOBurn"),
    ("webhook", "w", 200, WATCHDOG, [], "w                 200  firing: 1 alert(s) Watchdog"),
    ("heartbeat", None, 200, None, [], "-                 200  ping"),
    ("watcher", "heartbeat", None, {"event_action": "resolve", "dedup_key": "d"}, ["would have paged"],
     "heartbeat           -  would have paged"),
])
def test_a_text_line_shows_kind_receiver_status_and_the_errors_or_what_was_said(kind, receiver, status, body,
                                                                                errors, shown):
    from obs.commands.receivers import _line

    line = _line(EventLog().record(kind, receiver, status, body, errors))
    assert line.endswith(f"  {kind:<9}  {shown}")


def test_the_help_teaches_the_paths_and_how_to_point_alertmanager_here(capsys):
    assert main(["receivers", "--help"]) == 0
    out = capsys.readouterr().out
    for phrase in ("Examples:", "Exit codes:", "/pagerduty/NAME/v2/enqueue", "/slack/NAME", "/webhook/NAME",
                   "/heartbeat", "/-/healthy", "/_obs/events?since=N", "/_obs/faults",
                   "pagerduty_configs: [{url: http://127.0.0.1:9096/pagerduty/<name>/v2/enqueue",
                   "slack_configs:     [{api_url: http://127.0.0.1:9096/slack/<name>", "staging stand-in"):
        assert phrase in out, phrase


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_obs_receivers_serves_in_the_foreground_prints_each_event_and_stops_on_sigterm_with_exit_0():
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "obs", "receivers", "--port", str(port), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if HTTP.get(f"{base}/-/healthy", timeout=10).text == "ok":
                    break
            except requests.ConnectionError:
                time.sleep(0.05)   # not listening yet
        assert HTTP.post(f"{base}/pagerduty/p/v2/enqueue", json=trigger(), timeout=10).status_code == 202
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"listening on {base}" in err and "Traceback" not in err
    printed = [json.loads(line) for line in out.splitlines()]
    assert [(e["kind"], e["receiver"], e["status"]) for e in printed] == [("pagerduty", "p", 202)]
    assert KEY not in out + err and pagerduty.mask(KEY) in out
