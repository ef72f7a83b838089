"""TLS ClientHello capture (openssl s_client, curl), the catch-all ports
(raw sockets, curl on an odd port, UDP), and PROXY protocol v1/v2 from a
trusted peer, with assertions on what was stored."""
import json
import socket
import struct
import subprocess
import time

import pytest

import dnswire
from conftest import free_port

ZONE = "bestchristmascard.com"


def rows(s, kind):
    out = s.events("--type", kind, "--format", "json", "--limit", "100000").stdout
    return list(reversed([json.loads(l) for l in out.splitlines() if l.strip()]))


@pytest.fixture
def full(sinkd_factory):
    ports = {k: free_port() for k in ("http", "tls", "raw1", "raw2")}
    s = sinkd_factory(extra=f"""
[http]
listen = 127.0.0.1:{ports['http']}
[tls]
listen = 127.0.0.1:{ports['tls']}
[catchall]
tcp = 127.0.0.1:{ports['raw1']}
tcp = 127.0.0.1:{ports['raw2']}
udp = 127.0.0.1:{ports['raw1']}
timeout_ms = 700
""")
    s.ports = ports
    s.start()
    yield s
    s.stop()


def s_client(port, *args, data=b""):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
                          input=data, capture_output=True, timeout=20)


def test_clienthello_with_sni_then_http_inside(full):
    p = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve",
                        f"www.{ZONE}:{full.ports['tls']}:127.0.0.1",
                        f"https://www.{ZONE}:{full.ports['tls']}/inside.png", "-d", "a=1"],
                       capture_output=True, timeout=30)
    assert p.returncode == 0
    full.stop()
    [t] = rows(full, "tls")
    assert t["sni"] == f"www.{ZONE}" and t["zone"] == ZONE
    assert t["ja3"].count(",") == 4 and len(t["ja3_md5"]) == 32
    assert t["ja4"].startswith("t13d") or t["ja4"].startswith("t12d")
    assert "handshake_failed" not in t["flags"]
    [h] = rows(full, "http")
    assert h["target"] == "/inside.png" and "tls" in h["flags"]
    assert h["conn_id"] == t["conn_id"]


def test_clienthello_recorded_when_handshake_fails(full):
    # The client offers only a cipher we cannot serve with our EC key.
    s_client(full.ports["tls"], "-servername", f"pinned.{ZONE}", "-tls1_2",
             "-cipher", "AES128-SHA")
    # No SNI at all, TLS 1.3.
    s_client(full.ports["tls"], "-noservername", data=b"Q\n")
    full.stop()
    t = rows(full, "tls")
    assert len(t) == 2
    assert t[0]["sni"] == f"pinned.{ZONE}" and "handshake_failed" in t[0]["flags"]
    # AES128-SHA = 0x002f; OpenSSL adds the renegotiation SCSV (0x00ff) to a
    # TLS 1.2 hello, and JA3 keeps it (docs/tls-fingerprints.md).
    assert t[0]["ja3"].split(",")[1] in ("47", "47-255")
    assert t[1]["sni"] in ("", None)


def test_client_aborts_and_garbage_on_tls_port(full):
    c = socket.create_connection(("127.0.0.1", full.ports["tls"]), timeout=5)
    c.sendall(b"\x16\x03\x01\x00\x05\x01\x00")  # a ClientHello cut short
    c.close()
    c = socket.create_connection(("127.0.0.1", full.ports["tls"]), timeout=5)
    c.sendall(b"\x00\x01\x02garbage")
    try:
        c.recv(100)  # the server closes (an alert or nothing)
    except ConnectionResetError:
        pass
    c.close()
    time.sleep(0.3)
    full.stop()
    t = rows(full, "tls")
    assert len(t) == 2 and all("handshake_failed" in r["flags"] for r in t)
    assert bytes.fromhex(t[1]["raw_hex"]).startswith(b"\x00\x01\x02garbage")


def test_catchall_tcp_records_first_bytes_and_sniffs(full):
    c = socket.create_connection(("127.0.0.1", full.ports["raw1"]), timeout=5)
    c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
    c.close()
    c = socket.create_connection(("127.0.0.1", full.ports["raw2"]), timeout=5)
    c.sendall(b"\x05\x01\x00")  # SOCKS5 greeting, then silence: timeout
    assert c.recv(10) == b""
    c.close()
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        f"http://127.0.0.1:{full.ports['raw2']}/odd-port"], capture_output=True,
                       timeout=30)
    assert p.stdout == b"200"  # HTTP on a catch-all port is answered
    full.stop()
    raw = rows(full, "raw")
    assert [r["proto"] for r in raw] == ["ssh", "socks5"]
    assert bytes.fromhex(raw[0]["raw_hex"]) == b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n"
    assert "timeout" in raw[1]["flags"]
    assert raw[0]["dst"].endswith(f":{full.ports['raw1']}")
    [h] = rows(full, "http")
    assert h["target"] == "/odd-port" and h["dst"].endswith(f":{full.ports['raw2']}")


