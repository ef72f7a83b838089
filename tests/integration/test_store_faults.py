"""Store faults: a store on a small tmpfs that fills up. Answering goes on,
the events are counted as dropped with the reason, and recording resumes
by itself once space is freed; the evidence chain still verifies. Needs
root (mount); skipped otherwise."""
import os
import re
import sqlite3
import subprocess
import time

import pytest

from conftest import run
from test_evidence import post


def mount_tmpfs(path, size="16m"):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (the CI runs this as root)")
    path.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {p.stderr.strip()}")


def fill(path):
    """Write until the filesystem is full; returns the filler's path."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"\0" * 4096
        while True:
            os.write(fd, block)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def wait_log(s, text, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in s.logtext():
            return True
        time.sleep(0.1)
    return False


def targets(db):
    c = sqlite3.connect(db)
    rows = [r[0] for r in c.execute("SELECT target FROM capture")]
    c.close()
    return rows


def test_disk_full_drops_counted_and_recording_resumes(sinkd_factory, tmp_path):
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt)
    try:
        # The population filter (persisted with the last batch) kept small:
        # the test is about the events, not about a 6 MB disk's capacity.
        s = sinkd_factory(extra=f"[store]\npath = {mnt}/sinkd.db\n[stats]\nseen_filter_mb = 1\n")
        s.db = mnt / "sinkd.db"
        s.start()
        for i in range(5):
            post(s.http_port, f"/before{i}.png", f"a=before{i}")
        time.sleep(0.6)
        filler = fill(mnt)
        # Bodies big enough that every batch needs new pages.
        for i in range(40):
            post(s.http_port, f"/full{i}.png", "a=" + ("x%d" % i) * 2000)
        assert wait_log(s, "disk full: recording paused"), s.logtext()
        # The admin endpoint says so while it lasts.
        status, _, body = s.admin_get("/health")
        assert status == 503 and b"the store is failing now" in body, body
        _, _, metrics = s.admin_get("/metrics")
        m = re.search(rb'sinkd_store_dropped_total\{reason="disk_full"\} (\d+)', metrics)
        assert m and int(m.group(1)) > 0, metrics
        assert b"sinkd_store_ok 0" in metrics
        os.unlink(filler)
        deadline = time.time() + 15
        i = 0
        while time.time() < deadline and "recording resumed" not in s.logtext():
            post(s.http_port, f"/after{i}.png", f"a=after{i}")
            i += 1
            time.sleep(0.2)
        assert "recording resumed" in s.logtext(), s.logtext()
        _, _, metrics = s.admin_get("/metrics")
        assert b"sinkd_store_ok 1" in metrics
        for j in range(5):
            post(s.http_port, f"/final{j}.png", f"a=final{j}")
        assert s.stop() == 0
        log = s.logtext()
        m = re.search(r"store drops: (\d+) disk full, (\d+) unwritable, (\d+) other errors;"
                      r" (\d+) retries; store (\w+)", log)
        assert m, log
        assert int(m.group(1)) > 0 and int(m.group(4)) > 0 and m.group(5) == "ok"
        got = targets(s.db)
        assert all(f"/before{k}.png" in got for k in range(5))
        assert all(f"/final{k}.png" in got for k in range(5))
        # Every check-in was answered (post asserts 200), and each one is
        # either stored or counted as dropped.
        sent = 5 + 40 + i + 5
        stored = len(got)
        dropped = int(m.group(1)) + int(m.group(2)) + int(m.group(3))
        assert stored + dropped == sent, (stored, dropped, sent)
        p = run("verify", "--store", str(s.db), check=False)
        assert p.returncode == 0, p.stdout
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)

