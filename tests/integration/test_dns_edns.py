"""EDNS0 (RFC 6891), NSID (RFC 5001), COOKIE (RFC 7873)."""
import re
import struct

import dnswire

ZONE = "bestchristmascard.com"


def opt_line(out):
    m = re.search(r"; EDNS: version: (\d+), flags:([a-z ]*); udp: (\d+)", out)
    return m and {"version": int(m.group(1)), "flags": m.group(2).split(), "udp": int(m.group(3))}


def test_opt_echoed_with_our_size_and_do(sinkd):
    out = sinkd.dig("a." + ZONE, "A", "+dnssec", "+bufsize=4096")
    opt = opt_line(out)
    assert opt == {"version": 0, "flags": ["do"], "udp": 1232}
    out = sinkd.dig("a." + ZONE, "A", "+noedns")
    assert opt_line(out) is None


def test_badvers(sinkd):
    out = sinkd.dig("a." + ZONE, "A", "+edns=1", "+noednsnegotiation")
    assert "status: BADVERS" in out
    assert "ANSWER: 0" in out
    assert opt_line(out)["version"] == 0


def test_unknown_option_ignored(sinkd):
    out = sinkd.dig("a." + ZONE, "A", "+ednsopt=65001:abcd")
    assert "status: NOERROR" in out and "127.0.0.1" in out


def test_nsid(sinkd_factory):
    s = sinkd_factory(extra="[dns]\nnsid = sinkd-test-1\n").start()
    try:
        out = s.dig("a." + ZONE, "A", "+nsid")
        assert 'NSID: 73 69 6e 6b 64 2d 74 65 73 74 2d 31 ("sinkd-test-1")' in out
    finally:
        s.stop()


def test_no_nsid_when_not_configured(sinkd):
    out = sinkd.dig("a." + ZONE, "A", "+nsid")
    assert "NSID" not in out


def test_cookie_server_part_returned(sinkd):
    out = sinkd.dig("a." + ZONE, "A", "+cookie")
    m = re.search(r"COOKIE: ([0-9a-f]+)", out)
    assert m and len(m.group(1)) > 16  # client (8 bytes) + server cookie
    assert "(good)" in out


def test_malformed_cookie_formerr(sinkd):
    bad = struct.pack("!HH", 10, 5) + b"\x01\x02\x03\x04\x05"  # 5 bytes: too short
    resp = dnswire.udp_exchange(sinkd.port, dnswire.query("a." + ZONE, 1,
                                                          edns=dnswire.opt_rr(options=bad)))
    assert resp is not None and dnswire.header(resp)["rcode"] == 1


def test_ecs_recorded(sinkd):
    out = sinkd.dig("ecs." + ZONE, "A", "+subnet=198.51.100.0/24")
    assert "127.0.0.1" in out
