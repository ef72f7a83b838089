"""Scale-out on a real ClickHouse cluster: two clickhouse-server processes as
two shards, two sinkd nodes shipping to them; a shard stops mid-run, the
nodes spool, the shard returns, the spools drain, and the cluster's totals
equal what the nodes recorded in their own SQLite stores, exactly."""
import gzip
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request

import pytest

import clickhouse
from conftest import run

pytestmark = pytest.mark.skipif(
    not clickhouse.available(),
    reason="clickhouse-server is not installed (scripts/install-deps.sh installs Debian's "
           "clickhouse-server); the scale-out tests need it")

ZONE = "bestchristmascard.com"


@pytest.fixture
def ch(tmp_path):
    c = clickhouse.Cluster(tmp_path / "clickhouse", 2).start()
    yield c
    c.stop()


def node_extra(name, ch, spool, **more):
    extra = f"""
[http]
proxy_protocol = yes
[proxy]
trusted = 127.0.0.2
[cluster]
enabled = yes
node = {name}
{ch.config() if ch else more.pop('shards')}spool_dir = {spool}
ship_interval_ms = 200
timeout_ms = 5000
"""
    for k, v in more.items():
        extra += f"{k} = {v}\n"
    return extra


def checkin(node, src, path="/x.png", ua="Mozilla"):
    """One HTTP check-in through PROXY v1 from the trusted balancer 127.0.0.2."""
    c = socket.socket()
    c.settimeout(5)
    c.bind(("127.0.0.2", 0))
    c.connect(("127.0.0.1", node.http_port))
    c.sendall(f"PROXY TCP4 {src} 192.0.2.1 40000 80\r\n".encode() +
              f"GET {path} HTTP/1.1\r\nHost: www.{ZONE}\r\nUser-Agent: {ua}\r\n"
              f"Connection: close\r\n\r\n".encode())
    assert c.recv(100).startswith(b"HTTP/1.1 200")
    c.close()


def sources(prefix, n, start=1):
    return [f"{prefix}.{(i // 250)}.{i % 250 + 1}" for i in range(start - 1, start - 1 + n)]


def stored_checkins(node):
    db = sqlite3.connect(node.db)
    try:
        return db.execute("SELECT COUNT(*) FROM events WHERE kind != 1").fetchone()[0]
    finally:
        db.close()


def per_node(ch):
    out = ch.query("SELECT node, uniqExact(id) FROM events GROUP BY node ORDER BY node")
    return {line.split("\t")[0]: int(line.split("\t")[1]) for line in out.split("\n") if line}


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def spool_files(spool):
    return sorted(f for f in os.listdir(spool) if f.endswith(".tsv.gz"))


def test_cluster_init_is_idempotent_and_checks_the_cluster(ch, tmp_path):
    conf = tmp_path / "init.conf"
    conf.write_text(f"[cluster]\n{ch.config()}")
    for _ in range(2):
        p = run("cluster", "init", "-c", str(conf))
        assert p.stdout.count("schema ready in database sinkd") == 2, p.stdout
        assert "ClickHouse 18." in p.stdout or "ClickHouse 2" in p.stdout
    tables = ch.servers[1].query("SHOW TABLES FROM sinkd").split()
    assert set(tables) >= {"events", "events_local", "rollup_hour", "rollup_hour_local",
                           "rollup_hour_mv", "nodes", "nodes_local"}
    # A cluster name the servers do not define is refused with a clear message.
    conf.write_text(f"[cluster]\ncluster = nosuch\n{ch.config()}")
    p = run("cluster", "init", "-c", str(conf), check=False)
    assert p.returncode == 1
    assert "cluster 'nosuch' is not in this server's <remote_servers>" in p.stdout


