"""Integration harness: start the real sinkd binary on loopback with a
config of the test's own, talk to it with real clients (dig, kdig, raw
sockets), stop it. Nothing here relies on a service started by hand."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SINKD = os.environ.get("SINKD_BIN") or str(Path(__file__).resolve().parents[2] / "build" / "sinkd")
DATA_DIR = os.environ.get("SINKD_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "data")
WALEDAC = os.path.join(DATA_DIR, "waledac-domains.txt")


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def run(*args, check=True, **kw):
    """Run `sinkd ARGS...` and return the CompletedProcess."""
    p = subprocess.run([SINKD, *args], capture_output=True, text=True, timeout=60, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"sinkd {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


class Sinkd:
    """One `sinkd serve` process with its own directory, config and ports."""

    def __init__(self, tmp: Path, extra: str = "", domains_file: str = WALEDAC, workers: int = 1,
                 rrl: bool = False):
        self.dir = tmp
        self.port = free_port()
        self.db = tmp / "sinkd.db"
        self.conf = tmp / "sinkd.conf"
        self.log = tmp / "sinkd.log"
        self.domains_file = domains_file
        self.proc = None
        # Keys from `extra` replace the harness defaults; repeated keys in
        # `extra` (listen, sinkhole, ...) stay repeated.
        # Every listener on ports of its own, so instances never collide.
        self.http_port, self.tls_port, self.any_port = free_port(), free_port(), free_port()
        self.admin_port = free_port()
        sections = {"server": [("workers", str(workers))],
                    "dns": [("listen", f"127.0.0.1:{self.port}")],
                    "http": [("listen", f"127.0.0.1:{self.http_port}")],
                    "tls": [("listen", f"127.0.0.1:{self.tls_port}")],
                    "catchall": [("tcp", f"127.0.0.1:{self.any_port}"),
                                 ("udp", f"127.0.0.1:{self.any_port}")],
                    "rrl": [("enabled", "yes" if rrl else "no")],
                    "domains": [("file", domains_file)],
                    "store": [("path", str(self.db)), ("commit_interval_ms", "200")],
                    "admin": [("listen", f"127.0.0.1:{self.admin_port}")]}
        cur = None
        overridden = set()
        for line in extra.strip().splitlines():
            line = line.strip()
            if line.startswith("["):
                cur = line.strip("[]")
                sections.setdefault(cur, [])
            elif line:
                key, _, value = (x.strip() for x in line.partition("="))
                if (cur, key) not in overridden:
                    sections[cur] = [kv for kv in sections[cur] if kv[0] != key]
                    overridden.add((cur, key))
                sections[cur].append((key, value))
        text = ""
        for name, kvs in sections.items():
            text += f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in kvs) + "\n"
        self.conf.write_text(text)

    HARNESS_PORTS = ("port", "http_port", "tls_port", "any_port", "admin_port")

    def _move_ports(self):
        """free_port() only finds a port free at that moment: another process
        (a parallel test run, a ClickHouse server) may take it before sinkd
        binds. Give every harness port a new number in the config."""
        text = self.conf.read_text()
        for attr in self.HARNESS_PORTS:
            old, new = getattr(self, attr), free_port()
            text = text.replace(f"127.0.0.1:{old}\n", f"127.0.0.1:{new}\n")
            setattr(self, attr, new)
        self.conf.write_text(text)

    def start(self, timeout=10.0, env=None, attempts=3):
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([SINKD, "serve", "-c", str(self.conf)], cwd=self.dir,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=None if env is None else {**os.environ, **env})
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                log = self.log.read_text()
                if "address already in use" in log and attempts > 1:
                    self.logf.close()
                    self._move_ports()
                    return self.start(timeout, env, attempts - 1)
                raise AssertionError(f"sinkd exited {self.proc.returncode}:\n{log}")
            if "serving" in self.log.read_text():
                return self
            time.sleep(0.05)
        raise AssertionError(f"sinkd did not start:\n{self.log.read_text()}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("sinkd did not stop on SIGTERM within %.0fs" % timeout)
        self.logf.close()
        return rc

    def logtext(self):
        return self.log.read_text()

    def dig(self, *args, tcp=False):
        """dig against this server; returns stdout."""
        cmd = ["dig", "@127.0.0.1", "-p", str(self.port), "+time=2", "+tries=1"]
        if tcp:
            cmd.append("+tcp")
        p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30)
        return p.stdout

    def admin_get(self, path, token=None, timeout=10):
        """GET path on the admin endpoint: (status, headers, body bytes)."""
        import urllib.error
        import urllib.request
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def events(self, *args):
        return run("events", "--db", str(self.db), *args)


@pytest.fixture
def sinkd_factory(tmp_path):
    made = []

    def make(**kw):
        d = tmp_path / f"s{len(made)}"
        d.mkdir()
        s = Sinkd(d, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.proc is not None and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


@pytest.fixture
def sinkd(sinkd_factory):
    s = sinkd_factory().start()
    yield s
    s.stop()
