"""The domain monitor against a real DNS hierarchy on loopback.

NSD instances started here serve a fake root (127.A.B.2), a fake `com`
(127.A.B.3) and a "criminal" nameserver (127.A.B.4); sinkd is the sinkhole
(127.A.B.1); nothing listens on 127.A.B.5. Every server uses one port, so
the monitor reaches the servers it discovers through glue with
[monitor] dns_port. The port is 53 when this process may bind it (root),
which also lets an Unbound resolver in front (127.A.B.6) show the bots'
view; otherwise a free port, and the Unbound test is skipped.

`com` delegates:
  ok.com, ok2.com, later.com, expiring.com, expired.com, lame.com
                 -> ns1/ns2.<zone> with glue 127.A.B.1 (the sinkhole)
  drift.com      -> ns1.evil-ns.com (the criminal server)
  dead.com       -> ns1.dead.com, glue 127.A.B.5 (nothing listens)
  unres.com      -> not delegated (NXDOMAIN)
sinkd serves every seized domain but lame.com, so the sinkhole answers
REFUSED for it: a lame delegation.
"""
import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Sinkd, free_port, run

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
CRIMINAL_A = "127.66.66.66"

pytestmark = pytest.mark.skipif(not os.path.exists(NSD), reason="nsd not installed "
                                "(scripts/install-deps.sh)")


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


