"""Malformed input never crashes and never amplifies: FORMERR where a reply
is possible, a counted drop where not; the server keeps answering."""
import socket
import struct

import dnswire

ZONE = "bestchristmascard.com"


def alive(s):
    resp = dnswire.udp_exchange(s.port, dnswire.query("alive." + ZONE))
    return resp is not None and dnswire.header(resp)["an"] == 1


def test_short_packets_dropped(sinkd):
    for data in (b"", b"\x00", b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00"):
        assert dnswire.udp_exchange(sinkd.port, data, timeout=0.3) is None
    assert alive(sinkd)


def test_responses_never_answered(sinkd):
    q = dnswire.query("a." + ZONE, flags=0x8400)
    assert dnswire.udp_exchange(sinkd.port, q, timeout=0.3) is None
    assert alive(sinkd)


def test_formerr_cases(sinkd):
    hdr = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    cases = {
        "label runs past the end": hdr + b"\x3fabc",
        "compression loop": hdr + b"\xc0\x0c\x00\x01\x00\x01",
        "pointer forward": hdr + b"\xc0\x20\x00\x01\x00\x01",
        "missing qtype": hdr + b"\x01a\x00",
        "qdcount 2": dnswire.query("a." + ZONE, qdcount=2),
        "qdcount 0": struct.pack("!HHHHHH", 0x4242, 0x0100, 0, 0, 0, 0),
        "truncated OPT": dnswire.query("a." + ZONE, edns=dnswire.opt_rr()[:-3]),
        "two OPT": dnswire.query("a." + ZONE, edns=dnswire.opt_rr()) + dnswire.opt_rr(),
        "label too long": hdr + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",
    }
    for name, data in cases.items():
        if name == "two OPT":
            data = data[:10] + struct.pack("!H", 2) + data[12:]
        resp = dnswire.udp_exchange(sinkd.port, data)
        assert resp is not None, name
        h = dnswire.header(resp)
        assert h["qr"] == 1 and h["rcode"] == 1, (name, h)
        assert len(resp) <= max(len(data), 12), f"{name}: reply larger than query"
    assert alive(sinkd)


def test_other_opcodes_notimp(sinkd):
    for opcode in (2, 4, 5):  # STATUS, NOTIFY, UPDATE
        resp = dnswire.udp_exchange(sinkd.port, dnswire.query("a." + ZONE, opcode=opcode))
        assert dnswire.header(resp)["rcode"] == 4


def test_garbage_flood_then_answers(sinkd):
    import random
    rnd = random.Random(7)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(2000):
        n = rnd.randrange(0, 600)
        s.sendto(bytes(rnd.randrange(256) for _ in range(n)), ("127.0.0.1", sinkd.port))
    s.close()
    assert alive(sinkd)


def test_tcp_bad_length_closes(sinkd):
    c = socket.create_connection(("127.0.0.1", sinkd.port), timeout=2)
    c.sendall(b"\x00\x00")  # zero-length message
    assert c.recv(10) == b""
    c.close()
    c = socket.create_connection(("127.0.0.1", sinkd.port), timeout=2)
    c.sendall(b"\xff\xff" + b"x" * 100)  # longer than any query we accept
    assert c.recv(10) == b""
    c.close()
    assert alive(sinkd)
