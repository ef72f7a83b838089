#!/usr/bin/env python3
"""bench/cluster: sinkd's shipping path into a real two-shard ClickHouse
cluster on loopback, and report query latency on a large events table.

  1. encode: spool serialisation + gzip, one core (bench_cluster --encode-only)
  2. ingest: two nodes post concurrently through the shipper's code path
     into the Distributed table (insert_distributed_sync=1)
  3. bytes per event on disk (system.parts, both shards)
  4. load ROWS events straight into the shards (INSERT ... SELECT FROM
     numbers(), a bench loader: the simulator is far slower), then time the
     report queries, median of 3 runs each

Usage: bench/cluster/run.py [--build DIR] [--ingest N] [--rows N]
Bounded: every step has a fixed size; the cluster is stopped at the end.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import clickhouse  # noqa: E402

MEMORY = str(8 << 30)  # per query; the machine has 24 GiB

QUERIES = [
    ("events per node, uniqExact(id) (report nodes)",
     "SELECT node, uniqExact(id) FROM events GROUP BY node"),
    ("events per node, count() FINAL",
     "SELECT node, count() FROM events FINAL GROUP BY node"),
    ("summary: events, sources, /24s, bots",
     "SELECT count(), uniq(src_ip), uniq(src_net), uniq(bot_id) FROM events"),
    ("daily live population (bot ids per day)",
     "SELECT toDate(ts) d, uniq(bot_id) FROM events GROUP BY d ORDER BY d"),
    ("top 10 countries by sources",
     "SELECT country, uniq(src_ip) u FROM events GROUP BY country ORDER BY u DESC LIMIT 10"),
    ("top 10 ASNs by sources",
     "SELECT asn, uniq(src_ip) u FROM events GROUP BY asn ORDER BY u DESC LIMIT 10"),
    ("daily population from rollups (uniqMerge)",
     "SELECT toDate(hour) d, uniqMerge(bots) FROM rollup_hour GROUP BY d ORDER BY d"),
    ("30-day footprint from rollups",
     "SELECT uniqMerge(sources), uniqMerge(bots) FROM rollup_hour"),
]


def loader_sql(node, n, days=30, bots=200000):
    """events_local rows of a 200,000-bot population over `days` days."""
    return f"""
INSERT INTO sinkd.events_local
SELECT '{node}', toInt64(number), toDateTime(now() - {days * 86400} + intDiv(number * {days * 86400}, {n})) AS t,
  toUInt64(t) * 1000000000, 2, 2, 0,
  concat('10.', toString(intDiv(b, 65536) % 256), '.', toString(intDiv(b, 256) % 256), '.', toString(b % 256)) AS ip,
  toUInt16(1024 + number % 60000),
  concat('10.', toString(intDiv(b, 65536) % 256), '.', toString(intDiv(b, 256) % 256), '.0/24'),
  '192.0.2.1', 80, 'bestchristmascard.com', 'www.bestchristmascard.com', 0, 0,
  'waledac', 'waledac-checkin', 'c2-checkin', 3, if(number % 5 = 0, 'getkey', 'notify'), '2',
  lower(hex(cityHash64(b))), 'ok',
  arrayElement(['US','DE','CN','RU','BR','IN','FR','GB','JP','KR'], toUInt32(b % 10) + 1),
  toUInt32(3000 + b % 5000), number, 'POST', '/abcde.png', 200, 612, '', 'Mozilla', 'Mozilla', '', ''
