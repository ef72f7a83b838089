"""Authoritative answers, checked with dig and kdig."""
import re
import subprocess

import dnswire

ZONE = "bestchristmascard.com"


def section(out, name):
    """Lines of one dig section ("ANSWER", "AUTHORITY", "ADDITIONAL")."""
    m = re.search(rf";; {name} SECTION:\n(.*?)(\n\n|\Z)", out, re.S)
    return [l.split() for l in m.group(1).splitlines()] if m else []


def flags(out):
    m = re.search(r";; flags: ([a-z ]*);", out)
    return set(m.group(1).split())


def status(out):
    return re.search(r"status: (\w+)", out).group(1)


def test_a_and_aaaa_under_seized_zone(sinkd):
    out = sinkd.dig("anything." + ZONE, "A")
    assert status(out) == "NOERROR"
    assert "aa" in flags(out) and "ra" not in flags(out)
    assert [r[4] for r in section(out, "ANSWER")] == ["127.0.0.1"]
    out = sinkd.dig("deep.er.name." + ZONE, "AAAA")
    assert [r[4] for r in section(out, "ANSWER")] == ["::1"]
    out = sinkd.dig(ZONE, "A")
    assert [r[4] for r in section(out, "ANSWER")] == ["127.0.0.1"]


def test_apex_soa_ns_with_glue_and_mx(sinkd):
    out = sinkd.dig(ZONE, "SOA")
    soa = section(out, "ANSWER")[0]
    assert soa[3] == "SOA" and soa[4] == f"ns1.{ZONE}." and soa[5] == f"hostmaster.{ZONE}."
    out = sinkd.dig(ZONE, "NS")
    assert sorted(r[4] for r in section(out, "ANSWER")) == [f"ns1.{ZONE}.", f"ns2.{ZONE}."]
    glue = {(r[0], r[3], r[4]) for r in section(out, "ADDITIONAL") if r[3] in ("A", "AAAA")}
    assert (f"ns1.{ZONE}.", "A", "127.0.0.1") in glue
    assert (f"ns2.{ZONE}.", "AAAA", "::1") in glue
    out = sinkd.dig("www." + ZONE, "MX")
    mx = section(out, "ANSWER")[0]
    assert mx[3] == "MX" and mx[4] == "10" and mx[5] == f"mail.{ZONE}."


def test_nodata_has_soa_in_authority(sinkd):
    for qname, qtype in (("x." + ZONE, "TXT"), ("x." + ZONE, "NS"), ("x." + ZONE, "SOA")):
        out = sinkd.dig(qname, qtype)
        assert status(out) == "NOERROR"
        assert section(out, "ANSWER") == []
        auth = section(out, "AUTHORITY")
        assert auth and auth[0][0] == ZONE + "." and auth[0][3] == "SOA"
        assert int(auth[0][1]) <= 300


def test_outside_seized_zones_refused(sinkd):
    for name in ("example.org", "com", "xbestchristmascard.com", "."):
        out = sinkd.dig(name, "A")
        assert status(out) == "REFUSED", name
        assert "aa" not in flags(out) and "ra" not in flags(out)
        assert section(out, "ANSWER") == []


def test_case_preserved_in_question(sinkd):
    out = sinkd.dig("MiXeD.BestChristmasCard.COM", "A")
    q = re.search(r";; QUESTION SECTION:\n;(\S+)", out).group(1)
    assert q == "MiXeD.BestChristmasCard.COM."
    # The answer owner is compressed to the question, so it keeps the case too.
    assert section(out, "ANSWER")[0][0] == "MiXeD.BestChristmasCard.COM."


def test_any_is_minimal(sinkd):
    out = sinkd.dig("x." + ZONE, "ANY")
    rrs = section(out, "ANSWER")
    assert len({r[3] for r in rrs}) == 1


def test_axfr_and_chaos_refused(sinkd):
    out = sinkd.dig(ZONE, "AXFR", tcp=True)
    assert "Transfer failed" in out or "REFUSED" in out
    out = sinkd.dig("version.bind", "TXT", "-c", "CH")
    assert status(out) == "REFUSED"


def test_tcp_answers(sinkd):
    out = sinkd.dig("tcp." + ZONE, "A", tcp=True)
    assert [r[4] for r in section(out, "ANSWER")] == ["127.0.0.1"]


def test_kdig_agrees(sinkd):
    out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(sinkd.port), "+short", "k." + ZONE, "A"],
                         capture_output=True, text=True, timeout=20).stdout
    assert out.split() == ["127.0.0.1"]


def test_configured_addresses_nameservers_ttl(sinkd_factory):
    s = sinkd_factory(extra="""
[dns]
sinkhole = 192.0.2.10
sinkhole = 192.0.2.11
sinkhole = 2001:db8::10
nameserver = ns.sinkhole.example.
ttl = 77
mx =
""").start()
    try:
        out = s.dig("a." + ZONE, "A")
        ans = section(out, "ANSWER")
        assert sorted(r[4] for r in ans) == ["192.0.2.10", "192.0.2.11"]
        assert {r[1] for r in ans} == {"77"}
        out = s.dig(ZONE, "NS")
        assert [r[4] for r in section(out, "ANSWER")] == ["ns.sinkhole.example."]
        # Out-of-zone NS names get no glue.
        assert [r for r in section(out, "ADDITIONAL") if r[3] in ("A", "AAAA")] == []
        out = s.dig("a." + ZONE, "MX")
        assert section(out, "ANSWER") == [] and section(out, "AUTHORITY")[0][3] == "SOA"
    finally:
        s.stop()


def test_udp_truncation_and_tcp_retry(sinkd_factory):
    s = sinkd_factory(extra="""
[dns]
nameserver = ns1
nameserver = ns2
nameserver = ns3
nameserver = ns4
ns_address = 192.0.2.1
ns_address = 192.0.2.2
ns_address = 192.0.2.3
ns_address = 192.0.2.4
ns_address = 2001:db8::1
ns_address = 2001:db8::2
ns_address = 2001:db8::3
ns_address = 2001:db8::4
""").start()
    try:
        out = s.dig(ZONE, "NS", "+noedns", "+ignore")
        assert "tc" in flags(out)
        resp = dnswire.udp_exchange(s.port, dnswire.query(ZONE, 2, flags=0))
        assert len(resp) <= 512 and dnswire.header(resp)["tc"] == 1
        out = s.dig(ZONE, "NS", "+noedns")  # dig retries over TCP on TC
        assert "tc" not in flags(out)
        assert len(section(out, "ADDITIONAL")) == 32
    finally:
        s.stop()