def test_two_nodes_ship_survive_a_shard_outage_and_count_exactly(ch, sinkd_factory, tmp_path):
    conf = tmp_path / "init.conf"
    conf.write_text(f"[cluster]\n{ch.config()}")
    run("cluster", "init", "-c", str(conf))
    spool_a, spool_b = tmp_path / "spool-a", tmp_path / "spool-b"
    a = sinkd_factory(extra=node_extra("node-a", ch, spool_a)).start()
    b = sinkd_factory(extra=node_extra("node-b", ch, spool_b)).start()

    # Phase 1, cluster whole: 300 sources at a, 200 at b of which 100 also
    # called a.
    for src in sources("10.1", 300):
        checkin(a, src)
    for src in sources("10.1", 100) + sources("10.2", 100):
        checkin(b, src)
    wait_for(lambda: per_node(ch) == {"node-a": 300, "node-b": 200}, 30, "phase 1 shipped")

    # Phase 2: shard 2 stops; the nodes keep answering and spool.
    ch.servers[1].stop()
    for src in sources("10.3", 200):
        checkin(a, src)
    for src in sources("10.3", 100):
        checkin(b, src)
    wait_for(lambda: spool_files(spool_a) and spool_files(spool_b), 15, "spooled batches")
    time.sleep(1.0)  # a retry or two against the missing shard
    kept = tmp_path / "kept.tsv.gz"
    shutil.copy(spool_a / spool_files(spool_a)[0], kept)
    assert "will retry" in a.logtext()

    # The shard returns: the spools drain by themselves.
    ch.servers[1].start()
    wait_for(lambda: not spool_files(spool_a) and not spool_files(spool_b), 90, "spools drained")
    wait_for(lambda: per_node(ch) == {"node-a": 500, "node-b": 300}, 30, "phase 2 shipped")

    # Exactly what each node recorded locally, no more, no less.
    assert stored_checkins(a) == 500 and stored_checkins(b) == 300
    # One bot seen by both nodes counts once, in raw events and in the
    # mergeable rollup states.
    assert ch.query("SELECT uniqExact(src_ip) FROM events").strip() == "600"
    assert ch.query("SELECT uniqMerge(sources) FROM rollup_hour").strip() == "600"
    assert ch.query("SELECT uniqMerge(nets) FROM rollup_hour").strip() == str(
        len({s.rsplit(".", 1)[0] for s in sources("10.1", 300) + sources("10.2", 100) +
             sources("10.3", 200)}))

    # At-least-once made idempotent: a batch delivered twice does not count twice.
    body = kept.read_bytes()
    gzip.decompress(body)  # a real gzip'd TSV batch
    subprocess.run(["curl", "-sf", "-H", "Content-Encoding: gzip", "--data-binary", f"@{kept}",
                    f"http://{ch.servers[0].address}/?database=sinkd&insert_distributed_sync=1"
                    "&query=INSERT%20INTO%20events%20FORMAT%20TabSeparated"],
                   check=True, timeout=30)
    raw = int(ch.query("SELECT count() FROM events"))
    assert raw > 800  # the duplicate rows are there ...
    assert per_node(ch) == {"node-a": 500, "node-b": 300}  # ... and not counted
    for s in ch.servers:
        s.query("OPTIMIZE TABLE sinkd.events_local FINAL")
    assert int(ch.query("SELECT count() FROM events")) == 800  # merged away

    a.stop()
    b.stop()
    assert "cluster: 500 events spooled, 500 shipped, 0 dropped" in a.logtext()
    assert "cluster: 300 events spooled, 300 shipped, 0 dropped" in b.logtext()

    # sinkd report nodes: per-node volumes and the last heartbeat.
    p = run("report", "nodes", "--source", f"clickhouse://{ch.servers[0].address}/sinkd",
            "--format", "json")
    nodes = {n["node"]: n for n in json.loads(p.stdout)}
    assert nodes["node-a"]["events"] == 500 and nodes["node-b"]["events"] == 300
    assert nodes["node-a"]["spool_batches"] == 0 and nodes["node-a"]["retried"] >= 1


