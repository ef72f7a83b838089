"""Hardening of `sinkd serve`: the seccomp allowlist under DNS (UDP, TCP),
HTTP, TLS, catch-all, the store and a reload; the privilege drop (root
only); no core dumps; private store files."""
import os
import re
import signal
import socket
import ssl
import stat
import time

import pytest

from conftest import run
from test_evidence import post


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return f.read()


def core_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def wait_log(s, text, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in s.logtext():
            return True
        time.sleep(0.05)
    return False


def exercise(s, tag):
    """One of everything the sinkhole serves; returns what it should store."""
    assert "status: NOERROR" in s.dig(f"{tag}.bestchristmascard.com", "A")
    assert "status: NOERROR" in s.dig(f"{tag}t.bestchristmascard.com", "A", tcp=True)
    post(s.http_port, f"/{tag}.png", f"a={tag}")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", s.tls_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="www.bestchristmascard.com") as t:
            t.sendall(b"GET /" + tag.encode() + b"tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert t.recv(100).startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", s.any_port), timeout=5) as c:
        c.sendall(b"\x00\x01garbage " + tag.encode())
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"junk " + tag.encode(), ("127.0.0.1", s.any_port))
    u.close()


def test_seccomp_serves_everything(sinkd_factory):
    s = sinkd_factory(extra="[server]\nseccomp = on\n").start()
    st = status(s.proc.pid)
    assert re.search(r"^Seccomp:\s+2$", st, re.M), st  # filter mode, every thread
    for tid in os.listdir(f"/proc/{s.proc.pid}/task"):
        assert re.search(r"^Seccomp:\s+2$", open(f"/proc/{s.proc.pid}/task/{tid}/status").read(),
                         re.M)
    exercise(s, "before")
    s.signal(signal.SIGHUP)
    assert wait_log(s, "reload: done"), s.logtext()
    exercise(s, "after")
    # The admin endpoint's threads run under the filter too.
    code, _, body = s.admin_get("/health")
    assert code == 200, body
    code, _, body = s.admin_get("/metrics")
    assert code == 200 and b"sinkd_store_ok 1" in body
    code, _, body = s.admin_get("/")
    assert code == 200
    time.sleep(0.5)
    assert s.stop() == 0
    log = s.logtext()
    assert "seccomp: system-call allowlist active" in log
    assert "[error]" not in log and "[warning]" not in log, log
    out = s.events("--format", "json", "--limit", "100").stdout
    for needle in ("/before.png", "/after.png", "beforetls", "aftertls", "garbage before",
                   "before.bestchristmascard.com", "aftert.bestchristmascard.com"):
        assert needle in out or needle.encode().hex() in out, (needle, out[:2000])
    assert run("verify", "--store", str(s.db), check=False).returncode == 0


def test_no_core_dumps_and_private_store(sinkd_factory):
    s = sinkd_factory().start()
    assert core_limit(s.proc.pid) == ["0", "0"]
    post(s.http_port, "/x.png", "a=x")
    time.sleep(0.5)
    for suffix in ("", "-wal", "-shm"):
        p = str(s.db) + suffix
        if os.path.exists(p):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    assert s.stop() == 0


def test_privilege_drop_after_bind(sinkd_factory, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("privilege drop needs root (the CI runs this as root)")
    import pwd
    nobody = pwd.getpwnam("nobody")
    # Ports below 1024 need root: bound before the drop.
    low = None
    for port in range(980, 1020):
        try:
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", port))
            probe.close()
            low = port
            break
        except OSError:
            continue
    assert low is not None
    s = sinkd_factory(extra=f"[server]\nuser = nobody\nseccomp = on\n[http]\nlisten = 127.0.0.1:{low}\n")
    s.http_port = low
    # Reload re-reads the config as nobody: let it (pytest's own 0700
    # directories up to /tmp/pytest-of-root).
    for d in [s.dir, tmp_path, *tmp_path.parents]:
        if str(d) in ("/", "/tmp"):
            break
        os.chmod(d, 0o755)
    os.chmod(s.conf, 0o644)
    s.start()
    st = status(s.proc.pid)
    uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", st, re.M).groups()
    assert all(int(u) == nobody.pw_uid for u in uid), st
    assert re.search(r"^CapEff:\s+0+$", st, re.M), st
    assert "dropped privileges to user nobody" in s.logtext()
    exercise(s, "dropped")
    s.signal(signal.SIGHUP)
    assert wait_log(s, "reload: done"), s.logtext()
    post(s.http_port, "/reloaded.png", "a=r")
    time.sleep(0.5)
    assert s.stop() == 0
    out = s.events("--format", "json").stdout
    assert "/dropped.png" in out and "/reloaded.png" in out
    assert run("verify", "--store", str(s.db), check=False).returncode == 0
