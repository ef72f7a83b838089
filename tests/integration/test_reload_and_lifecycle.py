"""SIGHUP reload without dropping queries, bad reloads keep the old state,
start-up errors are clear, privileges are dropped."""
import os
import pwd
import signal
import socket
import threading
import time

import pytest

import dnswire
from conftest import run


def answers(port, name):
    resp = dnswire.udp_exchange(port, dnswire.query(name))
    h = dnswire.header(resp)
    return h["rcode"] == 0 and h["an"] == 1


def refused(port, name):
    resp = dnswire.udp_exchange(port, dnswire.query(name))
    return dnswire.header(resp)["rcode"] == 5


def wait_log(s, text, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in s.logtext():
            return True
        time.sleep(0.05)
    return False


def test_sighup_reloads_domains_without_losing_queries(sinkd_factory, tmp_path):
    lst = tmp_path / "seized.txt"
    lst.write_text("first-seized.com\n")
    s = sinkd_factory(domains_file=str(lst)).start()
    try:
        assert answers(s.port, "www.first-seized.com")
        assert refused(s.port, "www.second-seized.net")

        stop = threading.Event()
        failures = []
        sent = [0]

        def load():
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(2)
            while not stop.is_set() and sent[0] < 20000:
                sock.sendto(dnswire.query("load.first-seized.com", qid=sent[0] & 0xFFFF),
                            ("127.0.0.1", s.port))
                sent[0] += 1
                try:
                    h = dnswire.header(sock.recvfrom(4096)[0])
                    if h["rcode"] != 0:
                        failures.append(h)
                except socket.timeout:
                    failures.append("timeout")
            sock.close()

        t = threading.Thread(target=load)
        t.start()
        for i in range(5):
            lst.write_text(f"first-seized.com\nsecond-seized.net\n# reload {i}\n")
            s.signal(signal.SIGHUP)
            time.sleep(0.2)
        stop.set()
        t.join()
        assert failures == [] and sent[0] > 100
        assert answers(s.port, "www.second-seized.net")
        assert s.logtext().count("reload: done") == 5
    finally:
        s.stop()


def test_bad_reload_keeps_old_state(sinkd_factory, tmp_path):
    lst = tmp_path / "seized.txt"
    lst.write_text("keep-me.com\n")
    s = sinkd_factory(domains_file=str(lst)).start()
    try:
        lst.write_text("keep-me.com\nnew-one.com\nbad..name\n")
        s.signal(signal.SIGHUP)
        assert wait_log(s, "keeping the running state")
        assert f"{lst}:3:" in s.logtext()
        assert answers(s.port, "a.keep-me.com")
        assert refused(s.port, "a.new-one.com")
        # A broken config file is refused the same way.
        good = s.conf.read_text()
        s.conf.write_text(good + "\n[dns]\nttl = banana\n")
        s.signal(signal.SIGHUP)
        time.sleep(0.5)
        assert s.logtext().count("keeping the running state") == 2
        assert answers(s.port, "a.keep-me.com")
    finally:
        s.stop()


def test_bad_domain_list_refuses_to_start(sinkd_factory, tmp_path):
    lst = tmp_path / "seized.txt"
    lst.write_text("ok.com\n-bad-.com\n")
    s = sinkd_factory(domains_file=str(lst))
    with pytest.raises(AssertionError) as e:
        s.start()
    assert f"{lst}:2:" in str(e.value)


def test_port_in_use_is_a_clear_error(sinkd, sinkd_factory):
    other = sinkd_factory()
    other.conf.write_text(other.conf.read_text().replace(f":{other.port}", f":{sinkd.port}"))
    with pytest.raises(AssertionError) as e:
        other.start()
    assert "address already in use" in str(e.value)
    assert answers(sinkd.port, "still.bestchristmascard.com")


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_privilege_drop(sinkd_factory):
    s = sinkd_factory(extra="[server]\nuser = nobody\n")
    os.chmod(s.dir, 0o777)
    s.start()
    try:
        status = open(f"/proc/{s.proc.pid}/status").read()
        uid = pwd.getpwnam("nobody").pw_uid
        assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in status
        assert answers(s.port, "priv.bestchristmascard.com")
    finally:
        s.stop()


def test_workers_share_port(sinkd_factory):
    s = sinkd_factory(workers=2).start()
    try:
        for i in range(50):
            assert answers(s.port, f"w{i}.bestchristmascard.com")
    finally:
        s.stop()


def test_default_serve_prints_where(tmp_path):
    """`sinkd serve` with no arguments: loopback 5353, Waledac list, ./sinkd.db."""
    import subprocess
    from conftest import SINKD
    for port, kind in ((5353, socket.SOCK_DGRAM), (8080, socket.SOCK_STREAM),
                       (8443, socket.SOCK_STREAM), (9000, socket.SOCK_STREAM)):
        probe = socket.socket(socket.AF_INET, kind)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            pytest.skip(f"default port {port} is taken on this machine")
        finally:
            probe.close()
    p = subprocess.Popen([SINKD, "serve"], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while len(lines) < 30 and not any(l.startswith("  store ") for l in lines):
            line = p.stdout.readline()
            if not line:
                break
            lines.append(line)
        first = next(i for i, l in enumerate(lines) if "serving" in l)
        assert "serving 273 seized domains" in lines[first]
        rest = lines[first + 1:]
        assert any("127.0.0.1:5353" in l for l in rest)
        assert any("sinkd.db" in l for l in rest)
        assert answers(5353, "www.bestchristmascard.com")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(20)
    assert (tmp_path / "sinkd.db").exists()
