"""sinkd sim and sinkd ingest with the real binary: a compressed run lands
in the store exactly as its ground truth says (labels, sources, countries
and ASNs, rollups, protocol shapes), a live run through a real sinkd shows
the synthetic sources and the right labels, and an export ingests into
another store unchanged."""
import ipaddress
import json
import sqlite3
from collections import Counter
from datetime import datetime, timezone

from conftest import SINKD, run

KEY = "000102030405060708090a0b0c0d0e0f"
MIX = "waledac=0.45,kelihos=0.2,generic=0.2,unknown=0.15"
# Families whose protocol carries the bot id, and how the store shows it.
ID_FAMILIES = ("waledac", "generic")


def ip(text):
    return str(ipaddress.ip_address(text))


def write_conf(path, db, extra=""):
    path.write_text(f"[store]\npath = {db}\ncommit_interval_ms = 200\n"
                    f"[decode]\nwaledac_key = {KEY}\n{extra}")
    return path


def http_rows(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM events_v WHERE kind = 2").fetchall()
    con.close()
    return rows


def scalar(db, sql):
    con = sqlite3.connect(db)
    v = con.execute(sql).fetchone()[0]
    con.close()
    return v


def tally_of(rows):
    return Counter((r["family"], r["msg_type"] or "") for r in rows)


def truth_tally(truth):
    return Counter({(t["family"], t["msg_type"]): t["checkins"] for t in truth["tally"]})


def day_of(row, start):
    t = datetime.strptime(row["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int((t - start).total_seconds() // 86400)


def test_compressed_run_matches_truth(tmp_path):
    db, truth_path = tmp_path / "sim.db", tmp_path / "truth.json"
    conf = write_conf(tmp_path / "sinkd.conf", db)
    p = run("sim", "--bots", "60", "--days", "3", "--seed", "11", "--mix", MIX,
            "--half-life", "3", "--churn", "0.4", "--nat", "0.2:3", "--ipv6", "0.15",
            "--waledac-key", KEY, "--store", str(db), "-c", str(conf), "--truth", str(truth_path))
    assert "0 rejected" in p.stderr
    truth = json.loads(truth_path.read_text())
    rows = http_rows(db)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)

    # Every check-in, labelled as the truth says.
    assert len(rows) == truth["checkins"] > 1000
    assert tally_of(rows) == truth_tally(truth)
    assert all(r["decode_status"] == "ok" for r in rows if r["family"] != "unknown")
    assert {r["family"] for r in rows} == {"waledac", "kelihos", "generic", "unknown"}

    # Per bot that carries an id: its check-ins, from its address of the day.
    by_bot = Counter((r["bot_id"], day_of(r, start), ip(r["src_ip"])) for r in rows if r["bot_id"])
    want = Counter()
    for b in truth["bots"]:
        for d in b["days"]:
            if b["family"] in ID_FAMILIES:
                want[(b["id"], d["day"], ip(d["addr"]))] += d["checkins"]
    assert by_bot == want
    # Every family: check-ins per (day, source address), NAT groups summed.
    by_addr = Counter((day_of(r, start), ip(r["src_ip"])) for r in rows)
    want = Counter()
    for b in truth["bots"]:
        for d in b["days"]:
            want[(d["day"], ip(d["addr"]))] += d["checkins"]
    assert by_addr == want

    # Days: bots active per day (id-carrying ones), decay, DNS and TLS.
    for d in truth["days"]:
        active_ids = {r["bot_id"] for r in rows if r["bot_id"] and day_of(r, start) == d["day"]}
        want_ids = {b["id"] for b in truth["bots"] if b["family"] in ID_FAMILIES
                    and any(x["day"] == d["day"] for x in b["days"])}
        assert active_ids == want_ids
    alive = [d["alive"] for d in truth["days"]]
    assert alive[0] == 60 and alive[2] < alive[0]
    assert scalar(db, "SELECT sum(count) FROM dns_minute") == truth["dns_queries"] > 0
    assert scalar(db, "SELECT count(*) FROM events WHERE kind = 3") == truth["tls_connections"] > 0
    assert scalar(db, "SELECT count(*) FROM events WHERE kind = 2 AND flags & 512") == \
        truth["tls_connections"]
    # NAT groups: every member calls from the group's address.
    groups = truth["nat_groups"]
    assert groups and all(len(g["bots"]) <= 3 for g in groups)
    members = {b["id"]: b for b in truth["bots"]}
    for g in groups:
        for bot_id in g["bots"]:
            assert all(d["addr"] == g["addr"] for d in members[bot_id]["days"])
    # Countries and ASNs of the truth come from the real tables.
    assert all(d["asn"] > 0 for b in truth["bots"] for d in b["days"])

    # Enrichment ran on every ingested event: country and ASN are those of
    # the truth (the same tables), and the hourly rollups count the families.
    geo = {ip(d["addr"]): (d.get("country") or "", d["asn"])
           for b in truth["bots"] for d in b["days"]}
    assert all(geo[ip(r["src_ip"])] == (r["country"] or "", r["asn"] or 0) for r in rows)
    fams = json.loads(run("report", "families", "--store", str(db), "--format", "json").stdout)
    fams = {x["family"]: x for x in fams["rows"]}
    per_family = Counter()
    for (family, _), n in truth_tally(truth).items():
        per_family[family] += n
    for family in ("waledac", "kelihos", "generic"):
        assert fams[family]["events"] == per_family[family]
    for family in ID_FAMILIES:
        assert fams[family]["bots"] == sum(1 for b in truth["bots"]
                                           if b["family"] == family and b["checkins"])
    # TLS connections carry no family: they count as unknown beside the
    # unruled family's requests.
    assert fams["unknown"]["events"] == per_family["unknown"] + truth["tls_connections"]

    # The unruled family shows up as protocol shapes: every one of its
    # check-ins under the path template of its protocol.
    shapes = json.loads(run("report", "protocols", "--store", str(db), "--format", "json").stdout)
    unknown = [x for x in shapes if x["method"] == "POST" and x["path"] == "/api/{hex}/ping"]
    assert unknown and all("content-type" in x["headers"] for x in unknown)
    assert sum(x["count"] for x in unknown) == truth_tally(truth)[("unknown", "")]


def test_sim_is_deterministic_and_bounded(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    args = ["sim", "--bots", "20", "--days", "2", "--seed", "5", "--mix", MIX, "--waledac-key", KEY]
    run(*args, "--out", str(a), "--truth", str(tmp_path / "ta.json"))
    run(*args, "--out", str(b), "--truth", str(tmp_path / "tb.json"))
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "ta.json").read_bytes() == (tmp_path / "tb.json").read_bytes()
    run(*args, "--out", str(b), "--max-checkins", "25", "--truth", str(tmp_path / "tc.json"))
    assert json.loads((tmp_path / "tc.json").read_text())["checkins"] == 25
    http = [l for l in b.read_text().splitlines() if '"kind":"http"' in l]
    assert len(http) == 25
    full_http = [l for l in a.read_text().splitlines() if '"kind":"http"' in l]
    assert http == full_http[:25]


def test_sim_errors(tmp_path):
    p = run("sim", "--bots", "5", "--out", "-", check=False)
    assert p.returncode == 1
    assert "Waledac bots need --waledac-key HEX" in p.stderr
    p = run("sim", "--bots", "5", "--mix", "generic=1", "--out", "-", "--asn-v4",
            str(tmp_path / "missing.csv"), check=False)
    assert p.returncode == 1
    assert f"{tmp_path}/missing.csv: No such file or directory (give the path with --asn-v4)" \
        in p.stderr
    p = run("sim", "--bots", "5", "--mix", "storm=1", "--out", "-", check=False)
    assert p.returncode == 2
    assert "--mix 'storm=1': 'storm': unknown family" in p.stderr
    p = run("sim", "--bots", "5", "--mix", "generic=1", "--out", "-", "--store", "x.db",
            check=False)
    assert p.returncode == 2 and "one destination at a time" in p.stderr
    p = run("sim", "--bots", "5", "--mix", "generic=1")  # compressed, to stdout
    assert p.stdout.count('"kind":"http"') > 50
    p = run("sim", "--mix", "generic=1", "--live", "127.0.0.1:1,1,1", check=False)
    assert p.returncode == 1 and "is sinkd serving there?" in p.stderr


def test_ingest_bad_lines(tmp_path):
    db = tmp_path / "i.db"
    good = ('{"ts":"2026-01-01T00:00:00Z","kind":"http","src":"192.0.2.1:1000",'
            '"method":"GET","target":"/gate.php?id=abcdef0123","host":"x.example"}')
    f = tmp_path / "in.jsonl"
    f.write_text(good + "\n{\"ts\":1\n\n" + good.replace('"GET"', '"GET","colour":1') + "\n" +
                 good + "\n")
    p = run("ingest", "--store", str(db), str(f), check=False)
    assert p.returncode == 1
    assert f"{f}:2: not JSON:" in p.stderr
    assert f'{f}:4: unknown key "colour"' in p.stderr
    assert "4 lines, 2 rejected; 2 events stored" in p.stderr
    rows = http_rows(db)
    assert len(rows) == 2 and rows[0]["family"] == "generic" and rows[0]["bot_id"] == "abcdef0123"
    p = run("ingest", "--store", str(db), str(tmp_path / "none.jsonl"), check=False)
    assert p.returncode == 1 and "cannot open" in p.stderr


def test_export_ingest_round_trip(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    conf_a, conf_b = write_conf(tmp_path / "a.conf", a), write_conf(tmp_path / "b.conf", b)
    run("sim", "--bots", "25", "--days", "2", "--seed", "3", "--mix", MIX, "--ipv6", "0.3",
        "--waledac-key", KEY, "--store", str(a), "-c", str(conf_a))
    first = run("events", "--db", str(a), "--format", "jsonl", "--limit", "100000").stdout
    lines = first.splitlines()
    kinds = Counter(json.loads(l)["kind"] for l in lines)
    assert kinds["http"] > 100 and kinds["tls"] > 0 and kinds["dns"] > 0
    assert any('"body":' in l for l in lines) and any('"labels":{' in l for l in lines)
    p = run("ingest", "-c", str(conf_b), "-", input=first)
    assert f"{len(lines)} lines, 0 rejected" in p.stderr
    second = run("events", "--db", str(b), "--format", "jsonl", "--limit", "100000").stdout
    assert second == first
    assert tally_of(http_rows(b)) == tally_of(http_rows(a))


def test_live_run_through_sinkd(sinkd_factory, tmp_path):
    s = sinkd_factory(extra=f"""
[proxy]
trusted = 127.0.0.1
[dns]
proxy_protocol = yes
[http]
proxy_protocol = yes
[tls]
proxy_protocol = yes
[decode]
waledac_key = {KEY}
""").start()
    truth_path = tmp_path / "truth.json"
    p = run("sim", "--bots", "30", "--days", "1", "--seed", "9", "--mix", MIX, "--ipv6", "0.25",
            "--nat", "0.2:2", "--waledac-key", KEY, "--max-checkins", "150", "--duration", "40",
            "--live", f"127.0.0.1:{s.port},{s.http_port},{s.tls_port}", "--truth", str(truth_path))
    assert "150 check-ins sent" in p.stderr
    assert s.stop() == 0
    truth = json.loads(truth_path.read_text())
    rows = http_rows(s.db)
    assert len(rows) == truth["checkins"] == 150
    assert tally_of(rows) == truth_tally(truth)
    # Every event carries the bot's synthetic address, the simulator as proxy.
    assert all(r["flags"] & 8192 and r["proxy_ip"] == "127.0.0.1" for r in rows)
    by_addr = Counter(ip(r["src_ip"]) for r in rows)
    want = Counter()
    for b in truth["bots"]:
        for d in b["days"]:
            want[ip(d["addr"])] += d["checkins"]
    assert by_addr == want
    assert any(ipaddress.ip_address(a).version == 6 for a in by_addr)
    geo = {ip(d["addr"]): (d.get("country") or "", d["asn"])
           for b in truth["bots"] for d in b["days"]}
    assert all(geo[ip(r["src_ip"])] == (r["country"] or "", r["asn"] or 0) for r in rows)
    by_bot = Counter(r["bot_id"] for r in rows if r["bot_id"])
    assert by_bot == Counter({b["id"]: b["checkins"] for b in truth["bots"]
                              if b["family"] in ID_FAMILIES and b["checkins"]})
    assert scalar(s.db, "SELECT sum(count) FROM dns_minute") == truth["dns_queries"] > 0
    assert scalar(s.db, "SELECT count(*) FROM events WHERE kind = 3") == truth["tls_connections"]


def test_live_many_connections_from_one_proxy(sinkd_factory):
    """More sequential PROXY connections than max_per_source (1024) from the
    one loopback peer: each closes before the next, so none is refused (the
    limit counts the socket's peer, not the address the header names)."""
    s = sinkd_factory(extra="""
[proxy]
trusted = 127.0.0.1
[dns]
proxy_protocol = yes
[http]
proxy_protocol = yes
[tls]
proxy_protocol = yes
""").start()
    p = run("sim", "--bots", "300", "--seed", "4", "--mix", "generic=1", "--tls", "0",
            "--max-checkins", "1100", "--duration", "60",
            "--live", f"127.0.0.1:{s.port},{s.http_port},{s.tls_port}")
    assert "1100 check-ins sent" in p.stderr and " 0 failures" in p.stderr
    assert s.stop() == 0
    assert "0 refused per source" in s.logtext()
    assert len(http_rows(s.db)) == 1100