def test_spool_is_bounded_and_drops_oldest_first_counted(sinkd_factory, tmp_path):
    # Nothing listens on this port: every post fails and the spool fills.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    spool = tmp_path / "spool"
    s = sinkd_factory(extra=node_extra("lonely", None, spool, shards=f"shard = 127.0.0.1:{port}\n",
                                       spool_max_mb=1)).start()
    sent = 0
    for i in range(60):
        for j in range(10):
            blob = secrets.token_urlsafe(3000)  # 4000 chars: ~3 KB per event after gzip
            checkin(s, f"10.9.{i}.{j + 1}", path=f"/{blob}{i}-{j}")
            sent += 1
        time.sleep(0.25)  # one commit interval: one spool batch per round
    time.sleep(0.5)
    total = sum((spool / f).stat().st_size for f in spool_files(spool))
    assert total <= 1 << 20
    # The same counters on /metrics, for Prometheus.
    with urllib.request.urlopen(f"http://127.0.0.1:{s.admin_port}/metrics", timeout=5) as r:
        metrics = dict(line.rsplit(" ", 1) for line in r.read().decode().splitlines()
                       if line.startswith("sinkd_cluster_"))
    assert int(metrics["sinkd_cluster_events_dropped_total"]) > 0
    assert 0 < int(metrics["sinkd_cluster_spool_bytes"]) <= 1 << 20
    assert int(metrics["sinkd_cluster_batches_retried_total"]) > 0
    assert float(metrics["sinkd_cluster_lag_seconds"]) > 0
    s.stop()
    log = s.logtext()
    assert "spool full (1 MiB): dropped the oldest batch" in log
    m = re.search(r"cluster: (\d+) events spooled, (\d+) shipped, (\d+) dropped .*; (\d+) batches", log)
    spooled, shipped, dropped, left_batches = map(int, m.groups())
    left_events = sum(int(f.split("-")[1]) for f in spool_files(spool))
    assert spooled == sent and shipped == 0
    assert dropped > 0 and spooled == dropped + left_events  # every event accounted for
    assert left_batches == len(spool_files(spool))
    # Oldest first: what is left is the newest batches, in sequence.
    seqs = [int(f.split("-")[0]) for f in spool_files(spool)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert max(seqs) == seqs[-1]


KEY = "000102030405060708090a0b0c0d0e0f"
MIX = "waledac=0.45,kelihos=0.2,generic=0.2,unknown=0.15"


def sim_node_extra(name, ch, spool):
    return f"""
[proxy]
trusted = 127.0.0.1
[dns]
proxy_protocol = yes
log_every_query = yes
[http]
proxy_protocol = yes
[tls]
proxy_protocol = yes
[decode]
waledac_key = {KEY}
[cluster]
enabled = yes
node = {name}
{ch.config()}spool_dir = {spool}
ship_interval_ms = 200
"""


def report_body(text):
    """A report's JSON without the field that names where it was read from."""
    r = json.loads(text)
    r.pop("source", None)
    return r


def test_reports_from_clickhouse_equal_the_nodes_stores_merged(ch, sinkd_factory, tmp_path):
    """The simulator split across two nodes (the same bots calling both, as
    behind round-robin DNS): every report read from the cluster equals the
    report over the two nodes' own stores merged, and a bot seen by both
    nodes counts once."""
    conf = tmp_path / "init.conf"
    conf.write_text(f"[cluster]\n{ch.config()}")
    run("cluster", "init", "-c", str(conf))
    a = sinkd_factory(extra=sim_node_extra("node-a", ch, tmp_path / "spool-a")).start()
    b = sinkd_factory(extra=sim_node_extra("node-b", ch, tmp_path / "spool-b")).start()
    for node, n in ((a, 160), (b, 90)):
        p = run("sim", "--bots", "40", "--days", "1", "--seed", "5", "--mix", MIX,
                "--ipv6", "0.2", "--nat", "0.2:2", "--waledac-key", KEY,
                "--max-checkins", str(n), "--duration", "40",
                "--live", f"127.0.0.1:{node.port},{node.http_port},{node.tls_port}")
        assert f"{n} check-ins sent" in p.stderr
    assert a.stop() == 0 and b.stop() == 0
    assert " 0 dropped" in a.logtext() and "batches (0 bytes) left" in a.logtext()
    assert " 0 dropped" in b.logtext() and "batches (0 bytes) left" in b.logtext()

    # The nodes' stores merged through the export/ingest path.
    merged = tmp_path / "merged.db"
    mconf = tmp_path / "merged.conf"
    mconf.write_text(f"[store]\npath = {merged}\n[decode]\nwaledac_key = {KEY}\n")
    for node in (a, b):
        lines = run("events", "--db", str(node.db), "--format", "jsonl", "--limit", "100000")
        (tmp_path / "export.jsonl").write_text(lines.stdout)
        run("ingest", "-c", str(mconf), str(tmp_path / "export.jsonl"))
    checkins = int(ch.query("SELECT count() FROM events FINAL WHERE kind != 1"))
    assert checkins == stored_checkins(a) + stored_checkins(b)
    source = f"clickhouse://{ch.servers[0].address}/sinkd"
    reports = {}
    for name in ("summary", "population", "families", "countries", "asns", "domains"):
        local = run("report", name, "--store", str(merged), "--raw", "--format", "json")
        cluster = run("report", name, "--source", source, "--store", str(merged),
                      "--format", "json")
        assert json.loads(cluster.stdout)["source"] == "clickhouse"
        assert report_body(cluster.stdout) == report_body(local.stdout), name
        reports[name] = json.loads(cluster.stdout)
    # One bot seen by both nodes counts once: node b saw a prefix of node a's
    # population, so the fleet's distinct bot ids are node a's.
    fleet = ch.query("SELECT uniqExact(bot_id) FROM events WHERE bot_id != ''").strip()
    only_a = ch.query("SELECT uniqExact(bot_id) FROM events "
                      "WHERE bot_id != '' AND node = 'node-a'").strip()
    assert fleet == only_a and int(fleet) > 0
    assert reports["summary"]["footprint"]["bot_ids"] == int(fleet)
