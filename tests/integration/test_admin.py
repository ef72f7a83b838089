"""The admin endpoint of `sinkd serve` driven with real clients: /metrics
parsed strictly, /health ready and not ready, the JSON API checked against
docs/openapi.yaml and against `sinkd events`, cursor paging, bad input,
bearer tokens, the refusal to serve a public address unguarded."""
import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adminlib import (OpenAPI, ZONE, checkin_http, checkin_raw, checkin_tls, get_json,
                      metric, parse_prometheus, wait_for)
from conftest import SINKD, free_port, run


@pytest.fixture(scope="module")
def api():
    return OpenAPI()


def stored_checkins(s):
    return get_json(s, "/api/v1/counters")["checkins"]["total"]


def test_metrics_count_real_traffic(sinkd):
    digs = 5
    for i in range(digs):
        assert "127.0.0.1" in sinkd.dig(f"n{i}.{ZONE}", "A", "+short")
    sinkd.dig("not-seized.example", "A")  # REFUSED
    checkin_http(sinkd, 3)
    checkin_tls(sinkd, 2)
    # A TLS check-in is two rows: the handshake (tls) and the request in it (http).
    wait_for(lambda: stored_checkins(sinkd) >= 7, what="check-ins stored")
    code, headers, body = sinkd.admin_get("/metrics")
    assert code == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    fams = parse_prometheus(text)
    # The reference parser agrees on every family and sample count.
    ref = {f.name: f for f in text_string_to_metric_families(text)}
    for name, f in fams.items():
        base = name[:-6] if name.endswith("_total") and f["type"] == "counter" else name
        assert base in ref or name in ref, name
    assert metric(fams, "sinkd_dns_queries_total") == digs + 1
    assert metric(fams, "sinkd_dns_answers_total", rcode="noerror") == digs
    assert metric(fams, "sinkd_dns_answers_total", rcode="refused") == 1
    assert metric(fams, "sinkd_checkins_stored_total", kind="http") == 5
    assert metric(fams, "sinkd_checkins_stored_total", kind="tls") == 2
    assert metric(fams, "sinkd_tls_handshakes_total", result="ok") == 2
    assert metric(fams, "sinkd_tls_handshakes_total", result="failed") == 0
    assert metric(fams, "sinkd_capture_requests_total") >= 5
    assert metric(fams, "sinkd_events_dropped_total", listener="dns", reason="queue_full") == 0
    assert metric(fams, "sinkd_dns_rrl_actions_total", action="drop") == 0
    assert metric(fams, "sinkd_store_batch_duration_seconds_count") >= 1
    assert metric(fams, "sinkd_queue_capacity_bytes") > 0
    assert metric(fams, "sinkd_ready") == 1
    assert metric(fams, "process_resident_memory_bytes") > 1 << 20
    assert metric(fams, "process_cpu_seconds_total") > 0
    assert abs(metric(fams, "process_start_time_seconds") - time.time()) < 120
    assert 5 < metric(fams, "process_open_fds") <= metric(fams, "process_max_fds")
    # No monitor configured: none of its families.
    assert not any(n.startswith("sinkd_monitor_") for n in fams)


def test_metrics_include_domain_monitor(sinkd_factory, tmp_path):
    # One seized domain, parent server that never answers: a real round
    # that ends "unresolvable" within the timeout.
    dead = free_port()
    s = sinkd_factory(extra=f"[monitor]\nenabled = yes\ninterval_s = 3600\n"
                            f"parent = 127.0.0.1:{dead}\ntimeout_ms = 100\nretries = 0\n")
    s.start()
    def rounds():
        fams = parse_prometheus(s.admin_get("/metrics")[2].decode())
        if metric(fams, "sinkd_monitor_rounds_total") < 1:
            return None
        try:
            metric(fams, "sinkd_monitor_domain_state", domain=ZONE, state="unresolvable")
        except KeyError:
            return None  # the round's results are published just after the count
        return fams
    fams = wait_for(rounds, timeout=30, what="a monitor round")
    assert metric(fams, "sinkd_monitor_domains", state="unresolvable") == 273
    assert metric(fams, "sinkd_monitor_domains", state="ok") == 0
    assert metric(fams, "sinkd_monitor_domain_state", domain=ZONE, state="unresolvable") == 1
    d = get_json(s, "/api/v1/domains")
    assert d["monitor"]["enabled"] is True and d["monitor"]["domains"]["unresolvable"] == 273
    assert d["count"] == 273
    one = [x for x in d["domains"] if x["domain"] == ZONE][0]
    assert one["state"] == "unresolvable" and one["source"] == "sinkd serve"
    assert get_json(s, "/api/v1/domains?state=ok")["count"] == 0
    OpenAPI().validate("Domains", d)
    s.stop()


