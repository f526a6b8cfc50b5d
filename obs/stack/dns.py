"""The native `ha` stack's name server: one name, the collector gateways' addresses, over DNS.

Why a name server: the agent collector reaches its gateways as gRPC does behind a Kubernetes headless Service
or a compose network alias, with `dns://` resolution and the `round_robin` balancer, which sends only to
gateways whose connection is up. So a dead gateway is failed over to at once, by the collector's own gRPC
client, with nothing else in between. On one machine the gateways listen on the same port of different loopback
addresses (127.0.0.1, 127.0.0.2, ...: all of 127/8 is loopback on Linux), and this server answers the one name
with all of them. It answers A queries for that name, an empty answer for its other types, and NXDOMAIN for
any other name: it is nobody's resolver, and binds where the rest of the stack does.

Run as `python -m obs.stack.dns --bind 127.0.0.1 --port N --health-port M --name NAME --address A ...`;
`GET /-/healthy` on the health port answers 200 while it serves.
"""
from __future__ import annotations

import argparse
import ipaddress
import signal
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

A, CLASS_IN = 1, 1
NXDOMAIN, FORMERR = 3, 1
TTL_S = 5          # short: a restarted stack may move the gateways
MAX_QUERY = 512


class BadQuery(ValueError):
    pass


def _question(packet: bytes) -> tuple[str, int, int, int]:
    """(lower-case name without the final dot, qtype, qclass, end offset of the question)."""
    if len(packet) < 12:
        raise BadQuery("shorter than a header")
    labels, i = [], 12
    while True:
        if i >= len(packet):
            raise BadQuery("name runs past the packet")
        n = packet[i]
        if n & 0xC0:
            raise BadQuery("a compressed name in a question")
        i += 1
        if n == 0:
            break
        labels.append(packet[i:i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(packet):
        raise BadQuery("question truncated")
    qtype, qclass = struct.unpack("!HH", packet[i:i + 4])
    return ".".join(labels).lower(), qtype, qclass, i + 4


def answer(packet: bytes, name: str, addresses: list[str]) -> bytes | None:
    """The response to one query; None for what is not a query at all (too short to answer)."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000:          # a response, not a query: never answer it
        return None
    rd = flags & 0x0100
    try:
        if qdcount != 1:
            raise BadQuery("one question per query")
        qname, qtype, qclass, end = _question(packet)
    except BadQuery:
        return struct.pack("!HHHHHH", ident, 0x8000 | rd | FORMERR, 0, 0, 0, 0)
    question = packet[12:end]
    if qname != name.rstrip(".").lower():
        return struct.pack("!HHHHHH", ident, 0x8400 | rd | NXDOMAIN, 1, 0, 0, 0) + question
    records = b""
    count = 0
    if qtype == A and qclass == CLASS_IN:
        for address in addresses:
            # 0xC00C: the name at offset 12, the question's.
            records += struct.pack("!HHHIH", 0xC00C, A, CLASS_IN, TTL_S, 4) + socket.inet_aton(address)
            count += 1
    return struct.pack("!HHHHHH", ident, 0x8400 | rd, 1, count, 0, 0) + question + records


def serve(bind: str, port: int, name: str, addresses: list[str], stop: threading.Event) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((bind, port))
        sock.settimeout(0.5)
        while not stop.is_set():
            try:
                packet, peer = sock.recvfrom(MAX_QUERY)
            except TimeoutError:
                continue
            reply = answer(packet, name, addresses)
            if reply is not None:
                sock.sendto(reply, peer)


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        ok = self.path == "/-/healthy"
        body = b"ok\n" if ok else b"not found\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass


def _address(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text}") from e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m obs.stack.dns", description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--health-port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--address", type=_address, action="append", required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    health = ThreadingHTTPServer((args.bind, args.health_port), _Health)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    print(f"answering {args.name} with {', '.join(args.address)} on {args.bind}:{args.port}/udp", flush=True)
    try:
        serve(args.bind, args.port, args.name, args.address, stop)
    finally:
        health.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
