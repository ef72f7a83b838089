#!/usr/bin/env python3
"""Admin endpoint latency over a store filled with real check-ins.

    bench/admin/bench_admin.py [--checkins N] [--sinkd build/sinkd]

Starts `sinkd serve` on free loopback ports, sends N HTTP check-ins over
keep-alive connections (plus 200 DNS queries), waits until they are stored,
then times each admin request R times (median and p95, ms, one client)."""
import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import conftest  # noqa: E402  (the test harness: config writer, free ports)


def checkins(port, n, host="www.bestchristmascard.com"):
    body = b"a=QUJDREVGR0g&b=eHl6"
    req = (f"POST /abcdef.png HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla\r\n"
           f"Referer: Mozilla\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    sent = 0
    while sent < n:
        c = socket.create_connection(("127.0.0.1", port))
        batch = min(100, n - sent)
        c.sendall(req * batch)
        got = b""
        while got.count(b"HTTP/1.1 ") < batch:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        c.close()
        sent += batch


def timed(url, reps):
    ms = []
    for _ in range(reps):
        t = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    return statistics.median(ms), ms[int(len(ms) * 0.95) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkins", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--sinkd", default=str(ROOT / "build" / "sinkd"))
    a = ap.parse_args()
    conftest.SINKD = a.sinkd
    with tempfile.TemporaryDirectory() as d:
        s = conftest.Sinkd(Path(d), extra="[capture]\nmax_per_source = 0\n").start()
        try:
            t0 = time.time()
            checkins(s.http_port, a.checkins)
            for i in range(200):  # DNS per-minute aggregates beside the rows
                s.dig(f"n{i}.bestchristmascard.com", "A")
            base = f"http://127.0.0.1:{s.admin_port}"
            while True:
                with urllib.request.urlopen(base + "/api/v1/counters") as r:
                    if json.load(r)["checkins"]["total"] >= a.checkins:
                        break
                time.sleep(0.2)
            print(f"{a.checkins} check-ins stored in {time.time() - t0:.1f} s; "
                  f"{a.reps} requests each, one client\n")
            print(f"| request | median ms | p95 ms |\n|---|---|---|")
            for path in ["/health", "/metrics", "/api/v1/counters",
                         "/api/v1/events?limit=100", "/api/v1/events?limit=1000",
                         "/api/v1/events?limit=100&family=waledac",
                         "/api/v1/events?limit=100&ip=192.0.2.1",
                         "/api/v1/timeline?since=1h", "/api/v1/report/summary",
                         "/api/v1/report/families", "/"]:
                med, p95 = timed(base + path, a.reps)
                print(f"| `{path}` | {med:.2f} | {p95:.2f} |")
            # Paging through everything with the cursor.
            t = time.perf_counter()
            pages, cursor, rows = 0, None, 0
            while True:
                q = base + "/api/v1/events?limit=1000" + (f"&cursor={cursor}" if cursor else "")
                with urllib.request.urlopen(q, timeout=60) as r:
                    page = json.load(r)
                pages += 1
                rows += page["count"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            print(f"\npaging all {rows} rows, 1000 a page: {pages} pages in "
                  f"{time.perf_counter() - t:.2f} s")
        finally:
            s.stop()


if __name__ == "__main__":
    main()
