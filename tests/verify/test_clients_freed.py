"""A verify run makes a client for every question it asks; each must be freed, and its open connection closed, as
soon as it is dropped, not when the cycle collector next runs. A Prometheus client that referred to itself kept its
keep-alive connection open until then: with collection off, a long run piled up connections until Prometheus
stopped answering."""
from __future__ import annotations

import gc
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from obs.verify import clients


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: the client's pool holds the connection open after the answer

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b'{"status": "success", "data": {"result": []}}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _connections_to(url: str) -> int:
    """This process's open TCP connections whose far end is `url`'s port: the clients' side only. The server's side
    of each (in this process too) closes when its handler thread sees the client's close, a moment later, so a count
    of all open files read too early counted those."""
    port = int(url.rsplit(":", 1)[1])
    sockets = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:   # the listing's own descriptor, closed by now
            continue
        if target.startswith("socket:["):
            sockets.add(target[len("socket:["):-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()   # sl, local address, remote address (hex ip:port), state, ..., inode (10th)
            count += int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in sockets
    return count


CLIENTS: dict[str, Callable[[str], clients.Http]] = {
    "Prometheus": lambda url: clients.Prometheus(url),
    "Prometheus with its replicas as servers (topology: ha)": lambda url: clients.Prometheus(url, servers=(url, url)),
    "Alertmanager": lambda url: clients.Alertmanager(url),
    "Jaeger": lambda url: clients.Jaeger(url),
}


@pytest.mark.parametrize("make", CLIENTS.values(), ids=list(CLIENTS))
def test_a_dropped_client_is_freed_and_its_connection_closed_without_the_cycle_collector(
        url: str, make: Callable[[str], clients.Http]) -> None:
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            client = make(url)
            client.get_json("/api/v1/query")
            if isinstance(client, clients.Prometheus):
                client.server.get_json("/api/v1/query")
            freed = weakref.ref(client)
            del client
            assert freed() is None, "the client is still alive: something refers to it in a cycle"
            assert _connections_to(url) == 0, "the client was freed, but its connection left open"
    finally:
        gc.enable()
