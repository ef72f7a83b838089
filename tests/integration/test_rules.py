"""Family rules end to end: `sinkd serve` with the shipped rules labels and
decodes real HTTP check-ins (curl and raw sockets), `sinkd events` shows
the labels and filters by family, `sinkd rules check` gives file:line
errors, and SIGHUP swaps the rule set (a broken file keeps the old one)."""
import base64
import csv
import io
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import run

ZONE = "bestchristmascard.com"
RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
BOT = "0123456789abcdef0123456789abcdef"


def waledac_body(msg_type=0x02, command="notify", version="2", bot=BOT):
    """A Waledac check-in body built here from the public facts (not by
    sinkd's own builder): XML, AES-128-CBC with a zero IV, envelope of type
    byte + be32 plaintext length, URL-safe base64 without padding."""
    xml = f"<lm><t>{command}</t><v>{version}</v><i>{bot}</i></lm>".encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(xml) + padder.finalize()
    enc = Cipher(algorithms.AES(KEY), modes.CBC(bytes(16))).encryptor()
    ct = enc.update(padded) + enc.finalize()
    env = bytes([msg_type]) + len(xml).to_bytes(4, "big") + ct
    a = base64.urlsafe_b64encode(env).rstrip(b"=").decode()
    return f"a={a}&b=" + base64.urlsafe_b64encode(b"extra").rstrip(b"=").decode()


def curl(*args):
    return subprocess.run(["curl", "-s", "-S", "--max-time", "10", *args], capture_output=True,
                          timeout=30)


def raw_request(port, data: bytes):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        while c.recv(4096):
            pass


def rows(s, *args):
    out = s.events("--format", "json", "--limit", "1000", *args).stdout
    return list(reversed([json.loads(l) for l in out.splitlines() if l.strip()]))