def test_catchall_udp_recorded_never_answered(full):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(0.5)
    u.sendto(dnswire.query("udp." + ZONE), ("127.0.0.1", full.ports["raw1"]))
    u.sendto(b"\xde\xad\xbe\xef" * 10, ("127.0.0.1", full.ports["raw1"]))
    with pytest.raises(socket.timeout):
        u.recvfrom(100)
    u.close()
    time.sleep(0.2)
    full.stop()
    raw = [r for r in rows(full, "raw") if r["transport"] == "udp"]
    assert [r["proto"] for r in raw] == ["dns", "binary"]
    assert bytes.fromhex(raw[1]["raw_hex"]) == b"\xde\xad\xbe\xef" * 10


def v2_header(src, sport, dst, dport, proto=0x11):
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, proto]) + struct.pack("!H", 12) +
            socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport))


def test_proxy_protocol_from_trusted_peer(sinkd_factory):
    hp = free_port()
    s = sinkd_factory(extra=f"""
[dns]
proxy_protocol = yes
[http]
listen = 127.0.0.1:{hp}
proxy_protocol = yes
[proxy]
trusted = 127.0.0.2
""").start()
    try:
        # HTTP via PROXY v1 from the trusted balancer at 127.0.0.2.
        c = socket.socket()
        c.bind(("127.0.0.2", 0))
        c.connect(("127.0.0.1", hp))
        c.sendall(b"PROXY TCP4 198.51.100.7 203.0.113.9 40000 80\r\n"
                  b"GET /via-v1 HTTP/1.1\r\nHost: p." + ZONE.encode() + b"\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 200")
        c.close()
        # HTTP via PROXY v2.
        c = socket.socket()
        c.bind(("127.0.0.2", 0))
        c.connect(("127.0.0.1", hp))
        c.sendall(v2_header("198.51.100.8", 41000, "203.0.113.9", 80) + b"GET /via-v2 HTTP/1.1\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 200")
        c.close()
        # The same header from an untrusted peer is refused.
        c = socket.create_connection(("127.0.0.1", hp), timeout=5)
        c.sendall(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET /spoof HTTP/1.1\r\n\r\n")
        try:
            assert c.recv(100) == b""
        except ConnectionResetError:
            pass
        c.close()
        # DNS over UDP with a v2 header, from the trusted peer.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.2", 0))
        u.settimeout(2)
        u.sendto(v2_header("198.51.100.9", 5300, "127.0.0.1", s.port, 0x12) +
                 dnswire.query("via-proxy." + ZONE), ("127.0.0.1", s.port))
        assert dnswire.header(u.recvfrom(4096)[0])["an"] == 1
        u.close()
    finally:
        s.stop()
    http = rows(s, "http")
    assert [(r["target"], r["src"]) for r in http] == [("/via-v1", "198.51.100.7:40000"),
                                                      ("/via-v2", "198.51.100.8:41000")]
    assert all(r["proxy"].startswith("127.0.0.2:") and "proxied" in r["flags"] for r in http)
    dns = s.events("--domain", ZONE, "--format", "json").stdout
    assert "198.51.100.9" in dns
    log = s.logtext()
    assert "PROXY 2 applied, 0 bad, 1 untrusted" in log  # capture: HTTP
    assert "PROXY 1 applied, 0 bad, 0 untrusted" in log  # DNS


def test_x_forwarded_for_only_from_trusted(sinkd_factory):
    hp = free_port()
    s = sinkd_factory(extra=f"[http]\nlisten = 127.0.0.1:{hp}\n[proxy]\ntrusted = 127.0.0.2\n").start()
    try:
        for bind in ("127.0.0.2", "127.0.0.1"):
            c = socket.socket()
            c.bind((bind, 0))
            c.connect(("127.0.0.1", hp))
            c.sendall(b"GET /xff-" + bind.encode() + b" HTTP/1.1\r\n"
                      b"X-Forwarded-For: 10.9.9.9, 198.51.100.77\r\n\r\n")
            assert c.recv(100).startswith(b"HTTP/1.1 200")
            c.close()
    finally:
        s.stop()
    trusted, untrusted = rows(s, "http")
    assert trusted["src"] == "198.51.100.77:0" and "proxied" in trusted["flags"]
    assert trusted["proxy"].startswith("127.0.0.2:")
    assert untrusted["src"].startswith("127.0.0.1:") and "proxied" not in untrusted["flags"]


def test_tls_on_a_catchall_port_is_parsed_fully(full):
    p = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve",
                        f"odd.{ZONE}:{full.ports['raw1']}:127.0.0.1",
                        f"https://odd.{ZONE}:{full.ports['raw1']}/tls-odd-port"],
                       capture_output=True, timeout=30)
    assert p.returncode == 0
    full.stop()
    [t] = rows(full, "tls")
    assert t["sni"] == f"odd.{ZONE}" and len(t["ja3_md5"]) == 32
    assert t["dst"].endswith(f":{full.ports['raw1']}")
    [h] = rows(full, "http")
    assert h["target"] == "/tls-odd-port" and "tls" in h["flags"]
    assert rows(full, "raw") == []
