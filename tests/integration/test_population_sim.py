"""Population estimates against the simulator's ground truth.

`sinkd sim` generates two weeks of a botnet (Waledac bots carry their bot
id inside encrypted check-ins the decoders open with the configured key;
Kelihos bots carry none) with DHCP churn 0.3/day, 20% of bots behind NAT
(4 per address) and a cleanup half-life of 7 days, and feeds it through the
ingest path (classification, decoders, enrichment, rollups, store). The
population report, read from the rollups, is compared with the truth file
day by day; estimate and truth are printed side by side (pytest -s)."""
import json
import subprocess
from collections import Counter

import pytest

from conftest import SINKD, run

KEY = "000102030405060708090a0b0c0d0e0f"
DAYS = 14
HALF_LIFE = 7.0


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    d = tmp_path_factory.mktemp("popsim")
    conf = d / "sinkd.conf"
    conf.write_text(f"[decode]\nwaledac_key = {KEY}\n[store]\npath = {d / 'sim.db'}\n")
    p = subprocess.run([SINKD, "sim", "--bots", "2000", "--days", str(DAYS), "--half-life",
                        str(HALF_LIFE), "--churn", "0.3", "--nat", "0.2:4", "--mix",
                        "waledac=0.5,kelihos=0.5", "--waledac-key", KEY, "--store",
                        str(d / "sim.db"), "-c", str(conf), "--truth", str(d / "truth.json")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    truth = json.loads((d / "truth.json").read_text())
    active = {"waledac": Counter(), "kelihos": Counter()}
    for bot in truth["bots"]:
        for day in bot["days"]:
            active[bot["family"]][day["day"]] += 1
    return d / "sim.db", active


def population(db, *args):
    return json.loads(run("report", "population", "--store", str(db), "--format", "json",
                          *args).stdout)


def test_with_ids_exact(simulated):
    db, active = simulated
    rows = population(db, "--family", "waledac")["rows"]
    assert len(rows) == DAYS
    print("\nwaledac (bot ids): day, truth, estimate")
    for i, r in enumerate(rows):
        print(f"  {r['day']}  {active['waledac'][i]:5d}  {r['live']:5d}  {r['method']}")
        assert r["method"] == "bot ids" and r["bots_exact"]
        assert r["live"] == active["waledac"][i]


def test_without_ids_within_15_percent(simulated):
    db, active = simulated
    rows = population(db, "--family", "kelihos")["rows"]
    allrows = population(db)["rows"]
    print("\nkelihos (no ids): day, truth, addresses, estimate [lo, hi], error;"
          " all families: truth, estimate, error")
    for i, (r, a) in enumerate(zip(rows, allrows)):
        truth = active["kelihos"][i]
        total = truth + active["waledac"][i]
        err, aerr = (r["live"] - truth) / truth, (a["live"] - total) / total
        print(f"  {r['day']}  {truth:5d}  {r['sources']:5d}  {r['live']:5d} "
              f"[{r['live_lo']}, {r['live_hi']}]  {100 * err:+5.1f}%   "
              f"{total:5d}  {a['live']:5d}  {100 * aerr:+5.1f}%")
        assert "corrected" in r["method"]
        if truth >= 100:
            assert abs(err) < 0.15
            assert abs(aerr) < 0.15


def test_half_life_within_10_percent(simulated):
    db, _ = simulated
    for fam in ("waledac", "kelihos", None):
        c = population(db, *(["--family", fam] if fam else []))["cleanup"]
        print(f"\n{fam or 'all'}: half-life {c['half_life_days']:.2f} days "
              f"[{c['half_life_lo']:.2f}, {c['half_life_hi']:.2f}], truth {HALF_LIFE}")
        assert abs(c["half_life_days"] - HALF_LIFE) / HALF_LIFE < 0.10


def test_summary_answers_the_question(simulated):
    db, active = simulated
    s = json.loads(run("report", "summary", "--store", str(db), "--format", "json").stdout)
    now = s["population_now"]
    truth = active["waledac"][DAYS - 1] + active["kelihos"][DAYS - 1]
    assert abs(now["live"] - truth) / truth < 0.15
    assert s["trend"]["below_threshold_on"] is not None
    assert {r["family"] for r in s["top_families"]["rows"]} == {"waledac", "kelihos"}
    html = run("report", "summary", "--store", str(db), "--format", "html").stdout
    assert html.count("<svg") >= 3
