"""`sinkd events --pseudonymise`: every address is a keyed pseudonym
(HMAC-SHA-256 of the 16 address bytes, checked here independently with
Python's hmac), the same address always gives the same token under one key
and another under another key, and headers and first bytes (which can carry
addresses, e.g. X-Forwarded-For) are left out."""
import hashlib
import hmac
import ipaddress
import json
import time

from conftest import run
from test_evidence import post


def token(key_hex, ip):
    a = ipaddress.ip_address(ip)
    raw = (a.ipv4_mapped or a).packed if a.version == 6 else b"\0" * 10 + b"\xff\xff" + a.packed
    if a.version == 6 and a.ipv4_mapped is None:
        raw = raw[:8] + b"\0" * 8
    return "anon-" + hmac.new(bytes.fromhex(key_hex), raw, hashlib.sha256).hexdigest()[:16]


def test_pseudonymised_events(sinkd_factory, tmp_path):
    key = tmp_path / "pseudo.key"
    run("keygen", "--pseudonym-key", "--out", str(key))
    s = sinkd_factory(extra=f"[privacy]\nkey = {key}\n").start()
    for i in range(3):
        post(s.http_port, f"/p{i}.png", f"a={i}")
    s.dig("x.bestchristmascard.com")
    time.sleep(0.5)
    assert s.stop() == 0

    clear = s.events("--format", "json").stdout
    assert "127.0.0.1" in clear

    out = run("events", "-c", str(s.conf), "--format", "json", "--pseudonymise").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4  # 3 HTTP check-ins and the DNS query's aggregate
    want = token(key.read_text().strip(), "127.0.0.1")
    for r in rows:
        assert r["src"] == want or r["src"].startswith(want + ":"), r["src"]
        if r["kind"] == "http":
            assert r["headers"] is None and r["raw_hex"] is None
            assert r["user_agent"] == "Mozilla"  # other fields stay
    assert "127.0.0.1" not in out

    table = run("events", "--db", str(s.db), f"--pseudonymise={key}").stdout
    assert want in table and "127.0.0.1" not in table

    other = tmp_path / "other.key"
    run("keygen", "--pseudonym-key", "--out", str(other))
    out2 = run("events", "--db", str(s.db), "--format", "csv", f"--pseudonymise={other}").stdout
    assert want not in out2 and token(other.read_text().strip(), "127.0.0.1") in out2

    p = run("events", "--db", str(s.db), "--pseudonymise", check=False)
    assert p.returncode == 2 and "needs a key" in p.stderr
    bad = tmp_path / "bad.key"
    bad.write_text("xyz\n")
    p = run("events", "--db", str(s.db), f"--pseudonymise={bad}", check=False)
    assert p.returncode == 1 and "expected 64 hex digits" in p.stderr
