#!/usr/bin/env python3
"""Bounded soak of `sinkd serve` on loopback (bench/soak/README.md).

For --seconds (default 60) at once: the simulator's live check-ins (DNS +
HTTP/TLS through PROXY v2, with its own tally of check-ins delivered), a
dnsperf flood at --qps from 127.0.0.2, slowloris connections, garbage on
every port (TCP and UDP), and a SIGHUP every --hup seconds. Then SIGTERM,
and a report: requests answered, events stored, drops by reason, errors,
peak RSS, unexplained losses and the `sinkd verify` result.
Exit status 0 when sinkd survived, stopped cleanly, verify passed and no
check-in the simulator delivered is unaccounted for."""
import argparse
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SINKD = os.environ.get("SINKD_BIN") or str(ROOT / "build" / "sinkd")
NOISE_SRC = "127.0.0.2"  # flood and garbage: not the trusted PROXY peer
EVF_PROXIED = 1 << 13

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "integration"))
from conftest import free_port  # noqa: E402  (one port finder for tests and benches)


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}

    def add(self, key, k=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + k


def slowloris(port, stop, count, stats):
    socks = []
    for _ in range(count):
        try:
            s = socket.socket()
            s.bind((NOISE_SRC, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            stats.add("slowloris_refused")
    stats.add("slowloris_opened", len(socks))
    while not stop.is_set():
        for s in list(socks):
            try:
                s.sendall(b"X-a: b\r\n")
            except OSError:
                socks.remove(s)
                stats.add("slowloris_closed_by_server")
        stop.wait(2)
    for s in socks:
        s.close()


def garbage(tcp_ports, udp_ports, stop, stats):
    rnd = random.Random(7)
    while not stop.is_set():
        blob = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 600)))
        for port in tcp_ports:
            try:
                with socket.socket() as s:
                    s.bind((NOISE_SRC, 0))
                    s.settimeout(1)
                    s.connect(("127.0.0.1", port))
                    s.sendall(blob)
                    s.shutdown(socket.SHUT_WR)
                    try:
                        s.recv(4096)
                    except OSError:
                        pass
                stats.add("garbage_tcp")
            except OSError:
                stats.add("garbage_tcp_refused")
        for port in udp_ports:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((NOISE_SRC, 0))
                u.sendto(blob, ("127.0.0.1", port))
            stats.add("garbage_udp")
        stop.wait(0.02)


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--qps", type=int, default=20000, help="dnsperf flood rate")
    ap.add_argument("--bots", type=int, default=300)
    ap.add_argument("--slowloris", type=int, default=300)
    ap.add_argument("--hup", type=float, default=3.0)
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()

    work = Path(a.dir or tempfile.mkdtemp(prefix="sinkd-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    key = work / "ev.key"
    if not key.exists():
        subprocess.run([SINKD, "keygen", "--out", str(key)], check=True, capture_output=True)
    wkey = "000102030405060708090a0b0c0d0e0f"
    dns, http, tls, anyp, admin = (free_port() for _ in range(5))
    conf = work / "sinkd.conf"
    conf.write_text(f"""[server]
seccomp = on
[dns]
listen = 127.0.0.1:{dns}
proxy_protocol = yes
[rrl]
enabled = no
[http]
listen = 127.0.0.1:{http}
proxy_protocol = yes
[tls]
listen = 127.0.0.1:{tls}
proxy_protocol = yes
[catchall]
tcp = 127.0.0.1:{anyp}
udp = 127.0.0.1:{anyp}
[proxy]
trusted = 127.0.0.1
[decode]
waledac_key = {wkey}
[store]
path = {work}/sinkd.db
[evidence]
key = {key}
manifest_interval = 10
[admin]
listen = 127.0.0.1:{admin}
""")
    log = open(work / "sinkd.log", "w")
    proc = subprocess.Popen([SINKD, "serve", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 15
    while "serving" not in (work / "sinkd.log").read_text():
        if proc.poll() is not None or time.time() > deadline:
            print((work / "sinkd.log").read_text())
            sys.exit("sinkd did not start")
        time.sleep(0.1)

    stop = threading.Event()
    stats = Counter()
    qfile = work / "queries.txt"
    with open(qfile, "w") as f:
        rnd = random.Random(1)
        for i in range(50000):
            f.write(f"x{rnd.getrandbits(32):08x}.bestchristmascard.com A\n")
    perf = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(dns), "-a", NOISE_SRC,
                             "-d", str(qfile), "-l", str(a.seconds), "-Q", str(a.qps),
                             "-c", "4", "-q", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sim = subprocess.Popen([SINKD, "sim", "--bots", str(a.bots), "--waledac-key", wkey,
                            "--live", f"127.0.0.1:{dns},{http},{tls}", "--speed", "0",
                            "--duration", str(a.seconds), "--truth", str(work / "truth.json")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    threads = [threading.Thread(target=slowloris, args=(http, stop, a.slowloris, stats)),
               threading.Thread(target=garbage, args=([dns, http, tls, anyp], [dns, anyp], stop,
                                                      stats))]
    for t in threads:
        t.start()
    t0 = time.time()
    hups = 0
    while time.time() - t0 < a.seconds:
        time.sleep(a.hup)
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGHUP)
        hups += 1
    sim_err = sim.communicate(timeout=a.seconds + 60)[1]
    perf_out = perf.communicate(timeout=60)[0]
    stop.set()
    for t in threads:
        t.join(30)
    alive = proc.poll() is None
    rss = peak_rss_kib(proc.pid)
    # DNS drops by reason, from /metrics before the stop: the exit line sums
    # "short" (under 12 bytes: no header, nothing to record) and "response"
    # (QR=1: recorded as malformed, never answered).
    dns_drops = {}
    if alive:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10) as r:
                for line in r.read().decode().splitlines():
                    mm = re.match(r'sinkd_dns_drops_total\{reason="(\w+)"\} (\d+)', line)
                    if mm:
                        dns_drops[mm.group(1)] = int(mm.group(2))
        except OSError:
            pass
    if alive:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(120)
    else:
        rc = proc.returncode
    log.close()
    text = (work / "sinkd.log").read_text()

    ver = subprocess.run([SINKD, "verify", "--store", f"{work}/sinkd.db", "--pubkey",
                          f"{key}.pub"], capture_output=True, text=True)
    m = re.search(r"live: (\d+) check-ins sent, (\d+) DNS answers, (\d+) failures", sim_err)
    sent, failures = (int(m.group(1)), int(m.group(3))) if m else (-1, -1)
    db = sqlite3.connect(f"{work}/sinkd.db")
    stored_sim = db.execute("SELECT COUNT(*) FROM events WHERE kind = 2 AND flags & ?",
                            (EVF_PROXIED,)).fetchone()[0]
    kinds = dict(db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
    dnsq = db.execute("SELECT COALESCE(SUM(count), 0) FROM dns_minute").fetchone()[0]
    db.close()

    def num(pattern):
        mm = re.search(pattern, text)
        return int(mm.group(1)) if mm else -1
    queries = num(r"stopped: (\d+) queries")
    answered = num(r"stopped: \d+ queries, (\d+) answered")
    rrl = num(r"(\d+) rrl-dropped")
    malformed = num(r"(\d+) malformed drops")
    dns_queue = num(r"DNS events dropped \(queue full\) (\d+)")
    cap_drop = num(r"capture: .*?(\d+) events dropped")
    requests = num(r"capture: \d+ connections, (\d+) requests")
    conns = num(r"capture: (\d+) connections")
    store_full = num(r"store drops: (\d+) disk full")
    store_unw = num(r"store drops: \d+ disk full, (\d+) unwritable")
    store_err = num(r"unwritable, (\d+) other errors")
    errors = len(re.findall(r"sinkd\[error\]", text))
    qps_line = re.search(r"Queries per second:\s+([\d.]+)", perf_out)
    lost_sim = sent - stored_sim
    named = max(cap_drop, 0) + max(store_full, 0) + max(store_unw, 0) + max(store_err, 0)
    unexplained = max(0, lost_sim - named)
    # Every DNS datagram received is in the aggregates, except those too
    # short to carry a header (counted, not recordable).
    short = dns_drops.get("short", -1)
    dns_unexplained = queries - short - dnsq if short >= 0 else "?"

    rows = [
        ("duration (s)", a.seconds), ("SIGHUP reloads", hups),
        ("sinkd alive at the end", alive), ("exit status", rc),
        ("DNS queries received", queries), ("DNS answered", answered),
        ("dnsperf qps achieved", qps_line.group(1) if qps_line else "?"),
        ("capture connections", conns), ("HTTP/TLS requests", requests),
        ("sim check-ins delivered (truth)", sent), ("sim failures", failures),
        ("sim HTTP check-ins stored", stored_sim),
        ("events stored: http/tls/raw", f"{kinds.get(2, 0)}/{kinds.get(3, 0)}/{kinds.get(4, 0)}"),
        ("DNS queries in aggregates", dnsq),
        ("drops: DNS queue full", dns_queue), ("drops: capture queue full", cap_drop),
        ("drops: store disk full/unwritable/error", f"{store_full}/{store_unw}/{store_err}"),
        ("drops: RRL", rrl),
        ("DNS dropped unanswered (short + responses)", malformed),
        ("  of which too short to record (< 12 bytes)", short),
        ("  of which responses (QR=1, recorded)", dns_drops.get("response", -1)),
        ("unexplained DNS (received - short - aggregated)", dns_unexplained),
        ("slowloris opened/closed by sinkd", f"{stats.n.get('slowloris_opened', 0)}/"
                                             f"{stats.n.get('slowloris_closed_by_server', 0)}"),
        ("garbage tcp/udp sent", f"{stats.n.get('garbage_tcp', 0)}/{stats.n.get('garbage_udp', 0)}"),
        ("error lines in the log", errors), ("peak RSS (MiB)", f"{rss / 1024:.1f}"),
        ("unexplained sim losses", unexplained),
        ("sinkd verify", "OK" if ver.returncode == 0 else "FAILED"),
    ]
    for k, v in rows:
        print(f"{k:42s} {v}")
    print(f"work dir: {work}")
    ok = (alive and rc == 0 and ver.returncode == 0 and unexplained == 0 and sent > 0
          and dns_unexplained == 0)
    if ver.returncode != 0:
        print(ver.stdout)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
