"""obs receivers: local PagerDuty, Slack and webhook stand-ins that answer as the vendors do, and a dead man's
switch."""
from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from obs.commands.common import seconds_option
from obs.errors import InputError

if TYPE_CHECKING:
    from obs.receivers.server import ReceiverServer


@click.command("receivers", epilog="""\b
Examples:
  obs receivers                                    listen on 127.0.0.1:9096, print every notification
  obs receivers --format json | jq .               one JSON event per line
  obs receivers --page-routing-key-file pd.key \\
      --page-url https://events.pagerduty.com/v2/enqueue
                                                   the heartbeat watcher pages PagerDuty for real
  curl -s 'http://127.0.0.1:9096/_obs/events?since=0'

\b
Paths (POST unless said otherwise):
  /pagerduty/NAME/v2/enqueue   PagerDuty Events API v2; /v2/enqueue too. Answers 202, or 400
                               with every problem PagerDuty would report (routing key not 32
                               characters, severity not critical|error|warning|info, ...)
  /slack/NAME[/...]            Slack incoming webhook: 200 ok, or 400 invalid_payload
  /webhook/NAME[/...]          a team's own webhook: any JSON, 200
  /heartbeat                   the Watchdog alert's webhook, or a bare ping (GET or POST)
  GET /-/healthy               200 ok
  GET /_obs/events?since=N     every request answered: {"events": [...], "next": M}
  /_obs/faults                 {"pagerduty": "reject"} makes PagerDuty (or "slack") refuse
                               every event until set back to "accept"; GET shows the modes
NAME says which Alertmanager receiver sent it. Path segments after NAME (where a webhook
URL keeps its secret) are accepted and never recorded; routing keys are logged masked.

\b
Point Alertmanager at it (a config overlay for a test or staging stack):
  pagerduty_configs: [{url: http://127.0.0.1:9096/pagerduty/<name>/v2/enqueue, ...}]
  slack_configs:     [{api_url: http://127.0.0.1:9096/slack/<name>, ...}]
  webhook_configs:   [{url: http://127.0.0.1:9096/webhook/<name>}]
A notification the real vendor would refuse is refused here, with the vendor's status and
error, so it shows in Alertmanager's alertmanager_notifications_failed_total and in this
log, not during an outage. For one: Alertmanager's pagerduty severity defaults to the
alert's severity label, and obs's page and ticket are not PagerDuty severities.

\b
As a team's staging stand-in: point the staging Alertmanager's receivers here instead of
the team's PagerDuty, Slack and webhook, keeping the real routing keys (only their first
4 characters are logged), and run `obs receivers --bind 0.0.0.0 --format json` when
Alertmanager runs on another host. Each line says which receiver an alert reached and
whether the vendor would have taken it; POST {"pagerduty": "reject"} to /_obs/faults
rehearses a vendor refusing every event.

\b
Dead man's switch: route the always-firing Watchdog alert to
  webhook_configs: [{url: http://127.0.0.1:9096/heartbeat, send_resolved: true}]
with group_interval and repeat_interval well under --heartbeat-timeout (e.g. 30s and 1m
for 150s). Once a heartbeat has arrived, the watcher pages (severity critical) when none
arrives for the timeout, or at once when the Watchdog is reported resolved, and resolves
the page when heartbeats resume. Without --page-routing-key-file it records the page it
would have sent. The key file is read at each send and never printed.

\b
Exit codes: 0 stopped by Ctrl-C or SIGTERM; 2 bad option; 3 cannot listen (port in use).""")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on. Beyond loopback, anyone who can reach it can read the event log.")
@click.option("--port", type=click.IntRange(0, 65535), default=9096, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--heartbeat-timeout", metavar="DURATION", default="150s", show_default=True,
              help="Page when no heartbeat has arrived for this long.")
@click.option("--page-url", metavar="URL",
              help="Where the watcher sends its PagerDuty event (default: this server's "
                   "/pagerduty/watcher/v2/enqueue).")
@click.option("--page-routing-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="File holding the routing key the watcher pages with; without it, no page is sent.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints one JSON event per line on stdout.")
def command(bind: str, port: int, heartbeat_timeout: str, page_url: str | None,
            page_routing_key_file: Path | None, fmt: str) -> None:
    """Run local stand-ins for PagerDuty, Slack and webhooks, with a heartbeat watcher, until stopped."""
    from obs.receivers.server import ReceiverServer

    timeout = seconds_option(heartbeat_timeout, "--heartbeat-timeout")
    if not timeout or timeout <= 0:
        raise InputError(f"--heartbeat-timeout: must be longer than zero, not {heartbeat_timeout!r}")
    if page_url is not None:
        _check_url(page_url)
    server = ReceiverServer(bind, port, heartbeat_timeout=timeout, page_url=page_url,
                            routing_key_file=page_routing_key_file)
    stop = threading.Event()
    with _stopped_by_signals(stop), server:
        _announce(server, timeout, page_routing_key_file is not None, page_url is None)
        seq = 0
        while not stop.is_set():
            found, seq = server.events.wait(seq, 0.5)
            _print(found, fmt)
        _print(server.events.since(seq)[0], fmt)  # what arrived while the signal was handled


def _print(events: list[dict[str, Any]], fmt: str) -> None:
    for event in events:
        click.echo(json.dumps(event, sort_keys=True, ensure_ascii=False) if fmt == "json" else _line(event))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    try:
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise InputError("--page-url: the port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("--page-url: must be an http:// or https:// URL")


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM end the loop, so the server is closed and the exit code is 0, not 130."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; an embedding caller keeps its own
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _announce(server: ReceiverServer, timeout: float, pages: bool, own_page_url: bool) -> None:
    assert server.pager is not None, "not started"
    base = server.url
    shown = server.pager.url if own_page_url else _origin(server.pager.url)
    watcher = (f"pages {shown} after {timeout:g}s without one" if pages
               else f"would page {shown} after {timeout:g}s without one (no --page-routing-key-file)")
    click.echo(f"obs receivers listening on {base}\n"
               f"  PagerDuty  POST {base}/pagerduty/NAME/v2/enqueue\n"
               f"  Slack      POST {base}/slack/NAME\n"
               f"  webhook    POST {base}/webhook/NAME\n"
               f"  heartbeat  {base}/heartbeat: {watcher}\n"
               f"  events     GET  {base}/_obs/events?since=0\n"
               "Ctrl-C stops.", err=True)


def _origin(url: str) -> str:
    """A URL without its path and credentials: a custom page URL may carry a secret in either."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{parts.scheme}://{host}{port}/…"


def _line(event: dict[str, Any]) -> str:
    from obs.receivers.events import summary

    at = datetime.fromtimestamp(event["at"]).strftime("%Y-%m-%d %H:%M:%S")
    status = "-" if event["status"] is None else str(event["status"])
    return f"{at}  {event['kind']:<9}  {event['receiver'] or '-':<16}  {status:>3}  {summary(event)}"
