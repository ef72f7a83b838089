"""The dashboard in headless Chromium (tests/e2e/dashboard.mjs, playwright-
core with Debian's chromium): it loads with no console errors and no
off-origin request, shows the numbers the API returns for real check-ins,
and its live counter rises as new check-ins arrive. The screenshot is kept
(build/artifacts/dashboard.png when SINKD_ARTIFACTS is set, else the
pytest tmp dir) and its path printed."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from adminlib import ZONE, checkin_http, checkin_raw, checkin_tls, get_json, wait_for

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "e2e" / "dashboard.mjs"
THIRD = ROOT / "third_party" / "node_modules"

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and Path("/usr/bin/chromium").exists()
         and (THIRD / "playwright-core").exists()),
    reason="node, /usr/bin/chromium or third_party/node_modules missing "
           "(scripts/install-deps.sh)")


def read_step(proc, want):
    line = proc.stdout.readline()
    assert line, f"dashboard.mjs ended before '{want}':\n{proc.stderr.read()}"
    msg = json.loads(line)
    assert msg["step"] == want, msg
    return msg


def api_view(s):
    """What the page should show, from the API itself (same window: the
    page asks for the last hour in Unix seconds)."""
    c = get_json(s, "/api/v1/counters")
    t = get_json(s, "/api/v1/timeline?since=1h&until=now")
    n_events = get_json(s, "/api/v1/events?limit=20&since=1h")["count"]
    q = "since=1h&top=10"
    domains = {r["domain"]: r["events"] for r in get_json(s, f"/api/v1/report/domains?{q}")["rows"]}
    fams = {r["family"]: r["events"] for r in get_json(s, f"/api/v1/report/families?{q}")["rows"]}
    live = get_json(s, "/api/v1/report/summary?since=1h")["population_now"]["live"]
    return c, t, domains, fams, n_events, live


def test_dashboard_shows_api_numbers_and_goes_live(sinkd_factory, tmp_path):
    other = "bestchristmascard.com", "adorepoem.com"
    s = sinkd_factory().start()
    checkin_http(s, 4)
    checkin_http(s, 2, host=f"x.{other[1]}")
    checkin_tls(s, 1)
    checkin_raw(s)
    for i in range(5):
        s.dig(f"d{i}.{ZONE}", "A")
    wait_for(lambda: get_json(s, "/api/v1/counters")["checkins"]["total"] >= 9,
             what="check-ins stored")
    wait_for(lambda: get_json(s, "/api/v1/timeline?since=10m")["totals"]["dns"] == 5,
             what="DNS aggregates stored")

    art = os.environ.get("SINKD_ARTIFACTS")
    shot = Path(art) / "dashboard.png" if art else tmp_path / "dashboard.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["node", str(SCRIPT), f"http://127.0.0.1:{s.admin_port}/",
                             str(shot)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SINKD_THIRD_PARTY_DIR": str(THIRD),
                                 "SINKD_E2E_FILTER_DOMAIN": other[1]})
    try:
        loaded = read_step(proc, "loaded")["shown"]
        c, t, domains, fams, n_events, live = api_view(s)
        assert loaded["live_checkins"] == c["checkins"]["total"] == 9
        assert loaded["live_dns"] == c["dns"]["queries"] == 5
        assert loaded["range_checkins"] == t["totals"]["checkins"] == 9
        assert loaded["range_dns"] == t["totals"]["dns"] == 5
        assert loaded["top_domains"] == domains
        assert domains[other[1]] == 2 and domains[ZONE] >= 4
        assert loaded["top_families"] == fams and fams["waledac"] == 6
        assert loaded["population"] == live >= 1, (loaded["population"], live)
        assert loaded["health"] == "true" and loaded["drops"] == 0
        shapes = get_json(s, "/api/v1/report/protocols?limit=10")["shapes"]
        assert loaded["shapes"] == {x["id"]: x["count"] for x in shapes} and shapes
        assert loaded["charts"] == 3 and loaded["events_rows"] == n_events == 14

        checkin_http(s, 3)
        proc.stdin.write(json.dumps({"sent": 3}) + "\n")
        proc.stdin.close()
        live = read_step(proc, "live")
        assert live["shown"]["live_checkins"] >= live["before"] + 3
        c, t, domains, fams2, _, _ = api_view(s)
        assert live["shown"]["live_checkins"] == c["checkins"]["total"] == 12
        assert live["shown"]["range_checkins"] == t["totals"]["checkins"] == 12
        assert live["shown"]["top_domains"] == domains
        assert live["shown"]["top_families"] == fams2 and fams2["waledac"] == 9
        f = read_step(proc, "filtered")["shown"]
        ft = get_json(s, f"/api/v1/timeline?since=1h&until=now&domain={other[1]}")["totals"]
        fd = get_json(s, f"/api/v1/report/domains?since=1h&top=10&domain={other[1]}")["rows"]
        assert f["range_checkins"] == ft["checkins"] == 2 and f["range_dns"] == 0
        assert f["top_domains"] == {r["domain"]: r["events"] for r in fd} == {other[1]: 2}
        assert f["events_rows"] == 2
        done = read_step(proc, "done")
        assert done["errors"] == [], done["errors"]
        assert Path(done["screenshot"]).stat().st_size > 10000
        print(f"\ndashboard screenshot: {done['screenshot']}")
        proc.wait(timeout=60)  # the browser closes
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read()
    s.stop()
