"""Protocol discovery: check-ins of a family no rule knows, sent with curl
from several loopback source addresses, come out of `sinkd report protocols`
as shapes with the right counts, distinct sources, zones and examples; the
counts merge across restarts; `sinkd rules skeleton` turns one into a rule."""
import json
import subprocess

from conftest import run

ZONE = "bestchristmascard.com"
OTHER = "adorepoem.com"


def curl(s, src, *args):
    p = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "--interface", src, "-o",
                        "/dev/null", "-w", "%{http_code}", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "200", p.stderr
    return p


def tasks(s, src, n, host=ZONE):
    # an unknown family: numeric bot number and hex token change per bot
    curl(s, src, f"http://127.0.0.1:{s.http_port}/api/v2/bots/{n}/tasks"
         f"?token={n:08x}deadbeef{n:04d}&ver=3", "-H", f"Host: www.{host}",
         "-A", "Mozilla/4.0 (compatible)", "-H", "X-Session: 1")


def gate(s, src, name):
    # another one: POST of JSON to a random-looking path
    curl(s, src, f"http://127.0.0.1:{s.http_port}/gate/{name}.php", "-H", f"Host: {ZONE}",
         "-H", "Content-Type: application/json", "--data-binary",
         '{"cmd":"poll","seq":12,"status":"idle","payload":"AAAABBBBCCCCDDDD"}')


def shapes(s, *args):
    out = run("report", "protocols", "--store", str(s.db), "--format", "json", *args).stdout
    return json.loads(out)


def by_path(rows, path):
    found = [r for r in rows if r["path"] == path]
    assert len(found) == 1, [r["path"] for r in rows]
    return found[0]