def test_health_ready_then_not_ready_when_store_file_goes(sinkd, api):
    h = get_json(sinkd, "/health")
    api.validate("Health", h)
    assert h["ready"] is True and h["status"] == "ready"
    assert all(c["ok"] for c in h["checks"].values())
    moved = sinkd.db.with_name("moved.db")
    os.rename(sinkd.db, moved)
    try:
        code, _, body = sinkd.admin_get("/health")
        assert code == 503
        h = json.loads(body)
        api.validate("Health", h)
        assert h["ready"] is False and h["live"] is True
        assert h["checks"]["store"]["ok"] is False
        assert "gone" in h["checks"]["store"]["problem"]
        fams = parse_prometheus(sinkd.admin_get("/metrics")[2].decode())
        assert metric(fams, "sinkd_ready") == 0
    finally:
        os.rename(moved, sinkd.db)
    assert get_json(sinkd, "/health")["ready"] is True


def test_health_not_ready_while_the_rings_are_full(sinkd_factory, api):
    """Hold SQLite's write lock so the store writer waits (less than its 5 s
    busy timeout: nothing fails), the pipeline waits for the writer, and a
    burst of DNS queries fills the tiny worker ring: /health says not ready
    because of the queue, /metrics counts the drops; once the lock goes the
    rings drain and /health is ready again."""
    import sqlite3
    from dnswire import query
    s = sinkd_factory(extra="[pipeline]\nqueue_size = 16\n[store]\ncommit_interval_ms = 20\n"
                            "[dns]\nlog_every_query = yes\n")
    s.start()
    assert get_json(s, "/health")["ready"] is True
    db = sqlite3.connect(str(s.db), timeout=1, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def dns_drops():
        fams = parse_prometheus(s.admin_get("/metrics")[2].decode())
        return metric(fams, "sinkd_events_dropped_total", listener="dns", reason="queue_full")

    try:
        # A few events, then time for two commit intervals: the writer takes
        # the first batch and waits for the lock, the pipeline waits for the
        # writer and stops draining the rings.
        for i in range(20):
            u.sendto(query(f"w{i}.{ZONE}"), ("127.0.0.1", s.port))
        time.sleep(0.3)
        # Bursts faster than the pipeline drains overflow the ring (drops);
        # once the pipeline holds a second batch it waits for the writer,
        # and the next burst leaves the ring full until the lock goes.
        sent, t0 = 0, time.time()
        while True:
            for i in range(1000):
                u.sendto(query(f"f{sent}.{ZONE}"), ("127.0.0.1", s.port))
                sent += 1
            time.sleep(0.1)
            if s.admin_get("/health")[0] == 503:
                break
            assert time.time() - t0 < 3, "the rings never stayed full"
        assert dns_drops() > 0
        code, _, body = s.admin_get("/health")
        assert code == 503, body
        h = json.loads(body)
        api.validate("Health", h)
        assert h["checks"]["queue"]["ok"] is False
        assert h["checks"]["queue"]["max_fill"] >= h["checks"]["queue"]["threshold"] == 0.9
        assert h["checks"]["store"]["ok"] is True and h["checks"]["listeners"]["ok"] is True
        fams = parse_prometheus(s.admin_get("/metrics")[2].decode())
        assert metric(fams, "sinkd_queue_max_fill_ratio") >= 0.9
        assert metric(fams, "sinkd_ready") == 0
    finally:
        db.execute("ROLLBACK")
        db.close()
        u.close()
    wait_for(lambda: s.admin_get("/health")[0] == 200, timeout=10, what="ready again")
    fams = parse_prometheus(s.admin_get("/metrics")[2].decode())
    assert metric(fams, "sinkd_events_dropped_total", listener="dns", reason="queue_full") > 0
    assert metric(fams, "sinkd_store_events_failed_total") == 0
    s.stop()


def test_health_reports_the_configured_queue_threshold(sinkd_factory, api):
    s = sinkd_factory(extra="[pipeline]\nqueue_size = 16\n[admin]\nhealth_queue_percent = 1\n")
    s.start()
    h = get_json(s, "/health")
    api.validate("Health", h)
    q = h["checks"]["queue"]
    assert q["threshold"] == 0.01 and q["capacity_bytes"] >= 16 * 1000
    assert q["ok"] is True and q["max_fill"] < 0.01  # idle: the rings are empty
    s.stop()


def test_api_matches_openapi_and_sinkd_events(sinkd, api):
    for i in range(3):
        sinkd.dig(f"q{i}.{ZONE}", "A")
    checkin_http(sinkd, 4)
    checkin_tls(sinkd, 1)
    checkin_raw(sinkd)
    wait_for(lambda: stored_checkins(sinkd) >= 7, what="seven check-in rows stored")
    time.sleep(0.5)  # the DNS aggregates go with the next commit
    page = get_json(sinkd, "/api/v1/events?limit=1000")
    api.validate(api.response_schema("/api/v1/events", 200), page)
    assert page["complete"] is True and page["next_cursor"] is None
    cli = [json.loads(l) for l in sinkd.events("--format", "json", "--limit", "1000")
           .stdout.splitlines()]
    assert len(page["events"]) == len(cli) == page["count"]
    for got, want in zip(page["events"], cli):
        extra = {k: got[k] for k in got if k not in want}
        assert set(extra) <= {"ts_ns", "family", "msg_type", "bot_id", "country", "asn"}
        assert {k: got[k] for k in want} == want
    kinds = [e["kind"] for e in page["events"]]
    assert kinds.count("http") == 5 and kinds.count("tls") == 1 and kinds.count("raw") == 1
    dns = [e for e in page["events"] if e["kind"] == "dns"]
    assert sum(e["count"] for e in dns) == 3 and all(e["aggregate"] for e in dns)

    http = get_json(sinkd, "/api/v1/events?type=http&limit=10")
    assert http["count"] == 5 and {e["kind"] for e in http["events"]} == {"http"}
    by_domain = get_json(sinkd, f"/api/v1/events?domain={ZONE}&type=tls")
    assert by_domain["count"] == 1
    assert get_json(sinkd, "/api/v1/events?ip=192.0.2.1")["count"] == 0
    assert get_json(sinkd, "/api/v1/events?family=nosuchfamily")["count"] == 0

    c = get_json(sinkd, "/api/v1/counters")
    api.validate("Counters", c)
    assert c["checkins"] == {"http": 5, "tls": 1, "raw": 1, "total": 7}
    assert c["dns"]["queries"] == 3

    t = get_json(sinkd, "/api/v1/timeline?since=10m")
    api.validate("Timeline", t)
    assert t["totals"] == {"checkins": 7, "dns": 3, "http": 5, "tls": 1, "raw": 1}
    assert sum(m["checkins"] for m in t["minutes"]) == 7
    assert all(m["minute"] % 60 == 0 for m in t["minutes"])
    assert get_json(sinkd, "/api/v1/timeline?since=2h&until=1h")["totals"]["checkins"] == 0
    z = get_json(sinkd, f"/api/v1/timeline?since=10m&domain={ZONE}")["totals"]
    assert z["dns"] == 3 and z["http"] == 5  # the raw check-in has no zone
    assert get_json(sinkd, "/api/v1/timeline?since=10m&domain=adorepoem.com")["totals"] == \
        {"checkins": 0, "dns": 0, "http": 0, "tls": 0, "raw": 0}
    w = get_json(sinkd, "/api/v1/timeline?since=10m&family=waledac")["totals"]
    assert w["dns"] == 0 and w["http"] == 4  # the request inside TLS is not Waledac-shaped

    d = get_json(sinkd, "/api/v1/domains")
    api.validate("Domains", d)
    assert d["monitor"] == {"enabled": False} and d["domains"] == []


def test_cursor_pages_through_everything_once(sinkd, api):
    checkin_http(sinkd, 7)
    for i in range(4):
        sinkd.dig(f"p{i}.{ZONE}", "A")
    wait_for(lambda: stored_checkins(sinkd) >= 7, what="seven check-ins")
    time.sleep(0.5)
    full = get_json(sinkd, "/api/v1/events")["events"]
    assert len(full) == 11
    seen, cursor, pages = [], None, 0
    while True:
        q = "/api/v1/events?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get_json(sinkd, q)
        api.validate("EventsPage", page)
        assert page["count"] <= 2
        seen += page["events"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20
    assert [json.dumps(e, sort_keys=True) for e in seen] == \
           [json.dumps(e, sort_keys=True) for e in full]
    assert pages == 6


BAD = [
    ("/api/v1/events?limit=0", "limit"),
    ("/api/v1/events?limit=1001", "limit"),
    ("/api/v1/events?limit=abc", "limit"),
    ("/api/v1/events?limit=99999999999999999999999", "limit"),
    ("/api/v1/events?since=yesterday", "since"),
    ("/api/v1/events?until=2026-13-45T00:00:00Z", "until"),
    ("/api/v1/events?since=1h&until=2h", "until"),
    ("/api/v1/events?ip=300.1.2.3", "ip"),
    ("/api/v1/events?type=bogus", "type"),
    ("/api/v1/events?domain=a%20b", "domain"),
    ("/api/v1/events?domain=" + "a" * 300, "domain"),
    ("/api/v1/events?family=" + "f" * 40, "family"),
    ("/api/v1/events?family=a%27%3B--", "family"),
    ("/api/v1/events?cursor=12", "cursor"),
    ("/api/v1/events?cursor=abc.def", "cursor"),
    ("/api/v1/events?cursor=1.99999999", "cursor"),
    ("/api/v1/events?limit=1&limit=2", "limit"),
    ("/api/v1/events?sort=asc", "sort"),
    ("/api/v1/timeline?since=30d", "since"),
    ("/api/v1/timeline?since=now&until=1h", "until"),
    ("/api/v1/timeline?domain=a%2Fb", "domain"),
    ("/api/v1/timeline?family=" + "x" * 32, "family"),
    ("/api/v1/domains?state=sleepy", "state"),
    ("/api/v1/live?interval=0", "interval"),
    ("/api/v1/live?interval=61", "interval"),
    ("/health?verbose=1", "verbose"),
    ("/metrics?x=1", "x"),
    ("/api/v1/counters?x=1", "x"),
]


@pytest.mark.parametrize("path,param", BAD)
def test_bad_parameters_get_400_naming_them(sinkd, api, path, param):
    code, headers, body = sinkd.admin_get(path)
    assert code == 400, (path, code, body)
    err = json.loads(body)
    api.validate("Error", err)
    assert err["parameter"] == param and err["status"] == 400
    assert param in err["error"]


def test_unknown_path_method_and_process_survives(sinkd):
    assert sinkd.admin_get("/api/v1/nothing")[0] == 404
    req = urllib.request.Request(f"http://127.0.0.1:{sinkd.admin_port}/api/v1/events",
                                 data=b"x", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("POST accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 405
    # Garbage on the admin socket, then it still answers.
    c = socket.create_connection(("127.0.0.1", sinkd.admin_port), timeout=5)
    c.sendall(b"\x16\x03\x01garbage\r\n\r\n")
    c.recv(100)
    c.close()
    assert get_json(sinkd, "/health")["live"] is True


def test_live_stream_counts_new_checkins(sinkd, api):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", sinkd.admin_port, timeout=10)
    conn.request("GET", "/api/v1/live?interval=1")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"

    def next_event():
        lines = []
        while True:
            line = r.readline().decode()
            assert line, "stream ended"
            if line == "\n":
                break
            lines.append(line.rstrip("\n"))
        assert lines[0] == "event: counters" and lines[1].startswith("id: ")
        data = json.loads(lines[2][len("data: "):])
        api.validate("Counters", data)
        return data

    first = next_event()
    checkin_http(sinkd, 3)
    deadline = time.time() + 10
    while True:
        ev = next_event()
        if ev["checkins"]["total"] >= first["checkins"]["total"] + 3:
            break
        assert time.time() < deadline
    assert ev["capture"]["requests"] >= 3
    conn.close()


def test_token_guards_everything_but_static_files(sinkd_factory, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-value\n")
    token_file.chmod(0o600)
    s = sinkd_factory(extra=f"[admin]\ntoken_file = {token_file}\n")
    s.start()
    for path in ("/health", "/metrics", "/api/v1/events", "/api/v1/counters"):
        code, headers, _ = s.admin_get(path)
        assert code == 401 and headers["WWW-Authenticate"].startswith("Bearer"), path
        assert s.admin_get(path, token="s3cret-token-valuX")[0] == 401
        assert s.admin_get(path, token="s3cret")[0] == 401
        assert s.admin_get(path, token="s3cret-token-value")[0] == 200, path
    assert s.admin_get("/")[0] == 200  # the page itself holds no data
    s.stop()


def test_refuses_public_address_without_token(tmp_path):
    port = free_port()
    conf = tmp_path / "public.conf"
    conf.write_text(f"[admin]\nlisten = 0.0.0.0:{port}\n")
    p = run("config", "check", str(conf), check=False)
    assert p.returncode != 0
    assert f"{conf}:2: [admin] listen: 0.0.0.0:{port} is not a loopback address" in p.stderr
    # An empty token file does not count as a token: serve refuses too.
    empty = tmp_path / "empty"
    empty.write_text("\n")
    from conftest import Sinkd
    s = Sinkd(tmp_path, extra=f"[admin]\nlisten = 0.0.0.0:{port}\ntoken_file = {empty}\n")
    p = subprocess.run([SINKD, "serve", "-c", str(s.conf)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1
    assert "token_file" in p.stderr and "is empty" in p.stderr
    assert "serving" not in p.stdout


def test_admin_off_serves_nothing(sinkd_factory):
    s = sinkd_factory(extra="[admin]\nlisten = off\n")
    s.start()
    assert "\n  admin " not in s.logtext()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.admin_port), timeout=2).close()
    s.stop()


def test_rule_hits_and_decode_results_in_metrics(sinkd, api):
    checkin_http(sinkd, 4)   # Waledac-shaped POSTs (Referer/User-Agent Mozilla, a=...&b=...)
    checkin_raw(sinkd, b"GARBAGE NOT A BOT\r\n")
    wait_for(lambda: stored_checkins(sinkd) >= 5, what="check-ins stored")
    events = get_json(sinkd, "/api/v1/events?limit=100")["events"]
    by_family = {}
    for e in events:
        if e["kind"] != "dns":
            by_family[e["family"]] = by_family.get(e["family"], 0) + 1
    assert sum(by_family.values()) == 5
    fams = parse_prometheus(sinkd.admin_get("/metrics")[2].decode())
    assert metric(fams, "sinkd_classify_events_total") >= 5
    assert metric(fams, "sinkd_rules_loaded") > 0
    for family, n in by_family.items():
        if family != "unknown":
            assert metric(fams, "sinkd_rule_hits_total", family=family) == n, family
    assert metric(fams, "sinkd_classify_unknown_total") == by_family.get("unknown", 0)
    assert "waledac" in by_family, by_family
    decoded = metric(fams, "sinkd_decode_results_total", result="ok") + \
        metric(fams, "sinkd_decode_results_total", result="failed")
    assert decoded == sum(1 for e in events if e.get("decode_status"))
    # The family filter of the API agrees with the counter.
    w = get_json(sinkd, "/api/v1/events?family=waledac&limit=100")
    api.validate("EventsPage", w)
    assert w["count"] == by_family["waledac"]


REPORTS = ["summary", "population", "countries", "asns", "domains", "families", "timeline"]


def test_reports_equal_sinkd_report(sinkd, api):
    checkin_http(sinkd, 3)
    checkin_http(sinkd, 2, host="www.adorepoem.com")
    checkin_raw(sinkd)
    wait_for(lambda: stored_checkins(sinkd) >= 6, what="check-ins stored")
    for name in REPORTS:
        got = get_json(sinkd, f"/api/v1/report/{name}")
        api.validate(api.doc["paths"]["/api/v1/report/{name}"]["get"]["responses"]["200"]
                     ["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1], got)
        cli = json.loads(run("report", name, "--format", "json", "--store", str(sinkd.db)).stdout)
        assert got == cli, name
    fam = get_json(sinkd, "/api/v1/report/families")
    assert {r["family"]: r["events"] for r in fam["rows"]}["waledac"] == 5
    dom = get_json(sinkd, "/api/v1/report/domains?top=1")
    assert len(dom["rows"]) == 1 and dom["rows"][0]["domain"] == ZONE
    filtered = get_json(sinkd, "/api/v1/report/domains?domain=adorepoem.com")
    assert [r["domain"] for r in filtered["rows"]] == ["adorepoem.com"]
    day = get_json(sinkd, "/api/v1/report/timeline?bucket=day")
    assert day["bucket"] == "day"


@pytest.mark.parametrize("path,param", [
    ("/api/v1/report/summary?country=DEU", "country"),
    ("/api/v1/report/summary?asn=-5", "asn"),
    ("/api/v1/report/summary?asn=AS99999999999", "asn"),
    ("/api/v1/report/countries?top=0", "top"),
    ("/api/v1/report/countries?top=101", "top"),
    ("/api/v1/report/countries?bucket=hour", "bucket"),
    ("/api/v1/report/timeline?bucket=week", "bucket"),
    ("/api/v1/report/families?family=a%20b", "family"),
    ("/api/v1/report/families?since=nope", "since"),
    ("/api/v1/report/families?since=1h&until=2h", "until"),
    ("/api/v1/report/families?where=1", "where"),
])
def test_report_bad_parameters(sinkd, api, path, param):
    code, _, body = sinkd.admin_get(path)
    assert code == 400, (path, body)
    err = json.loads(body)
    api.validate("Error", err)
    assert err["parameter"] == param


def test_unknown_report_is_404(sinkd, api):
    code, _, body = sinkd.admin_get("/api/v1/report/notify")
    assert code == 404
    api.validate("Error", json.loads(body))


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and two client certificates:
    one signed by the CA, one by a stranger."""
    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=sinkd test CA")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, ca in (("server", "ca"), ("client", "ca"), ("stranger", None)):
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        if ca:
            ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "ext.cnf")
        else:
            ossl("x509", "-req", "-in", f"{name}.csr", "-signkey", f"{name}.key",
                 "-out", f"{name}.pem", "-days", "2")


def test_client_certificates_required(sinkd_factory, tmp_path):
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    s = sinkd_factory(extra=f"[admin]\ncert_file = {pki}/server.pem\nkey_file = {pki}/server.key\n"
                            f"client_ca_file = {pki}/ca.pem\n")
    s.start()
    assert f"admin https://127.0.0.1:{s.admin_port}/" in s.logtext()
    url = f"https://127.0.0.1:{s.admin_port}/health"

    def curl(*args):
        p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            "--max-time", "10", "--cacert", str(pki / "ca.pem"), *args, url],
                           capture_output=True, text=True, timeout=30)
        return p.stdout

    assert curl("--cert", str(pki / "client.pem"), "--key", str(pki / "client.key")) == "200"
    assert curl() == "403"  # no certificate
    assert curl("--cert", str(pki / "stranger.pem"), "--key", str(pki / "stranger.key")) == "403"
    s.stop()


def test_client_ca_alone_guards_a_public_address(tmp_path):
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    conf = tmp_path / "c.conf"
    conf.write_text(f"[admin]\nlisten = 0.0.0.0:{free_port()}\ncert_file = {pki}/server.pem\n"
                    f"key_file = {pki}/server.key\nclient_ca_file = {pki}/ca.pem\n")
    assert run("config", "check", str(conf), check=False).returncode == 0
    conf.write_text(f"[admin]\nclient_ca_file = {pki}/ca.pem\n")
    p = run("config", "check", str(conf), check=False)
    assert p.returncode == 1 and "client_ca_file needs cert_file and key_file" in p.stderr


def test_protocol_shapes_equal_sinkd_report_protocols(sinkd, api):
    for i in range(3):
        p = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-A", "XBot/1.0",
                            "-H", f"Host: www.{ZONE}",
                            f"http://127.0.0.1:{sinkd.http_port}/gate{i}.php?id={i}&v=2"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0
    checkin_http(sinkd, 2)  # Waledac: claimed by a rule, no shape
    wait_for(lambda: get_json(sinkd, "/api/v1/report/protocols")["total"] >= 1,
             what="a shape stored")
    got = get_json(sinkd, "/api/v1/report/protocols")
    api.validate("Protocols", got)
    cli = json.loads(run("report", "protocols", "--format", "json", "--store",
                         str(sinkd.db)).stdout)
    assert got["shapes"] == cli and got["count"] == len(cli) == got["total"]
    assert sum(s["count"] for s in got["shapes"]) == 3
    assert get_json(sinkd, "/api/v1/report/protocols?domain=adorepoem.com")["total"] == 0
    assert get_json(sinkd, f"/api/v1/report/protocols?domain={ZONE.upper()}")["total"] == \
        got["total"]
    for path, param in (("/api/v1/report/protocols?limit=0", "limit"),
                        ("/api/v1/report/protocols?domain=a%20b", "domain"),
                        ("/api/v1/report/protocols?since=1h", "since")):
        code, _, body = sinkd.admin_get(path)
        assert code == 400 and json.loads(body)["parameter"] == param
