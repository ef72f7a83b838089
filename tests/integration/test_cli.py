"""The command line as a user meets it: config check/dump, the domains
commands, usage errors."""
import json
import signal
import time

import dnswire
from conftest import run


def test_usage_and_version():
    p = run(check=False)
    assert p.returncode == 2 and "usage: sinkd" in p.stderr
    p = run("frobnicate", check=False)
    assert p.returncode == 2 and "unknown command 'frobnicate'" in p.stderr
    assert run("--version").stdout.startswith("sinkd ")
    for cmd in ("serve", "config", "domains", "events"):
        assert "usage: sinkd " + cmd in run(cmd, "--help").stdout


def test_config_check_reports_every_error(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[dns]\nlisten = 127.0.0.1\nttl = soon\n[nope]\nx = 1\n[rrl]\nslip = 2\nrate = -1\n")
    p = run("config", "check", str(bad), check=False)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert any(l.startswith(f"{bad}:2:") and "listen" in l for l in lines)
    assert any(l.startswith(f"{bad}:3:") and "ttl" in l for l in lines)
    assert any(l.startswith(f"{bad}:4:") and "nope" in l for l in lines)
    assert any(l.startswith(f"{bad}:8:") and "rate" in l for l in lines)


def test_config_dump_round_trip(tmp_path):
    dumped = run("config", "dump").stdout
    f = tmp_path / "d.conf"
    f.write_text(dumped)
    assert run("config", "check", str(f)).returncode == 0
    def body(text):
        return [l for l in text.splitlines() if not l.startswith("#")]
    assert body(run("config", "dump", "-c", str(f)).stdout) == body(dumped)
    assert "listen = 127.0.0.1:5353" in dumped and "log_every_query = no" in dumped


def test_domains_commands(tmp_path):
    lst = tmp_path / "seized.txt"
    lst.write_text("# test list\nalpha-seized.com\n")
    f = ["--file", str(lst)]
    p = run("domains", *f, "add", "Beta-Seized.COM.", "bücher-seized.de")
    assert "SIGHUP" in p.stdout + p.stderr
    names = run("domains", *f, "export", "--format", "list").stdout.split()
    assert names == ["alpha-seized.com", "beta-seized.com", "bücher-seized.de".encode("idna").decode()]
    p = run("domains", *f, "add", "bad..name", check=False)
    assert p.returncode == 1 and "bad..name" in p.stderr
    run("domains", *f, "remove", "alpha-seized.com")
    p = run("domains", *f, "remove", "alpha-seized.com", check=False)
    assert p.returncode == 1
    run("domains", *f, "add", "gamma-seized.org", "--family", "waledac", "--case", "1:10cv156",
        "--expiry", "2027-01-31")
    rows = json.loads(run("domains", *f, "list", "--format", "json").stdout)
    gamma = next(r for r in rows if r["domain"] == "gamma-seized.org")
    assert gamma["family"] == "waledac" and gamma["expiry"] == "2027-01-31"
    other = tmp_path / "more.csv"
    other.write_text("domain,family\nbeta-seized.com,x\ndelta-seized.net,kelihos\nnot valid,y\n")
    p = run("domains", *f, "import", str(other), check=False)
    assert p.returncode == 1 and f"{other}:4:" in p.stderr
    other.write_text("domain,family\nbeta-seized.com,x\ndelta-seized.net,kelihos\n")
    run("domains", *f, "import", str(other))
    table = run("domains", *f, "list").stdout
    assert "delta-seized.net" in table and "kelihos" in table


def test_domains_add_then_sighup_serves_it(sinkd_factory, tmp_path):
    lst = tmp_path / "seized.txt"
    lst.write_text("first-seized.com\n")
    s = sinkd_factory(domains_file=str(lst)).start()
    try:
        resp = dnswire.udp_exchange(s.port, dnswire.query("a.late-seized.com"))
        assert dnswire.header(resp)["rcode"] == 5
        run("domains", "--file", str(lst), "add", "late-seized.com")
        s.signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "reload: done" not in s.logtext() and time.time() < deadline:
            time.sleep(0.05)
        resp = dnswire.udp_exchange(s.port, dnswire.query("a.late-seized.com"))
        assert dnswire.header(resp)["rcode"] == 0 and dnswire.header(resp)["an"] == 1
    finally:
        s.stop()


def test_events_usage_errors(tmp_path):
    p = run("events", "--db", str(tmp_path / "missing.db"), check=False)
    assert p.returncode == 1 and "missing.db" in p.stderr
    p = run("events", "--since", "yesterday-ish", "--db", str(tmp_path / "x.db"), check=False)
    assert p.returncode == 2 and "--since" in p.stderr
