"""Evidence chain end to end: `sinkd keygen`, `sinkd serve` sealing each
batch and signing manifests, `sinkd verify` passing on the untouched store
and naming exactly the batch that an edit, a deletion or an insertion made
with sqlite3 on the file touched; a changed signature and another key
fail."""
import os
import re
import shutil
import socket
import sqlite3
import stat
import time

from conftest import run


def post(port, path, body):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    req = (f"POST {path} HTTP/1.1\r\nHost: www.bestchristmascard.com\r\nUser-Agent: Mozilla\r\n"
           f"Referer: Mozilla\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}")
    s.sendall(req.encode())
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:80]


def keygen(tmp_path, name="ev.key"):
    key = tmp_path / name
    p = run("keygen", "--out", str(key))
    assert "BEGIN PUBLIC KEY" in p.stdout
    return key


def test_keygen_files_and_modes(tmp_path):
    key = keygen(tmp_path)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "PRIVATE KEY" in key.read_text()
    assert "PUBLIC KEY" in (tmp_path / "ev.key.pub").read_text()
    again = run("keygen", "--out", str(key), check=False)
    assert again.returncode == 1 and "exists" in again.stderr
    pk = tmp_path / "pseudo.key"
    run("keygen", "--pseudonym-key", "--out", str(pk))
    assert stat.S_IMODE(os.stat(pk).st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", pk.read_text())


def make_store(sinkd_factory, tmp_path, rounds=4):
    """A served store with several batches and signed manifests."""
    key = keygen(tmp_path)
    s = sinkd_factory(extra=f"[evidence]\nkey = {key}\nmanifest_interval = 1\n")
    s.start()
    for r in range(rounds):
        for i in range(3):
            post(s.http_port, f"/r{r}x{i}.png", f"a=round{r}&b=item{i}")
        s.dig(f"r{r}.bestchristmascard.com")
        time.sleep(0.5)  # > commit_interval_ms (200): one batch per round
    assert s.stop() == 0
    return s, key


def verify(s, *args):
    return run("verify", "--store", str(s.db), *args, check=False)


def first_bad(p):
    m = re.search(r"first bad batch (\d+)", p.stdout)
    assert p.returncode == 1, p.stdout + p.stderr
    assert m, p.stdout
    return int(m.group(1))


def batch_of_target(db, target):
    """The chain record whose range holds the capture row with target."""
    c = sqlite3.connect(db)
    (rid,) = c.execute("SELECT id FROM capture WHERE target = ?", (target,)).fetchone()
    (seq,) = c.execute("SELECT seq FROM chain WHERE kind = 1 AND ev_lo < ? AND ev_hi >= ?",
                       (rid, rid)).fetchone()
    c.close()
    return rid, seq


def sql(db, statement, *params):
    c = sqlite3.connect(db)
    c.execute(statement, params)
    c.commit()
    c.close()


def test_serve_seals_and_verify_passes(sinkd_factory, tmp_path):
    s, key = make_store(sinkd_factory, tmp_path)
    p = run("verify", "-c", str(s.conf), "--store", str(s.db))  # pubkey from [evidence] key
    assert p.returncode == 0
    assert "verify: OK" in p.stdout
    m = re.search(r"manifests: (\d+), (\d+) signatures valid", p.stdout)
    assert m and int(m.group(1)) >= 1 and m.group(1) == m.group(2), p.stdout
    c = sqlite3.connect(s.db)
    batches = c.execute("SELECT COUNT(*) FROM chain WHERE kind = 1 AND rows > 0").fetchone()[0]
    assert batches >= 3
    # Every capture row is in some batch's range or late list.
    assert c.execute("SELECT COUNT(*) FROM capture").fetchone()[0] == 12
    assert c.execute("SELECT SUM(captures) FROM chain").fetchone()[0] == 12
    c.close()


def test_edit_delete_insert_found_at_their_batch(sinkd_factory, tmp_path):
    s, key = make_store(sinkd_factory, tmp_path)
    pub = str(key) + ".pub"
    pristine = tmp_path / "pristine.db"
    shutil.copy(s.db, pristine)

    # Edit: one byte of the third round's second request.
    rid, seq = batch_of_target(s.db, "/r2x1.png")
    sql(s.db, "UPDATE capture SET user_agent = 'Mozillb' WHERE id = ?", rid)
    assert first_bad(verify(s, "--pubkey", pub)) == seq

    # Delete: the second round's first event row.
    shutil.copy(pristine, s.db)
    rid, seq = batch_of_target(s.db, "/r1x0.png")
    sql(s.db, "DELETE FROM events WHERE id = ?", rid)
    assert first_bad(verify(s, "--pubkey", pub)) == seq

    # Insert: a copy of an event with an id one above the fourth round's first.
    shutil.copy(pristine, s.db)
    rid, seq = batch_of_target(s.db, "/r3x0.png")
    c = sqlite3.connect(s.db)
    c.executescript(f"CREATE TABLE t AS SELECT * FROM events WHERE id = {rid};"
                    "UPDATE t SET id = id + 1; INSERT INTO events SELECT * FROM t; DROP TABLE t")
    c.close()
    assert first_bad(verify(s, "--pubkey", pub)) == seq

    # DNS aggregates: one more query in a minute.
    shutil.copy(pristine, s.db)
    sql(s.db, "UPDATE dns_minute SET count = count + 1 WHERE qname = 'r0.bestchristmascard.com'")
    p = verify(s, "--pubkey", pub)
    assert p.returncode == 1 and "dns_minute" in p.stdout

    shutil.copy(pristine, s.db)
    assert verify(s, "--pubkey", pub).returncode == 0

    # --since limits what is recomputed from rows (links, DNS sums and
    # manifests are always checked): an edit older than it goes unseen.
    rid, seq = batch_of_target(s.db, "/r0x0.png")
    sql(s.db, "UPDATE capture SET user_agent = 'X' WHERE id = ?", rid)
    p = verify(s, "--pubkey", pub, "--since", "2099-01-01")
    assert p.returncode == 0 and "recomputed: 0 batches" in p.stdout, p.stdout
    assert first_bad(verify(s, "--pubkey", pub, "--since", "1h")) == seq
    p = verify(s, "--since", "yesterday-ish")
    assert p.returncode == 2 and "--since" in p.stderr


def test_bad_signature_and_wrong_key(sinkd_factory, tmp_path):
    s, key = make_store(sinkd_factory, tmp_path, rounds=2)
    pub = str(key) + ".pub"
    assert verify(s, "--pubkey", pub).returncode == 0
    other = keygen(tmp_path, "other.key")
    p = verify(s, "--pubkey", str(other) + ".pub")
    assert p.returncode == 1 and "signed by another key" in p.stdout
    sql(s.db, "UPDATE manifests SET sig = x'00' || substr(sig, 2) WHERE id = 1")
    p = verify(s, "--pubkey", pub)
    assert p.returncode == 1 and "bad signature" in p.stdout
    # A non-key file is a clear error, not a crash.
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key\n")
    p = verify(s, "--pubkey", str(junk))
    assert p.returncode == 1 and "not an Ed25519 public key" in p.stderr
