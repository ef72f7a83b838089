"""Operations: sd_notify READY=1/STOPPING=1 over a NOTIFY_SOCKET the test
listens on, the JSON-lines event output equal to the stored rows, SIGUSR1
reopening the log file and the jsonl file after a logrotate-style move,
and the packaged unit file and man pages."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from adminlib import ZONE, checkin_http, checkin_raw, checkin_tls, get_json, wait_for
from conftest import SINKD

ROOT = Path(__file__).resolve().parents[2]


def test_sd_notify_ready_and_stopping(sinkd_factory, tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(15)
    try:
        s = sinkd_factory()
        t0 = time.time()
        s.start(env={"NOTIFY_SOCKET": path})
        msg = sock.recv(4096).decode()
        fields = dict(l.split("=", 1) for l in msg.splitlines())
        assert fields["READY"] == "1"
        assert fields["STATUS"] == "serving 273 seized domains"
        # READY comes once every listener answers: the admin endpoint too.
        assert get_json(s, "/health")["checks"]["listeners"]["ok"] is True
        assert "127.0.0.1" in s.dig(f"x.{ZONE}", "A", "+short")
        s.signal(signal.SIGTERM)
        assert sock.recv(4096).decode().strip() == "STOPPING=1"
        assert s.proc.wait(20) == 0
        assert time.time() - t0 < 30
    finally:
        sock.close()


def jsonl_lines(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines()]


def test_jsonl_lines_are_the_stored_rows(sinkd_factory, tmp_path):
    out = tmp_path / "events.jsonl"
    s = sinkd_factory(extra=f"[store]\njsonl = {out}\n").start()
    checkin_http(s, 3)
    checkin_tls(s, 1)
    checkin_raw(s)
    s.dig(f"a.{ZONE}", "A")  # aggregated only: no line
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 6, what="6 lines")
    time.sleep(0.5)
    lines = jsonl_lines(out)
    stored = [json.loads(l) for l in s.events("--format", "json", "--type", "http").stdout
              .splitlines()]
    stored += [json.loads(l) for l in s.events("--format", "json", "--type", "tls").stdout
               .splitlines()]
    stored += [json.loads(l) for l in s.events("--format", "json", "--type", "raw").stdout
               .splitlines()]
    key = lambda r: (r["time"], r["kind"], r["src"])
    assert sorted(lines, key=key) == sorted(stored, key=key)
    assert len(lines) == 6 and {l["kind"] for l in lines} == {"http", "tls", "raw"}
    assert all(l["kind"] != "dns" for l in lines)
    s.stop()


def test_every_query_dns_rows_go_to_jsonl_too(sinkd_factory, tmp_path):
    out = tmp_path / "events.jsonl"
    s = sinkd_factory(extra=f"[store]\njsonl = {out}\n[dns]\nlog_every_query = yes\n").start()
    for i in range(3):
        s.dig(f"q{i}.{ZONE}", "AAAA")
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 3, what="3 lines")
    lines = jsonl_lines(out)
    stored = [json.loads(l) for l in s.events("--format", "json").stdout.splitlines()]
    assert sorted(l["qname"] for l in lines) == sorted(r["qname"] for r in stored) == \
           [f"q{i}.{ZONE}" for i in range(3)]
    s.stop()


def test_sigusr1_reopens_log_and_jsonl(sinkd_factory, tmp_path):
    out, log = tmp_path / "events.jsonl", tmp_path / "sinkd-file.log"
    s = sinkd_factory(extra=f"[store]\njsonl = {out}\n[server]\nlog_file = {log}\n").start()
    checkin_http(s, 2)
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 2, what="2 lines")
    assert "seized domains: 273" in log.read_text()
    # logrotate: move both away, then SIGUSR1.
    out.rename(tmp_path / "events.jsonl.1")
    log.rename(tmp_path / "sinkd-file.log.1")
    s.signal(signal.SIGUSR1)
    wait_for(lambda: log.exists() and "SIGUSR1: log files reopened" in log.read_text(),
             what="the new log file")
    checkin_http(s, 3)
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 3,
             what="3 lines in the new jsonl file")
    assert len((tmp_path / "events.jsonl.1").read_text().splitlines()) == 2
    old_log = (tmp_path / "sinkd-file.log.1").read_text()
    assert "SIGUSR1" not in old_log and "seized domains: 273" in old_log
    s.stop()
    assert "draining queued events" in log.read_text()
    # Still running after SIGUSR1, stopped cleanly: counted totals in the new log.
    assert "stopped:" in log.read_text()


def test_unwritable_log_file_is_refused_clearly(sinkd_factory, tmp_path):
    s = sinkd_factory(extra=f"[server]\nlog_file = {tmp_path}/no/such/dir/sinkd.log\n")
    p = subprocess.run([SINKD, "serve", "-c", str(s.conf)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1
    assert f"[server] log_file {tmp_path}/no/such/dir/sinkd.log: No such file or directory" \
        in p.stderr


def test_systemd_unit_is_valid():
    unit = ROOT / "packaging" / "systemd" / "sinkd.service"
    text = unit.read_text()
    for want in ("Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                 "AmbientCapabilities=CAP_NET_BIND_SERVICE", "StateDirectory=sinkd",
                 "ExecReload=/bin/kill -HUP $MAINPID"):
        assert want in text, want
    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                           capture_output=True, text=True, timeout=60)
        problems = [l for l in p.stderr.splitlines()
                    if "sinkd.service" in l and "Command /usr/bin/sinkd" not in l]
        assert not problems, p.stderr


@pytest.mark.skipif(not shutil.which("man"), reason="man not installed")
def test_man_pages_render_without_warnings():
    pages = sorted((ROOT / "packaging" / "man").glob("*.[158]"))
    names = {p.name for p in pages}
    assert {"sinkd.1", "sinkd-serve.1", "sinkd-events.1", "sinkd-domains.1",
            "sinkd-config.1", "sinkd.conf.5"} <= names, names
    for page in pages:
        p = subprocess.run(["man", "--warnings", "-l", "-Tutf8", str(page)], capture_output=True,
                           text=True, timeout=60, env={**os.environ, "MANWIDTH": "80"})
        assert p.returncode == 0, p.stderr
        assert p.stderr.strip() == "", f"{page.name}: {p.stderr}"
        text = re.sub(".\x08", "", p.stdout)  # overstrike bold/underline
        assert "NAME" in text and "SEE ALSO" in text, page.name
        assert "SYNOPSIS" in text, page.name