FROM (SELECT number, cityHash64(number) % {bots} AS b FROM system.numbers LIMIT {n})
"""


def timed(f):
    t0 = time.time()
    r = f()
    return time.time() - t0, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--ingest", type=int, default=2000000, help="events per node, step 2")
    ap.add_argument("--rows", type=int, default=100000000, help="events for step 4")
    args = ap.parse_args()
    bench = Path(args.build) / "bench_cluster"
    sinkd = Path(args.build) / "sinkd"
    if not clickhouse.available():
        sys.exit("bench/cluster: clickhouse-server is not installed (scripts/install-deps.sh)")
    work = Path(tempfile.mkdtemp(prefix="sinkd-bench-cluster-"))
    c = clickhouse.Cluster(work, 2).start()
    try:
        conf = work / "init.conf"
        conf.write_text(f"[cluster]\n{c.config()}")
        subprocess.run([sinkd, "cluster", "init", "-c", conf], check=True, capture_output=True)
        version = c.servers[0].query("SELECT version()").strip()
        print(f"ClickHouse {version}, 2 shards on loopback, {os.cpu_count()} cores shared by "
              f"everything\n")

        out = subprocess.run([bench, "--encode-only", "--events", "1000000"], check=True,
                             capture_output=True, text=True).stdout
        kv = dict(x.split("=") for x in out.split())
        print("| step | result |\n|---|---|")
        print(f"| encode (TSV + gzip), one core | {float(kv['encode_eps']):,.0f} events/s; "
              f"{float(kv['tsv_bytes_per_event']):.0f} B/event TSV, "
              f"{float(kv['gzip_bytes_per_event']):.0f} B/event gzip'd in the spool |")

        t0 = time.time()
        procs = [subprocess.Popen([bench, "--shard", s.address, "--node", f"node-{i}",
                                   "--events", str(args.ingest)], stdout=subprocess.PIPE,
                                  text=True) for i, s in enumerate(c.servers)]
        outs = [p.communicate(timeout=1800)[0] for p in procs]
        wall = time.time() - t0
        if any(p.returncode != 0 for p in procs):
            sys.exit("bench/cluster: an ingest node failed")
        total = 2 * args.ingest
        got = int(c.query("SELECT count() FROM events"))
        print(f"| ingest, 2 nodes -> 2 shards, batches of 10,000 | {total / wall:,.0f} events/s "
              f"({total:,} events in {wall:.1f} s; {got:,} rows in the cluster) |")
        for o in outs:
            kv = dict(x.split("=") for x in o.split())
            print(f"| &nbsp; {kv['node']} alone | {float(kv['end_to_end_eps']):,.0f} events/s "
                  f"(encode {float(kv['encode_s']):.1f} s, post {float(kv['post_s']):.1f} s) |")
        for s in c.servers:
            s.query("OPTIMIZE TABLE sinkd.events_local FINAL")
        parts = [s.query("SELECT sum(bytes_on_disk), sum(rows) FROM system.parts "
                         "WHERE database = 'sinkd' AND table = 'events_local' AND active")
                 .split() for s in c.servers]
        disk = sum(int(p[0]) for p in parts)
        rows = sum(int(p[1]) for p in parts)
        print(f"| bytes per event in ClickHouse (events_local, both shards) | "
              f"{disk / rows:.1f} B ({rows:,} rows, {disk / 2**20:.0f} MiB) |")

        for s in c.servers:
            s.query("TRUNCATE TABLE sinkd.events_local")
            s.query("TRUNCATE TABLE sinkd.rollup_hour_local")
        per = args.rows // 2
        t_load = 0.0
        for i, s in enumerate(c.servers):
            dt, _ = timed(lambda: s.query(loader_sql(f"gen-{i}", per), timeout=3600))
            t_load += dt
        rows = int(c.query("SELECT count() FROM events"))
        print(f"| bench loader, INSERT SELECT into both shards | {rows:,} rows in {t_load:.0f} s "
              f"({rows / t_load:,.0f} rows/s inside ClickHouse) |")
        print(f"\nReport queries on {rows:,} events (30 days, 200,000 bots), median of 3:\n")
        print("| query | seconds |\n|---|---|")
        for name, sql in QUERIES:
            try:
                times = [timed(lambda: c.query(sql, timeout=600, max_memory_usage=MEMORY))[0]
                         for _ in range(3)]
                print(f"| {name} | {statistics.median(times):.3f} |")
            except OSError as e:  # HTTPError: say what ClickHouse said
                body = e.read().decode()[:160] if hasattr(e, "read") else str(e)
                print(f"| {name} | failed: {body} |")
    finally:
        c.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