def wait_rows(s, n, *args, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = rows(s, "--type", "http", *args)
        if len(r) >= n:
            return r
        time.sleep(0.1)
    raise AssertionError(f"expected {n} http rows, got {rows(s, '--type', 'http', *args)}")


def test_shipped_rules_label_and_decode(sinkd_factory):
    s = sinkd_factory(extra=f"[decode]\nwaledac_key = {KEY.hex()}\n").start()
    http = f"http://127.0.0.1:{s.http_port}"
    # Waledac: POST /<lowercase>.png, Referer and User-Agent "Mozilla", body a=...
    p = curl(f"{http}/qwxmtz.png", "-H", f"Host: www.{ZONE}", "-A", "Mozilla", "-e", "Mozilla",
             "-H", "Content-Type: application/x-www-form-urlencoded",
             "--data-binary", waledac_body())
    assert p.returncode == 0, p.stderr
    # Kelihos: GET / with Content-Length and the binary marker body (raw socket:
    # a GET with a body is what the bot sends, curl would not).
    body = bytes.fromhex("0102010101010201") + os.urandom(40)
    raw_request(s.http_port, b"GET / HTTP/1.1\r\nHost: 192.0.2.7\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    # Kelihos, later: GET /<word>.htm to a dotted-IP Host.
    raw_request(s.http_port, b"GET /index.htm HTTP/1.1\r\nHost: 198.51.100.23\r\n"
                b"Connection: close\r\n\r\n")
    # Generic: an id in a query parameter.
    assert curl(f"{http}/gate.php?v=3&id=bot-4711-x").returncode == 0
    # Unknown: nothing claims it.
    assert curl(f"{http}/favicon.ico").returncode == 0
    # The same Waledac headers with a GET are not a check-in.
    assert curl(f"{http}/qwxmtz.png", "-A", "Mozilla", "-e", "Mozilla").returncode == 0
    got = wait_rows(s, 6)
    assert s.stop() == 0
    by_target = {r["target"]: r for r in got}
    w = next(r for r in got if r["method"] == "POST")
    assert (w["family"], w["rule_id"], w["tag"], w["severity"]) == \
        ("waledac", "waledac-checkin", "checkin", 3)
    assert (w["msg_type"], w["proto_version"], w["bot_id"], w["decode_status"]) == \
        ("notify", "2", BOT, "ok")
    k = by_target["/"]
    assert (k["family"], k["rule_id"], k["msg_type"], k["decode_status"]) == \
        ("kelihos", "kelihos-checkin", "binary", "ok")
    h = by_target["/index.htm"]
    assert (h["family"], h["rule_id"], h["tag"]) == ("kelihos", "kelihos-htm", "checkin-htm")
    g = by_target["/gate.php?v=3&id=bot-4711-x"]
    assert (g["family"], g["rule_id"], g["bot_id"], g["decode_status"]) == \
        ("generic", "generic-id", "bot-4711-x", "ok")
    assert by_target["/favicon.ico"]["family"] == "unknown"
    assert by_target["/favicon.ico"]["rule_id"] is None
    get_png = next(r for r in got if r["target"] == "/qwxmtz.png" and r["method"] == "GET")
    assert get_png["family"] == "unknown"
    # --family filters; the table shows family, msg_type and bot id.
    assert [r["target"] for r in rows(s, "--family", "kelihos")] == ["/", "/index.htm"]
    table = s.events("--family", "waledac").stdout.splitlines()
    assert len(table) == 2 and table[1].split()[-3:] == ["waledac", "notify", BOT]
    out = s.events("--family", "generic", "--format", "csv").stdout
    [c] = list(csv.DictReader(io.StringIO(out)))
    assert (c["family"], c["rule_id"], c["tag"], c["severity"], c["bot_id"],
            c["decode_status"]) == ("generic", "generic-id", "checkin-id", "1", "bot-4711-x", "ok")
    assert "classified: 6 events, 2 unknown;" in s.logtext()


def test_waledac_without_key_is_labelled_not_decoded(sinkd):
    p = curl(f"http://127.0.0.1:{sinkd.http_port}/abc.png", "-A", "Mozilla", "-e", "Mozilla",
             "--data-binary", waledac_body(msg_type=0xFF, command="getkey"))
    assert p.returncode == 0
    [r] = wait_rows(sinkd, 1)
    assert (r["family"], r["msg_type"], r["bot_id"]) == ("waledac", "getkey", None)
    assert r["decode_status"] == "no-key"


def test_rules_check_reports_file_line(tmp_path):
    good = run("rules", "check", *[str(p) for p in sorted(RULES_DIR.glob("*.rules"))])
    assert "rules in 3 file(s): ok" in good.stdout
    bad = tmp_path / "bad.rules"
    bad.write_text("# broken\nrule x\n  family x\n  path ~ \"(open\"\nend\n"
                   "rule y\n  family y\n  method GET\n  decoder nosuch\nend\n"
                   "rule z\n  body hex \"0\"\n  family z\nend\n")
    p = run("rules", "check", str(bad), check=False)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0].startswith(f"{bad}:4: bad regex \"(open\" at offset 5: ")
    assert lines[1] == f"{bad}:6: rule 'y': unknown decoder 'nosuch'"
    assert lines[2].startswith(f"{bad}:12: body hex \"0\": expected pairs of hex digits")
    assert len(lines) == 3
    listed = run("rules", "list").stdout
    assert "waledac-checkin" in listed and "generic param=id" in listed


RULE = """rule probe
  family {family}
  tag t
  kind http
  path = "/probe"
end
"""


def test_sighup_swaps_rules_and_bad_file_keeps_them(sinkd_factory, tmp_path):
    rules = tmp_path / "probe.rules"
    rules.write_text(RULE.format(family="alpha"))
    s = sinkd_factory(extra=f"[rules]\nfiles = {rules}\n").start()
    url = f"http://127.0.0.1:{s.http_port}/probe"
    assert curl(url).returncode == 0
    wait_rows(s, 1)
    rules.write_text(RULE.format(family="beta"))
    s.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "reload: done" not in s.logtext() and time.time() < deadline:
        time.sleep(0.05)
    assert "reload: done" in s.logtext()
    assert curl(url).returncode == 0
    wait_rows(s, 2)
    rules.write_text(RULE.format(family="gamma") + "rule broken\n  nonsense here\nend\n")
    s.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while f"{rules}:8: unknown keyword 'nonsense'" not in s.logtext() and time.time() < deadline:
        time.sleep(0.05)
    assert curl(url).returncode == 0
    got = wait_rows(s, 3)
    assert s.stop() == 0
    assert [r["family"] for r in got] == ["alpha", "beta", "beta"]
    assert f"{rules}:8: unknown keyword 'nonsense'" in s.logtext()
    assert "keeping the running state" in s.logtext()
