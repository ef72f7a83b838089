"""HTTP check-ins captured in full and answered inertly, checked with curl,
wget and raw sockets; assertions on what was stored, field by field."""
import hashlib
import json
import socket
import sqlite3
import subprocess
import time

import pytest

ZONE = "bestchristmascard.com"


def http_rows(s):
    out = s.events("--type", "http", "--format", "json", "--limit", "100000").stdout
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    return list(reversed(rows))  # oldest first


def body_of(s, sha256_hex):
    db = sqlite3.connect(f"file:{s.db}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT data FROM bodies WHERE sha256 = ?",
                         (bytes.fromhex(sha256_hex),)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def curl(s, *args, input=None):
    return subprocess.run(["curl", "-s", "-S", "--max-time", "10", *args], capture_output=True,
                          timeout=30, input=input)


@pytest.fixture
def web(sinkd_factory):
    from conftest import free_port
    port = free_port()
    s = sinkd_factory(extra=f"[http]\nlisten = 127.0.0.1:{port}\n")
    s.http_port = port
    s.start()
    yield s
    s.stop()


def url(s, path="/"):
    return f"http://127.0.0.1:{s.http_port}{path}"


def test_waledac_style_post_stored_field_by_field(web):
    body = "a=" + "QUJD" * 40 + "&b=" + "eHl6" * 10
    p = curl(web, "-i", url(web, "/qwxmtz.png"), "-H", f"Host: www.{ZONE}", "-A", "Mozilla",
             "-e", "Mozilla", "-H", "Content-Type: application/x-www-form-urlencoded",
             "--data-binary", body)
    assert p.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 0\r\n" in p.stdout
    web.stop()
    [r] = http_rows(web)
    assert r["method"] == "POST" and r["target"] == "/qwxmtz.png"
    assert r["http_version"] == "1.1" and r["status"] == 200
    assert r["host"] == f"www.{ZONE}" and r["zone"] == ZONE
    assert r["user_agent"] == "Mozilla" and r["referer"] == "Mozilla"
    assert r["src"].startswith("127.0.0.1:")
    headers = r["headers"].split("\r\n")
    assert headers[0] == f"Host: www.{ZONE}"
    assert "Content-Type: application/x-www-form-urlencoded" in headers
    assert r["body_len"] == len(body) and r["body_stored"] == len(body)
    assert r["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    assert body_of(web, r["body_sha256"]) == body.encode()
    assert "body_truncated" not in r["flags"]


def test_keepalive_reuses_connection_and_links_requests(web):
    p = curl(web, "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
             url(web, "/1"), url(web, "/2"), url(web, "/3"), "-w", "%{num_connects}\n")
    assert p.stdout.split() == [b"1", b"0", b"0"]
    web.stop()
    rows = http_rows(web)
    assert [r["target"] for r in rows] == ["/1", "/2", "/3"]
    assert len({r["conn_id"] for r in rows}) == 1
    assert rows[0]["zone"] == ""  # Host is an address: by IP


def test_http10_and_pipelining_raw(web):
    c = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    reqs = b"".join(b"GET /p%d HTTP/1.1\r\nHost: p.%s\r\n\r\n" % (i, ZONE.encode())
                    for i in range(20))
    c.sendall(reqs)
    got = b""
    while got.count(b"HTTP/1.1 200") < 20:
        chunk = c.recv(65536)
        assert chunk
        got += chunk
    c.close()
    c = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    c.sendall(b"GET /old HTTP/1.0\r\n\r\n")
    resp = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break  # HTTP/1.0 without keep-alive: server closes
        resp += chunk
    assert b"Connection: close" in resp
    c.close()
    web.stop()
    rows = http_rows(web)
    assert [r["target"] for r in rows[:20]] == [f"/p{i}" for i in range(20)]
    assert rows[20]["target"] == "/old" and rows[20]["http_version"] == "1.0"
    assert rows[20]["host"] == ""


def test_chunked_upload_and_large_body_truncated(web):
    big = bytes(range(256)) * 1024  # 256 KiB > 64 KiB bound
    p = curl(web, url(web, "/up"), "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
             "-o", "/dev/null", "-w", "%{http_code}", input=big)
    assert p.stdout == b"200"
    p = curl(web, url(web, "/up2"), "--data-binary", "hello", "-o", "/dev/null",
             "-w", "%{http_code}")
    assert p.stdout == b"200"
    web.stop()
    r1, r2 = http_rows(web)
    assert r1["body_len"] == len(big) and r1["body_stored"] == 65536
    assert "body_truncated" in r1["flags"]
    assert body_of(web, r1["body_sha256"]) == big[:65536]
    assert r2["body_stored"] == 5 and body_of(web, r2["body_sha256"]) == b"hello"


def test_bodies_deduplicated(web):
    for _ in range(5):
        curl(web, url(web, "/same"), "--data-binary", "repeated-checkin", "-o", "/dev/null")
    web.stop()
    rows = http_rows(web)
    assert len(rows) == 5 and len({r["body_sha256"] for r in rows}) == 1
    db = sqlite3.connect(f"file:{web.db}?mode=ro", uri=True)
    assert db.execute("SELECT count(*) FROM bodies").fetchone()[0] == 1
    db.close()


def test_any_method_and_absolute_form(web):
    for m in ("PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"):
        assert curl(web, "-X", m, url(web, "/m"), "-o", "/dev/null", "-w",
                    "%{http_code}").stdout == b"200"
    c = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    c.sendall(b"GET http://proxied." + ZONE.encode() + b"/x?id=1 HTTP/1.1\r\n\r\n")
    assert c.recv(4096).startswith(b"HTTP/1.1 200")
    c.close()
    p = curl(web, "-I", url(web, "/head"))
    assert p.stdout.startswith(b"HTTP/1.1 200") and p.stdout.endswith(b"\r\n\r\n")
    web.stop()
    rows = http_rows(web)
    assert [r["method"] for r in rows[:5]] == ["PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"]
    assert rows[5]["target"] == f"http://proxied.{ZONE}/x?id=1"
    assert rows[6]["method"] == "HEAD"


def test_wget(web):
    p = subprocess.run(["wget", "-q", "-O", "-", "--post-data=k=v", url(web, "/w")],
                       capture_output=True, timeout=30)
    assert p.returncode == 0
    web.stop()
    [r] = http_rows(web)
    assert r["user_agent"].startswith("Wget/") and r["method"] == "POST"


def test_not_http_recorded_and_closed(web):
    c = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    junk = b"\x16\x03\x01\x00\xa5garbage-that-is-not-http\x00\x01"
    c.sendall(junk)
    assert c.recv(100) == b""  # closed without a reply
    c.close()
    web.stop()
    [r] = http_rows(web)
    assert "not_http" in r["flags"]
    assert bytes.fromhex(r["raw_hex"]) == junk


def test_malformed_gets_400_and_huge_headers_431(web):
    c = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    c.sendall(b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n")
    assert c.recv(4096).startswith(b"HTTP/1.1 400")
    c.close()
    c = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    c.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    resp = c.recv(4096)
    assert resp.startswith(b"HTTP/1.1 431")
    c.close()
    web.stop()
    rows = http_rows(web)
    assert rows[0]["status"] == 400 and "malformed" in rows[0]["flags"]
    assert rows[1]["status"] == 431 and "headers_truncated" in rows[1]["flags"]


def test_slow_client_times_out_and_is_recorded(sinkd_factory):
    from conftest import free_port
    port = free_port()
    s = sinkd_factory(extra=f"[http]\nlisten = 127.0.0.1:{port}\n"
                            "[capture]\nrequest_timeout_ms = 800\n").start()
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        t0 = time.time()
        cut = False
        # The trickle (28 bytes, 1.4 s) outlasts the 800 ms request timeout:
        # the server cuts the connection while we are still sending.
        for b in b"GET /slow HTTP/1.1\r\nHost: s":
            try:
                c.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            time.sleep(0.05)
        if not cut:
            try:
                assert c.recv(10) == b""  # cut after the request timeout
            except ConnectionResetError:
                pass
        assert 0.7 < time.time() - t0 < 4
        c.close()
    finally:
        s.stop()
    [r] = http_rows(s)
    assert r["target"] == "/slow" and "timeout" in r["flags"]


def test_ten_thousand_idle_connections_do_not_block_checkins(web):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 12000:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < 12000")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 12000), hard))
    idle = []
    try:
        # From 40 other addresses (250 each, under max_per_source), like a
        # slowloris botnet; the check-in comes from 127.0.0.1.
        for i in range(10000):
            c = socket.socket()
            c.bind((f"127.0.1.{1 + i % 40}", 0))
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", web.http_port))
            idle.append(c)
        time.sleep(0.5)
        t0 = time.time()
        p = curl(web, url(web, "/after-flood"), "-H", f"Host: x.{ZONE}", "-o", "/dev/null",
                 "-w", "%{http_code}")
        assert p.stdout == b"200"
        assert time.time() - t0 < 5
    finally:
        for c in idle:
            c.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    web.stop()
    assert any(r["target"] == "/after-flood" for r in http_rows(web))
