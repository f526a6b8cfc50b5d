"""obs/stack/dns.py: the `ha` stack's name server answers one name with the gateways' addresses, and nothing else.

The collector's gRPC resolver is the client that matters; tests/e2e/test_ha_faults.py proves it resolves through
this server and fails over. These pin down the wire format against hand-built queries, as Go's resolver sends
them (one question, recursion desired, an EDNS0 OPT record in the additional section).
"""
from __future__ import annotations

import socket
import struct
import threading

import pytest

from obs.stack import dns

NAME = "otelcol-gateway.obs.internal"
ADDRESSES = ["127.0.0.1", "127.0.0.2"]
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"   # EDNS0, 1232-byte payload


def query(name: str, qtype: int, ident: int = 0x1234, flags: int = 0x0100, opt: bool = True) -> bytes:
    qname = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", ident, flags, 1, 0, 0, int(opt)) + qname + struct.pack("!HH", qtype, 1) + \
        (OPT if opt else b"")


def parse(reply: bytes) -> tuple[int, int, int, list[str]]:
    """(id, rcode, question count, A addresses) of a response."""
    ident, flags, qd, an = struct.unpack("!HHHH", reply[:8])
    i = 12
    for _ in range(qd):
        while reply[i]:
            i += reply[i] + 1
        i += 5
    addresses = []
    for _ in range(an):
        _, rtype, _, _, length = struct.unpack("!HHHIH", reply[i:i + 12])
        assert rtype == dns.A and length == 4
        addresses.append(socket.inet_ntoa(reply[i + 12:i + 16]))
        i += 12 + length
    assert i == len(reply), "trailing bytes"
    assert flags & 0x8000, "not marked as a response"
    return ident, flags & 0xF, qd, addresses


@pytest.mark.parametrize("asked,qtype,expected", [
    (NAME, dns.A, (0, ADDRESSES)),
    ("OTELCOL-Gateway.obs.internal", dns.A, (0, ADDRESSES)),      # names compare case-insensitively
    (NAME, 28, (0, [])),                                          # AAAA: the name exists, with no IPv6 address
    (NAME, 16, (0, [])),                                          # TXT: gRPC's service-config lookup
    ("example.com", dns.A, (dns.NXDOMAIN, [])),                   # nobody's resolver
    ("otelcol-gateway.obs", dns.A, (dns.NXDOMAIN, [])),
], ids=["its name lists every gateway", "in any case", "AAAA is empty", "TXT is empty",
        "another name does not exist", "a shorter name does not exist"])
def test_each_query_gets_its_answer_with_its_id_and_question(asked, qtype, expected):
    ident, rcode, qd, addresses = parse(dns.answer(query(asked, qtype), NAME, ADDRESSES))
    assert (ident, qd, (rcode, addresses)) == (0x1234, 1, expected)


def test_what_is_not_a_query_gets_no_answer_or_a_format_error():
    assert dns.answer(b"\x00\x01", NAME, ADDRESSES) is None                          # too short for a header
    assert dns.answer(query(NAME, dns.A, flags=0x8100), NAME, ADDRESSES) is None    # a response: never answered
    truncated = query(NAME, dns.A, opt=False)[:-3]
    assert parse(dns.answer(truncated, NAME, ADDRESSES))[1] == dns.FORMERR
    two = bytearray(query(NAME, dns.A))
    two[5] = 2
    assert parse(dns.answer(bytes(two), NAME, ADDRESSES))[1] == dns.FORMERR


def test_the_server_answers_over_udp_until_stopped():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    server = threading.Thread(target=dns.serve, args=("127.0.0.1", port, NAME, ADDRESSES, stop), daemon=True)
    server.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            for _ in range(50):   # the server may not have bound yet
                client.sendto(query(NAME, dns.A), ("127.0.0.1", port))
                try:
                    reply, _ = client.recvfrom(512)
                    break
                except (TimeoutError, ConnectionRefusedError):
                    continue
            assert parse(reply)[3] == ADDRESSES
    finally:
        stop.set()
        server.join(5)
    assert not server.is_alive()