def addr_free(ip, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((ip, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def pick_block():
    """127.A.B.0/24 with .1-.6 free on one port (53 when we may bind it)."""
    for _ in range(40):
        base = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}."
        ports = ([53] if os.geteuid() == 0 else []) + [free_port()]
        for port in ports:
            if all(addr_free(base + str(i), port) for i in range(1, 7)):
                return base, port
    raise RuntimeError("no free loopback block")


def dig(server, port, *args):
    p = subprocess.run(["dig", f"@{server}", "-p", str(port), "+time=1", "+tries=2", *args],
                       capture_output=True, text=True, timeout=20)
    return p.stdout


def zone_text(origin, ns, records):
    return (f"$ORIGIN {origin}\n$TTL 1\n"
            f"@ IN SOA {ns} hostmaster.{origin.lstrip('.')} 1 3600 600 86400 1\n" + records)


class Nsd:
    """One NSD process serving zones on ip:port from files in its directory."""

    def __init__(self, d: Path, ip, port, zones):
        self.dir, self.ip, self.port, self.zones = d, ip, port, zones
        d.mkdir()
        conf = ["server:", f"  ip-address: {ip}@{port}", f"  port: {port}", "  do-ip6: no",
                '  username: ""', '  chroot: ""', f'  zonesdir: "{d}"', '  database: ""',
                f'  pidfile: "{d}/nsd.pid"', f'  xfrdfile: "{d}/xfrd.state"',
                f'  zonelistfile: "{d}/zone.list"', f'  logfile: "{d}/nsd.log"',
                "  server-count: 1", "  hide-version: yes", "  verbosity: 1",
                "remote-control:", "  control-enable: no"]
        for name, text in zones.items():
            fname = (name.rstrip(".") or "root") + ".zone"
            (d / fname).write_text(text)
            conf += ["zone:", f"  name: \"{name}\"", f"  zonefile: \"{fname}\""]
        (d / "nsd.conf").write_text("\n".join(conf) + "\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([NSD, "-d", "-c", str(self.dir / "nsd.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        first = next(iter(self.zones))
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nsd exited: {(self.dir / 'nsd.log').read_text()}")
            if "status: NOERROR" in dig(self.ip, self.port, first, "SOA", "+norec"):
                return self
            time.sleep(0.1)
        raise AssertionError(f"nsd on {self.ip} did not answer")

    def update(self, name, text, expect):
        """Rewrite a zone file, reload (SIGHUP) and wait until `expect` is served."""
        path = self.dir / ((name.rstrip(".") or "root") + ".zone")
        path.write_text(text)
        later = time.time() + 5  # NSD reloads files whose mtime changed
        os.utime(path, (later, later))
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            if expect():
                return
            time.sleep(0.1)
        raise AssertionError(f"nsd did not reload {name}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


SINKHOLE_DOMAINS = ["ok.com", "ok2.com", "later.com", "expiring.com", "expired.com", "lame.com"]


def com_zone(base, drift_later=False, extra=()):
    recs = ["@ NS a.gtld.com.", f"a.gtld.com. A {base}3"]
    for d in SINKHOLE_DOMAINS + list(extra):
        if d == "later.com" and drift_later:
            recs.append("later NS ns1.evil-ns.com.")
            continue
        label = d.split(".")[0]
        recs += [f"{label} NS ns1.{d}.", f"{label} NS ns2.{d}.",
                 f"ns1.{d}. A {base}1", f"ns2.{d}. A {base}1"]
    recs += ["drift NS ns1.evil-ns.com.", "evil-ns NS ns1.evil-ns.com.",
             f"ns1.evil-ns.com. A {base}4",
             "dead NS ns1.dead.com.", f"ns1.dead.com. A {base}5"]
    return zone_text("com.", "a.gtld.com.", "\n".join(recs) + "\n")


def criminal_zone(origin, base):
    return zone_text(origin, "ns1.evil-ns.com.",
                     f"@ NS ns1.evil-ns.com.\n@ A {CRIMINAL_A}\n* A {CRIMINAL_A}\n"
                     + (f"ns1 A {base}4\n" if origin == "evil-ns.com." else ""))


class World:
    """The hierarchy, the seized-domain files and a sinkd configured for it."""

    def __init__(self, tmp: Path, sinkd_factory, serve_monitor, interval=2, extra=()):
        self.tmp = tmp
        self.base, self.port = pick_block()
        b = self.base
        root = zone_text(".", "a.root.", f"@ NS a.root.\na.root. A {b}2\n"
                         f"com. NS a.gtld.com.\na.gtld.com. A {b}3\n")
        self.root = Nsd(tmp / "root", b + "2", self.port, {".": root})
        self.com = Nsd(tmp / "com", b + "3", self.port, {"com.": com_zone(b, extra=extra)})
        self.criminal = Nsd(tmp / "criminal", b + "4", self.port,
                            {z: criminal_zone(z, b) for z in
                             ("evil-ns.com.", "drift.com.", "later.com.")})
        self.hook_out = tmp / "hook.out"
        self.hook = tmp / "hook.sh"
        self.hook.write_text(f"#!/bin/sh\ncat >> '{self.hook_out}'\n")
        self.hook.chmod(0o755)
        self.metrics = tmp / "metrics.prom"
        rows = {"ok.com": day(400), "ok2.com": day(400), "later.com": day(400),
                "expiring.com": day(30), "expired.com": day(-10), "drift.com": "",
                "dead.com": "", "unres.com": "", "lame.com": day(400)}
        rows.update({d: day(400) for d in extra})
        self.rows = rows
        self.all_csv = tmp / "all.csv"
        self.write_csv(self.all_csv, rows)
        self.served_csv = tmp / "served.csv"
        self.write_csv(self.served_csv, {k: v for k, v in rows.items() if k != "lame.com"})
        sd = tmp / "sinkd"
        sd.mkdir()
        extra = (f"[dns]\nlisten = {b}1:{self.port}\nsinkhole = {b}1\n"
                 f"[monitor]\nenabled = {'yes' if serve_monitor else 'no'}\ninterval_s = {interval}\nroot_hint = {b}2\n"
                 f"dns_port = {self.port}\nipv6 = no\ntimeout_ms = 300\nretries = 1\n"
                 f"on_change = {self.hook}\nmetrics_file = {self.metrics}\n")
        self.sinkd = sinkd_factory(extra=extra, domains_file=str(self.served_csv))
        self.unbound = None

    @staticmethod
    def write_csv(path, rows):
        text = "domain,family,expiry\n" + "".join(f"{d},waledac,{e}\n" for d, e in rows.items())
        tmp = path.with_suffix(".new")
        tmp.write_text(text)
        tmp.replace(path)

    def start(self, with_sinkd=True):
        for n in (self.root, self.com, self.criminal):
            n.start()
        if with_sinkd:
            self.sinkd.start()
        return self

    def check(self, *args, db=None):
        a = ["domains", "-c", str(self.sinkd.conf), "--file", str(self.all_csv), "check"]
        if db is None:
            a.append("--no-record")
        else:
            a += ["--db", str(db)]
        return run(*a, *args, check=False)

    def hook_calls(self):
        if not self.hook_out.exists():
            return []
        return [json.loads(l) for l in self.hook_out.read_text().splitlines() if l.strip()]

    def start_unbound(self):
        d = self.tmp / "unbound"
        d.mkdir()
        (d / "root.hints").write_text(f". 3600 NS a.root.\na.root. 3600 A {self.base}2\n")
        self.unbound_port = free_port()
        conf = ["server:", f"  interface: {self.base}6", f"  port: {self.unbound_port}",
                "  do-ip6: no", "  do-not-query-localhost: no", '  username: ""',
                '  chroot: ""', f'  directory: "{d}"', f'  pidfile: "{d}/unbound.pid"',
                f'  root-hints: "{d}/root.hints"', '  module-config: "iterator"',
                "  access-control: 127.0.0.0/8 allow", "  qname-minimisation: no",
                "  use-syslog: no", f'  logfile: "{d}/unbound.log"', "  verbosity: 1",
                "  cache-max-ttl: 1", "  cache-max-negative-ttl: 1", "  num-threads: 1",
                "remote-control:", "  control-enable: no"]
        (d / "unbound.conf").write_text("\n".join(conf) + "\n")
        self.unbound = subprocess.Popen([UNBOUND, "-d", "-c", str(d / "unbound.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.unbound.poll() is not None:
                raise AssertionError(f"unbound exited: {(d / 'unbound.log').read_text()}")
            if "status: NOERROR" in dig(self.base + "6", self.unbound_port, "com.", "SOA"):
                return
            time.sleep(0.1)
        raise AssertionError("unbound did not answer")

    def stop(self):
        if self.unbound is not None and self.unbound.poll() is None:
            self.unbound.terminate()
            self.unbound.wait(10)
        for n in (self.root, self.com, self.criminal):
            n.stop()


@pytest.fixture
def world(tmp_path, sinkd_factory):
    """The hierarchy with a sinkd whose own monitor is off (CLI tests)."""
    w = World(tmp_path, sinkd_factory, serve_monitor=False)
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def serve_world(tmp_path, sinkd_factory):
    """The hierarchy with the monitor running inside sinkd serve."""
    w = World(tmp_path, sinkd_factory, serve_monitor=True)
    try:
        yield w
    finally:
        w.stop()


def by_domain(results):
    return {r["domain"]: r for r in results}


def test_check_every_state_as_json(world):
    world.start()
    p = world.check("--format", "json")
    assert p.returncode == 1, p.stderr
    res = by_domain(json.loads(p.stdout))
    states = {d: r["state"] for d, r in res.items()}
    assert states == {"ok.com": "ok", "ok2.com": "ok", "later.com": "ok",
                      "expiring.com": "expiring", "expired.com": "expired",
                      "drift.com": "drifted", "dead.com": "drifted",
                      "unres.com": "unresolvable", "lame.com": "lame"}, p.stderr
    b = world.base
    drift = res["drift.com"]
    assert "NS at com.: ns1.evil-ns.com. (expected ns1.drift.com., ns2.drift.com.)" in drift["summary"]
    assert f"{b}4 (ns1.evil-ns.com.): A drift.com. = {CRIMINAL_A} (expected {b}1)" in drift["summary"]
    assert drift["details"]["delegation"]["glue"] == {"ns1.evil-ns.com.": [f"{b}4"]}
    assert drift["details"]["servers"][0]["a"] == [CRIMINAL_A]
    dead = res["dead.com"]
    assert f"glue of ns1.dead.com. at com.: {b}5 (expected {b}1)" in dead["summary"]
    assert f"{b}5 (ns1.dead.com.): unreachable" in dead["summary"]
    assert "REFUSED to SOA" in res["lame.com"]["summary"]
    assert res["lame.com"]["details"]["servers"][0]["status"] == "rcode"
    assert "NXDOMAIN" in res["unres.com"]["summary"]
    assert res["unres.com"]["details"]["delegation"]["status"] == "nxdomain"
    assert res["expiring.com"]["summary"] == f"expires on {day(30)}, in 30 days (warning at 60)"
    assert res["expiring.com"]["details"]["days_to_expiry"] == 30
    assert res["expired.com"]["summary"].startswith(f"expired on {day(-10)} (10 days ago)")
    ok = res["ok.com"]["details"]
    assert ok["expiry_source"] == f"registry metadata file {world.all_csv}"
    assert ok["delegation"]["ns"] == ["ns1.ok.com.", "ns2.ok.com."]
    assert ok["servers"][0]["random_name"].startswith("sinkd-check-")
    assert ok["servers"][0]["random_a"] == [f"{b}1"] and ok["servers"][0]["soa"]
    assert res["ok.com"]["summary"] == "" and res["ok.com"]["previous"] is None
    assert "9 domains checked" in p.stderr
    # --no-record: no store, no hook.
    assert not world.hook_out.exists()


def test_check_formats_selection_and_usage(world):
    world.start()
    p = world.check("ok.com", "LATER.com.")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["DOMAIN", "STATE", "PREVIOUS", "EXPIRY", "DETAILS"]
    assert [l.split()[:2] for l in lines[1:]] == [["ok.com", "ok"], ["later.com", "ok"]]
    p = world.check("--format", "csv", "drift.com", "ok.com")
    assert p.returncode == 1
    rows = p.stdout.splitlines()
    assert rows[0] == "domain,state,previous,changed,expiry,summary,details"
    assert rows[1].startswith("drift.com,drifted,,no,,\"NS at com.:")
    assert rows[2].startswith("ok.com,ok,,no,")
    for args, msg in ((("--all", "ok.com"), "--all and domain names"),
                      (("--format", "xml"), "--format 'xml'"),
                      (("nosuch.com",), "'nosuch.com' is not in the seized list"),
                      (("--bogus",), "unknown option")):
        p = world.check(*args)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
    assert "usage: sinkd domains" in run("domains", "check", "--help").stdout


def test_check_with_configured_parent_servers(world):
    """[monitor] parent: the com server asked directly, no root hint used."""
    world.start()
    conf = world.tmp / "parent.conf"
    text = world.sinkd.conf.read_text().replace(f"root_hint = {world.base}2",
                                                f"root_hint = {world.base}9")
    conf.write_text(text + f"parent = {world.base}3:{world.port}\n")
    p = run("domains", "-c", str(conf), "--file", str(world.all_csv), "check", "--no-record",
            "--format", "json", check=False)
    assert p.returncode == 1, p.stderr
    states = {r["domain"]: r["state"] for r in json.loads(p.stdout)}
    assert states["ok.com"] == "ok" and states["drift.com"] == "drifted"
    assert states["unres.com"] == "unresolvable" and states["lame.com"] == "lame"
    # Without it, the dead root hint leaves everything unresolvable.
    conf.write_text(text)
    p = run("domains", "-c", str(conf), "--file", str(world.all_csv), "check", "--no-record",
            "--format", "json", "ok.com", check=False)
    assert p.returncode == 1
    assert json.loads(p.stdout)[0]["summary"].startswith("the root servers: ")


def test_check_records_changes_once_and_runs_the_hook(world):
    world.start()
    db = world.tmp / "cli.db"
    p = world.check("--format", "json", db=db)
    assert p.returncode == 1, p.stderr
    first = by_domain(json.loads(p.stdout))
    assert all(r["changed"] and r["previous"] is None for r in first.values())
    con = sqlite3.connect(db)
    rows = con.execute("SELECT domain, old_state, new_state, source FROM domain_status").fetchall()
    assert len(rows) == 9 and all(r[1] is None and r[3] == "sinkd domains check" for r in rows)
    calls = world.hook_calls()
    assert len(calls) == 1  # first checks that found ok are not news
    assert {c["domain"]: c["new_state"] for c in calls[0]["changes"]} == {
        "expiring.com": "expiring", "expired.com": "expired", "drift.com": "drifted",
        "dead.com": "drifted", "unres.com": "unresolvable", "lame.com": "lame"}
    p = world.check("--format", "json", db=db)
    assert p.returncode == 1
    again = by_domain(json.loads(p.stdout))
    assert not any(r["changed"] for r in again.values())
    assert again["drift.com"]["previous"] == "drifted"
    assert con.execute("SELECT COUNT(*) FROM domain_status").fetchone()[0] == 9
    assert len(world.hook_calls()) == 1
    metrics = world.metrics.read_text()
    assert 'sinkd_monitor_domains{state="drifted"} 2' in metrics
    assert 'sinkd_monitor_domain_state{domain="lame.com",state="lame"} 1' in metrics


def test_bots_view_through_unbound(world):
    if world.port != 53:
        pytest.skip("Unbound follows glue on port 53 only: needs root to bind it")
    world.start()
    world.start_unbound()
    u = (world.base + "6", world.unbound_port)
    assert dig(*u, "+short", "x1.ok.com", "A").split() == [world.base + "1"]
    assert dig(*u, "+short", "x2.drift.com", "A").split() == [CRIMINAL_A]
    assert "status: NXDOMAIN" in dig(*u, "x3.unres.com", "A")
    assert "status: SERVFAIL" in dig(*u, "x4.lame.com", "A")


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return None


def test_serve_reports_drift_lame_and_expiry_within_one_interval(serve_world):
    world = serve_world
    interval = 2
    world.start()
    s = world.sinkd
    # First round: every initial state, one hook call with the non-ok ones.
    calls = wait_for(lambda: world.hook_calls(), 10)
    assert calls, s.logtext()
    first = {c["domain"]: c["new_state"] for c in calls[0]["changes"]}
    assert first == {"expiring.com": "expiring", "expired.com": "expired",
                     "drift.com": "drifted", "dead.com": "drifted",
                     "unres.com": "unresolvable"}, calls
    assert wait_for(lambda: world.metrics.exists(), 5)

    # Inject: later.com delegated to the criminal at the parent, ok2.com's
    # expiry moved 20 days ahead, lame.com added to the list (sinkd, not
    # reloaded, does not serve it).
    b = world.base
    world.com.update("com.", com_zone(b, drift_later=True),
                     lambda: "evil-ns" in dig(b + "3", world.port, "later.com", "NS", "+norec"))
    rows = dict(world.rows)
    del rows["lame.com"]
    rows["ok2.com"] = day(20)
    rows["lame.com"] = day(400)
    t0 = time.time()
    World.write_csv(world.served_csv, rows)

    want = {"later.com": ("ok", "drifted"), "ok2.com": ("ok", "expiring"),
            "lame.com": (None, "lame")}
    seen = {}

    def all_seen():
        for c in world.hook_calls()[1:]:
            for ch in c["changes"]:
                if ch["domain"] in want and ch["domain"] not in seen:
                    seen[ch["domain"]] = (time.time() - t0, ch)
        return len(seen) == len(want)

    assert wait_for(all_seen, 3 * interval + 5), (seen, s.logtext())
    round_s = float(re.search(r"^sinkd_monitor_last_round_duration_seconds (\S+)$",
                              world.metrics.read_text(), re.M).group(1))
    for d, (delay, ch) in seen.items():
        assert (ch["old_state"], ch["new_state"]) == want[d], ch
        assert delay <= interval + round_s + 1.0, (d, delay)
    assert "ns1.evil-ns.com." in seen["later.com"][1]["summary"]
    assert "REFUSED" in seen["lame.com"][1]["summary"]
    assert f"expires on {day(20)}, in 20 days" in seen["ok2.com"][1]["summary"]

    # The store, the log and the metrics say the same.
    con = sqlite3.connect(s.db)
    got = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        "SELECT domain, old_state, new_state, source FROM domain_status WHERE domain IN "
        "('later.com', 'ok2.com', 'lame.com') AND new_state <> 'ok'")}
    assert got == {d: (o, n, "sinkd serve") for d, (o, n) in want.items()}, got
    log = s.logtext()
    assert "monitor: later.com: ok -> drifted: NS at com.: ns1.evil-ns.com." in log
    assert "monitor: ok2.com: ok -> expiring" in log
    assert "monitor: lame.com: (first check) -> lame" in log
    assert wait_for(lambda: 'domain="later.com",state="drifted"' in world.metrics.read_text(), 5)
    m = world.metrics.read_text()
    assert 'sinkd_monitor_domain_state{domain="ok2.com",state="expiring"} 1' in m
    assert 'sinkd_monitor_domain_state{domain="lame.com",state="lame"} 1' in m
    assert 'sinkd_monitor_domains{state="drifted"} 3' in m
    assert s.stop() == 0


def test_check_time_for_hundreds_of_domains(tmp_path, sinkd_factory):
    """Measured, and bounded: 500 domains delegated to the sinkhole."""
    n = 500
    names = [f"bulk{i:04d}.com" for i in range(n)]
    w = World(tmp_path, sinkd_factory, serve_monitor=False, extra=names)
    try:
        w.start()
        t0 = time.time()
        p = run("domains", "-c", str(w.sinkd.conf), "--file", str(w.served_csv), "check",
                "--no-record", "--format", "csv", *names, check=False)
        took = time.time() - t0
        assert p.returncode == 0, p.stderr[-2000:]
        assert p.stdout.count(",ok,") == n
        print(f"\n{n} domains checked in {took:.2f}s: {p.stderr.strip()}")
        assert took < 30
    finally:
        w.stop()
