"""One local HTTP server standing in for PagerDuty, Slack, a team's webhook and a dead man's switch.

Alertmanager's real integrations are pointed here; each path answers as its vendor
would, so a notification the vendor would refuse is refused here, and every request is
kept in an event log that tests, drills and `obs receivers` read. Stdlib only, so it
runs in-process in a test or as the foreground command.

Nothing secret is printed or kept: routing keys are masked before they are logged, and
the path segments after a Slack or webhook receiver's name (where a webhook URL keeps
its secret) are never recorded.
"""
from __future__ import annotations

import errno
import json
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from obs.errors import StackError
from obs.receivers import pagerduty, slack
from obs.receivers.events import EventLog
from obs.receivers.heartbeat import Pager, Watcher

MAX_BODY = 1 << 20
# A client that sends a too-large body is answered after its body is read and thrown away, up
# to this much, so it sees the 413 rather than a reset connection; beyond it the server just closes.
MAX_DRAIN = 16 << 20
FAULTY = ("pagerduty", "slack")
MODES = ("accept", "reject")
PAGERDUTY_FAULT = "routing key rejected: obs fault injection"
SLACK_FAULT = "invalid_payload: obs fault injection"
WATCHER_PATH = "/pagerduty/watcher/v2/enqueue"

_NAME = r"(?P<receiver>[A-Za-z0-9_.-]+)"
_ROUTES = (
    (re.compile(r"/v2/enqueue"), "pagerduty", ("POST",)),
    (re.compile(rf"/pagerduty/{_NAME}/v2/enqueue"), "pagerduty", ("POST",)),
    (re.compile(rf"/slack/{_NAME}(?:/.*)?"), "slack", ("POST",)),
    (re.compile(rf"/webhook/{_NAME}(?:/.*)?"), "webhook", ("POST",)),
    (re.compile(r"/heartbeat"), "heartbeat", ("GET", "POST")),
    (re.compile(r"/-/healthy"), "healthy", ("GET",)),
    (re.compile(r"/_obs/events"), "events", ("GET",)),
    (re.compile(r"/_obs/faults"), "faults", ("GET", "POST")),
)
RECORDED = ("pagerduty", "slack", "webhook", "heartbeat")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def text(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, message.encode(), headers=headers)


def as_json(status: int, doc: object) -> Response:
    return Response(status, json.dumps(doc).encode(), "application/json")


def route(path: str) -> tuple[str, tuple[str, ...], str | None] | None:
    """(kind, allowed methods, receiver name) for a request path, or None for an unknown path."""
    for pattern, kind, methods in _ROUTES:
        m = pattern.fullmatch(path)
        if m:
            return kind, methods, m.groupdict().get("receiver")
    return None


