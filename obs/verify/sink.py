"""The webhook sink Alertmanager delivers probe alerts (and drill pages) to: proof that a receiver got them.

Alertmanager's API shows an alert as received; only a receiver obs controls shows it
was delivered. Every POST is kept with its arrival time; probes wait for the one
carrying their labels.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from obs.errors import StackError
from obs.model import conventions as c

PATH = c.VERIFY_SINK_PATH
KEEP = 1000


@dataclass(frozen=True)
class Delivery:
    at: float                       # time.monotonic() on arrival
    receiver: str
    status: str                     # firing | resolved
    alerts: tuple[dict[str, Any], ...]   # each with labels, annotations, status


class Sink:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Sink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    doc = json.loads(body or b"{}")
                except ValueError:
                    doc = {}
                self.send_response(200)
                self.end_headers()
                sink._record(doc)

            def log_message(self, *args: object) -> None:
                pass  # Alertmanager's posts are not the user's business unless a probe fails

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as e:
            raise StackError(f"the verify webhook sink cannot listen on {self.host}:{self.port}: {e.strerror}. "
                             "Is `obs verify --watch` (or another verify) already running? Stop it, or set "
                             "stack.ports.verify_sink to a free port and run `obs generate`.") from None
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="obs-verify-sink", daemon=True).start()
        return self

    def _record(self, doc: dict[str, Any]) -> None:
        alerts = tuple(a for a in doc.get("alerts") or [] if isinstance(a, dict))
        d = Delivery(time.monotonic(), str(doc.get("receiver", "")), str(doc.get("status", "")), alerts)
        with self._changed:
            self.deliveries.append(d)
            # `obs verify --watch` runs for weeks; a probe only ever looks at the last few deliveries.
            del self.deliveries[:-KEEP]
            self._changed.notify_all()

    def find(self, match: Callable[[dict[str, Any]], bool], since: float = 0.0,
             status: str = "firing") -> Delivery | None:
        with self._changed:
            for d in self.deliveries:
                if d.at >= since and any(match(a) and a.get("status", status) == status for a in d.alerts):
                    return d
        return None

    def wait(self, match: Callable[[dict[str, Any]], bool], timeout: float, since: float = 0.0,
             stop: threading.Event | None = None) -> Delivery | None:
        """The first firing delivery with an alert matching `match`, woken by arrival rather than polled."""
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.find(match, since)
                left = end - time.monotonic()
                if found or left <= 0 or (stop is not None and stop.is_set()):
                    return found
                self._changed.wait(min(left, 0.1))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def labels_match(**want: str) -> Callable[[dict[str, Any]], bool]:
    return lambda alert: all((alert.get("labels") or {}).get(k) == v for k, v in want.items())