def test_report_protocols_counts_sources_domains(sinkd_factory):
    s = sinkd_factory().start()
    for i in range(12):  # 12 check-ins from 4 addresses, 12 bot numbers
        tasks(s, f"127.0.0.{10 + i % 4}", 1000 + i)
    for i, name in enumerate(["xkqzwtvb", "pqrstvwx", "bcdfghjk"]):
        gate(s, f"127.0.0.{30 + i}", name)
    tasks(s, "127.0.0.50", 7, host=OTHER)
    assert s.stop() == 0

    rows = shapes(s)
    t = by_path(rows, "/api/v2/bots/{d}/tasks")
    assert t["kind"] == "http" and t["method"] == "GET"
    assert t["count"] == 13 and t["sources"] == 5
    assert t["params"] == ["token", "ver"]
    assert "x-session" in t["headers"] and "user-agent" in t["headers"]
    assert t["body"] == "empty" and t["length"] == "0"
    assert sorted(t["domains"]) == sorted([ZONE, OTHER])
    assert t["domains"][0] == ZONE  # most frequent first
    assert len(t["examples"]) == 3
    assert len({x["src"] for x in t["examples"]}) == 3  # from different sources
    for x in t["examples"]:
        assert x["target"].startswith("/api/v2/bots/")
        assert isinstance(x["event_id"], int)

    g = by_path(rows, "/gate/{rand}.php")
    assert g["method"] == "POST" and g["count"] == 3 and g["sources"] == 3
    assert g["body"] == "json" and g["length"] == "64-255"
    assert g["domains"] == [ZONE]
    assert rows.index(t) < rows.index(g)  # most frequent first

    # an example's event id is the stored event
    ev = run("events", "--db", str(s.db), "--type", "http", "--format", "json",
             "--limit", "1000").stdout
    ids = {json.loads(l).get("id") for l in ev.splitlines() if l.strip()}
    if None not in ids:
        assert {x["event_id"] for x in t["examples"]} <= ids

    # --domain: a zone, or a name under it
    only_other = shapes(s, "--domain", OTHER.upper() + ".")
    assert [r["path"] for r in only_other] == ["/api/v2/bots/{d}/tasks"]
    assert len(shapes(s, "--domain", f"www.{ZONE}")) == 2
    assert shapes(s, "--domain", "nosuch.example") == []

    table = run("report", "protocols", "--store", str(s.db)).stdout
    assert f"{t['id']}  http  13 events  5 sources" in table
    assert "GET /api/v2/bots/{d}/tasks?token&ver" in table
    csv = run("report", "protocols", "--store", str(s.db), "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("id,kind,method,path,") and len(csv) == 1 + len(rows)

    # the skeleton of a shape, by a unique id prefix
    sk = run("rules", "skeleton", t["id"][:10], "--store", str(s.db)).stdout
    assert f"rule shape-{t['id'][:8]}" in sk
    assert 'path ~ "^/api/v2/bots/[0-9]+/tasks$"' in sk
    assert "\tparam token\n" in sk and "\theader x-session\n" in sk
    assert "\tmethod GET\n" in sk and sk.rstrip().endswith("end")
    gsk = run("rules", "skeleton", g["id"], "--store", str(s.db)).stdout
    assert f'zone = "{ZONE}"' in gsk and 'path ~ "^/gate/[A-Za-z0-9]+\\.php$"' in gsk
    bad = run("rules", "skeleton", "ffffffffffffffff", "--store", str(s.db), check=False)
    assert bad.returncode == 1 and "no shape matches" in bad.stderr


def test_shapes_merge_across_restarts(sinkd_factory):
    s = sinkd_factory().start()
    for i in range(4):
        tasks(s, f"127.0.0.{60 + i}", i)
    assert s.stop() == 0
    first = by_path(shapes(s), "/api/v2/bots/{d}/tasks")
    assert first["count"] == 4 and first["sources"] == 4

    s.start()
    for i in range(6):  # two addresses seen before, four new
        tasks(s, f"127.0.0.{62 + i}", 100 + i)
    assert s.stop() == 0
    merged = by_path(shapes(s), "/api/v2/bots/{d}/tasks")
    assert merged["id"] == first["id"]
    assert merged["count"] == 10 and merged["sources"] == 8
    assert merged["first_seen"] == first["first_seen"]
    assert merged["last_seen"] >= first["last_seen"]
    assert len(merged["examples"]) == 3


def test_many_sources_use_the_sketch(sinkd_factory):
    s = sinkd_factory().start()
    for i in range(40):
        tasks(s, f"127.0.1.{i + 1}", i)
    assert s.stop() == 0
    t = by_path(shapes(s), "/api/v2/bots/{d}/tasks")
    assert t["count"] == 40
    assert abs(t["sources"] - 40) <= 4  # HyperLogLog past 8 exact sources


def test_report_errors(tmp_path):
    p = run("report", "protocols", "--store", str(tmp_path / "none.db"), check=False)
    assert p.returncode == 1 and "no store at" in p.stderr
    p = run("report", "protocols", "--format", "xml", check=False)
    assert p.returncode == 2 and "--format" in p.stderr
    p = run("rules", "skeleton", "XYZ", check=False)
    assert p.returncode == 2


def test_raw_and_tls_shapes(sinkd_factory):
    import socket
    s = sinkd_factory().start()
    for i in range(3):  # a binary protocol on a catch-all port
        c = socket.create_connection(("127.0.0.1", s.any_port), timeout=5)
        c.sendall(bytes([0x17, 0x03, i]) + bytes(range(40, 104)))
        c.close()
    p = subprocess.run(["curl", "-s", "-k", "-o", "/dev/null", "--resolve",
                        f"www.{ZONE}:{s.tls_port}:127.0.0.1",
                        f"https://www.{ZONE}:{s.tls_port}/"], timeout=30)
    assert p.returncode == 0
    import time
    time.sleep(0.5)  # the catch-all closes on its own time
    assert s.stop() == 0
    rows = shapes(s)
    raw = [r for r in rows if r["kind"] == "raw"]
    assert len(raw) == 1, rows
    assert raw[0]["method"].startswith("RAW/tcp") and raw[0]["count"] == 3
    assert raw[0]["body"] == "binary" and raw[0]["length"] == "64-255"
    tls = [r for r in rows if r["kind"] == "tls"]
    assert len(tls) == 1 and tls[0]["path"].startswith("ja4:t13")
    assert tls[0]["domains"] == [ZONE]
    https = [r for r in rows if r["kind"] == "http"]
    assert len(https) == 1 and https[0]["path"] == "/"  # the request inside TLS


def test_claimed_traffic_has_no_shape_and_skeleton_checks(sinkd_factory, tmp_path):
    s = sinkd_factory().start()
    for i in range(3):  # Waledac check-ins: the shipped rules claim them
        curl(s, f"127.0.0.{70 + i}", f"http://127.0.0.1:{s.http_port}/qwxmtz.png",
             "-H", f"Host: www.{ZONE}", "-A", "Mozilla", "-e", "Mozilla",
             "-d", "a=QUJDREVGR0hJSktMTU5PUA&b=eHl6")
    for i in range(2):
        gate(s, f"127.0.0.{80 + i}", "zzkqxwvt")
    assert s.stop() == 0
    rows = shapes(s)
    assert [r["path"] for r in rows] == ["/gate/{rand}.php"]
    sk = run("rules", "skeleton", rows[0]["id"], "--store", str(s.db)).stdout
    f = tmp_path / "shape.rules"
    f.write_text(sk)
    p = run("rules", "check", str(f), check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    # the new rule claims the family: its traffic labelled, no longer a shape
    s2 = sinkd_factory(extra=f"[rules]\nfiles = {f}\n").start()
    gate(s2, "127.0.0.90", "qqqqzzzz")
    assert s2.stop() == 0
    assert shapes(s2) == []
    ev = json.loads(run("events", "--db", str(s2.db), "--type", "http", "--format",
                        "json").stdout.splitlines()[0])
    assert ev["family"] == f"shape-{rows[0]['id'][:8]}"


def test_bounded_table_counts_what_it_cannot_keep(sinkd_factory):
    import re
    s = sinkd_factory(extra="[pipeline]\nshapes_max = 16\n").start()
    words = ["alpha", "bravo", "delta", "echo", "golf", "hotel", "india", "kilo", "lima",
             "mike", "oscar", "papa", "romeo", "sierra", "tango", "victor", "whiskey",
             "yankee", "zulu", "juliet"]
    for i, w in enumerate(words):  # 20 shapes, 16 slots
        curl(s, "127.0.0.20", f"http://127.0.0.1:{s.http_port}/{w}/index.php",
             "-H", f"Host: {ZONE}")
    assert s.stop() == 0
    m = re.search(r"shapes: (\d+) in memory, (\d+) evicted after writing, (\d+) events",
                  s.logtext())
    assert m, s.logtext()
    in_memory, evicted, dropped = map(int, m.groups())
    assert in_memory == 16
    stored = shapes(s, "--limit", "100")
    # every shape is either stored or its event counted as not counted
    assert len(stored) + dropped == 20
    assert evicted + dropped == 4  # each shape beyond 16 evicted one or was dropped
    assert all(r["count"] == 1 for r in stored)