class ReceiverServer:
    def __init__(self, bind: str = "127.0.0.1", port: int = 9096, *, heartbeat_timeout: float = 150.0,
                 page_url: str | None = None, routing_key_file: Path | None = None,
                 check_interval: float | None = 1.0, clock: Callable[[], float] = time.time):
        """`check_interval=None` runs no timer: the caller drives the watcher with `check_watcher()`."""
        if check_interval is not None and check_interval <= 0:
            raise ValueError("check_interval must be positive (or None for no timer)")
        self.bind, self.requested_port = bind, port
        self.events = EventLog()
        self.watcher = Watcher(heartbeat_timeout)
        self.faults = dict.fromkeys(FAULTY, "accept")
        self.check_interval = check_interval
        self.clock = clock
        self._page_url, self._routing_key_file = page_url, routing_key_file
        self.pager: Pager | None = None
        self._httpd: _HTTPServer | None = None
        self._stopping = threading.Event()
        self._timer: threading.Thread | None = None
        self._paging = threading.Lock()

    # -- lifecycle

    def start(self) -> ReceiverServer:
        try:
            family = socket.getaddrinfo(self.bind or None, self.requested_port, type=socket.SOCK_STREAM,
                                        flags=socket.AI_PASSIVE)[0][0]
            self._httpd = _HTTPServer((self.bind, self.requested_port), _handler(self), family)
        except OSError as e:
            hint = (" Is another `obs receivers` (or another program) using the port? Stop it, or choose "
                    "another with --port." if e.errno == errno.EADDRINUSE else "")
            raise StackError(f"obs receivers cannot listen on {self.bind}:{self.requested_port}: "
                             f"{e.strerror or e}.{hint}") from None
        self.pager = Pager(self._page_url or self.url + WATCHER_PATH, self._routing_key_file)
        self._stopping.clear()
        # shutdown() waits up to one poll interval for the loop to notice; 0.1s keeps Ctrl-C and teardown prompt.
        _spawn(partial(self._httpd.serve_forever, poll_interval=0.1), "obs-receivers-http")
        if self.check_interval is not None:
            self._timer = _spawn(self._tick, "obs-receivers-watcher")
        return self

    def stop(self) -> None:
        self._stopping.set()
        # The timer first: a page it is sending to this very server must still be answered, not
        # left waiting on a closed socket until the pager's timeout.
        if self._timer is not None:
            self._timer.join()
            self._timer = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port listened on: the one asked for, or the one the system chose for port 0."""
        assert self._httpd is not None, "not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Where a client on this host reaches the server (a wildcard bind is reached on loopback)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.bind, self.bind)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- the dead man's switch

    def _tick(self) -> None:
        while not self._stopping.wait(self.check_interval):
            try:
                self.check_watcher()
            except Exception as e:  # a timer thread that died silently would be a switch that never trips
                self.events.record("watcher", self.watcher.name, None, None,
                                   [f"internal error: {type(e).__name__}: {e}"])

    def check_watcher(self) -> dict[str, Any] | None:
        """One check: send the page the watcher asks for, and return its event (None when nothing to send)."""
        assert self.pager is not None, "not started"
        with self._paging:  # one send at a time, so a slow page URL cannot produce two pages
            action = self.watcher.check(self.clock())
            if action is None:
                return None
            result = self.pager.send(action)
            if result.settled:
                self.watcher.confirm(action)
            return self.events.record("watcher", self.watcher.name, result.status, result.event, result.errors)

    # -- requests

    def respond(self, method: str, target: str, body: bytes | None) -> Response:
        """The answer to one request; `body` None means it was over MAX_BODY and was not kept."""
        parts = urlsplit(target)
        found = route(parts.path)
        if found is None:
            return text(404, "not found\n")
        kind, methods, receiver = found
        if method not in methods:
            response = text(405, "method not allowed\n", headers=(("Allow", ", ".join(methods)),))
            error = f"method {method} not allowed; use {' or '.join(methods)}"
        elif body is None:
            response, error = text(413, f"request body over {MAX_BODY} bytes\n"), f"body over {MAX_BODY} bytes"
        else:
            handler: Callable[[str | None, bytes, str], Response] = getattr(self, f"_{kind}")
            return handler(receiver, body, parts.query)
        if kind in RECORDED:
            self.events.record(kind, receiver, response.status, None, [error])
        return response

    def _pagerduty(self, receiver: str | None, body: bytes, query: str) -> Response:
        status, doc, errors = pagerduty.check(body)
        if self.faults["pagerduty"] == "reject":
            status, doc, errors = pagerduty.rejected([*errors, PAGERDUTY_FAULT])
        self.events.record("pagerduty", receiver, status, _logged(body, pagerduty.masked), errors)
        return as_json(status, doc)

    def _slack(self, receiver: str | None, body: bytes, query: str) -> Response:
        status, answer = slack.check(body)
        problem = slack.problem(body)
        errors = [f"{answer}: {problem}"] if problem else []
        if self.faults["slack"] == "reject":
            status, answer = slack.REJECTED
            errors.append(SLACK_FAULT)
        self.events.record("slack", receiver, status, _logged(body), errors)
        return text(status, answer)

    def _webhook(self, receiver: str | None, body: bytes, query: str) -> Response:
        doc = _decode(body)
        if doc is _INVALID:
            self.events.record("webhook", receiver, 400, None, ["Invalid JSON"])
            return as_json(400, {"error": "invalid JSON"})
        self.events.record("webhook", receiver, 200, _logged(body), [])
        return text(200, "ok")

    def _heartbeat(self, receiver: str | None, body: bytes, query: str) -> Response:
        doc = _decode(body) if body.strip() else None
        if doc is _INVALID or (doc is not None and not isinstance(doc, dict)):
            # Neither form this path documents: say so to the sender rather than count it as a beat.
            error = "a heartbeat is an empty ping or an Alertmanager webhook payload (a JSON object)"
            self.events.record("heartbeat", None, 400, None, [error])
            return as_json(400, {"error": error})
        status = doc.get("status") if isinstance(doc, dict) else None
        self.watcher.beat(self.clock(), status if isinstance(status, str) else None)
        sender = doc.get("receiver") if isinstance(doc, dict) else None
        self.events.record("heartbeat", sender if isinstance(sender, str) else None, 200, _logged(body), [])
        return text(200, "ok")

    def _healthy(self, receiver: str | None, body: bytes, query: str) -> Response:
        return text(200, "ok")

    def _events(self, receiver: str | None, body: bytes, query: str) -> Response:
        raw = parse_qs(query).get("since", ["0"])[-1]
        try:
            since = int(raw)
        except ValueError:
            return as_json(400, {"error": f"since must be a whole number (the last answer's `next`), not {raw!r}"})
        found, nxt = self.events.since(since)
        return as_json(200, {"events": found, "next": nxt})

    def _faults(self, receiver: str | None, body: bytes, query: str) -> Response:
        if body:
            doc = _decode(body)
            if (doc is _INVALID or not isinstance(doc, dict)
                    or any(k not in FAULTY or v not in MODES for k, v in doc.items())):
                return as_json(400, {"error": "send a JSON object mapping any of " + ", ".join(FAULTY)
                                     + " to " + " or ".join(MODES)})
            self.faults.update(doc)
        return as_json(200, self.faults)


def _spawn(target: Callable[[], None], name: str) -> threading.Thread:
    # Daemon threads: an embedding process that forgets stop() still exits.
    t = threading.Thread(target=target, name=name, daemon=True)
    t.start()
    return t


_INVALID = object()


def _decode(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _INVALID


def _logged(body: bytes, mask: Callable[[object], object] = lambda doc: doc) -> object:
    """The body as the log keeps it: decoded and masked, or None when it is not JSON."""
    doc = _decode(body)
    if doc is _INVALID:
        return None
    try:
        return mask(doc)
    except RecursionError:  # nested deeper than masking can walk: keep nothing rather than risk a key
        return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], family: int):
        self.address_family = family
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer's own server_bind looks up the bind address's FQDN, which can stall on a
        # host without reverse DNS; the name is only used for CGI, which this server never runs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-request; the handler turns its own failures into a 500


def _handler(server: ReceiverServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "obs-receivers"
        timeout = 30  # a client that opens a connection and sends nothing must not hold a thread forever

        def _serve(self) -> None:
            try:
                body = self._body()
                if isinstance(body, Response):
                    response = body
                else:
                    response = server.respond(self.command, self.path, body)
            except Exception as e:  # a bug here must not take the server down, nor print a secret path
                response = text(500, f"internal error: {type(e).__name__}\n")
            self._send(response)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def _body(self) -> bytes | None | Response:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                return text(411, "send a Content-Length; chunked bodies are not accepted\n")
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0:
                    raise ValueError
            except ValueError:
                self.close_connection = True
                return text(400, "bad Content-Length\n")
            if length <= MAX_BODY:
                return self.rfile.read(length)
            self.close_connection = True
            if length <= MAX_DRAIN:
                while length > 0:
                    chunk = self.rfile.read(min(length, 1 << 16))
                    if not chunk:
                        break
                    length -= len(chunk)
            return None

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request line holds a webhook's secret path; the event log is the record

    return Handler
