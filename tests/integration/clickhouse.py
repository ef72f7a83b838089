"""A real ClickHouse cluster on loopback for the tests: N clickhouse-server
processes (Debian's package), each with its own ports and data directory,
all listed as the shards of one <remote_servers> cluster named `sinkd`."""
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from conftest import free_port

SERVER = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"


def available():
    return os.access(SERVER, os.X_OK)


CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/server.log</log><errorlog>{dir}/error.log</errorlog>
    <console>0</console></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>{dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <remote_servers><sinkd>{shards}</sinkd></remote_servers>
</yandex>
"""

USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
"""


class Server:
    def __init__(self, root: Path, index: int):
        self.dir = root / f"ch{index}"
        self.dir.mkdir(parents=True)
        self.http, self.tcp = free_port(), free_port()
        self.proc = None

    def write_config(self, shards_xml):
        (self.dir / "config.xml").write_text(
            CONFIG.format(dir=self.dir, http=self.http, tcp=self.tcp, shards=shards_xml))
        (self.dir / "users.xml").write_text(USERS.format())

    def start(self, timeout=60.0):
        self.out = open(self.dir / "stdout.log", "a")
        self.proc = subprocess.Popen([SERVER, f"--config-file={self.dir}/config.xml"],
                                     cwd=self.dir, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"clickhouse-server exited {self.proc.returncode}: "
                                     f"{(self.dir / 'error.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/ping", timeout=1) as r:
                    if r.read().startswith(b"Ok"):
                        return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("clickhouse-server did not answer /ping")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def query(self, sql, data=None, timeout=30, **params):
        """Run sql (POST); returns the response text. data goes with the query in the URL."""
        if data is None:
            url = f"http://127.0.0.1:{self.http}/?" + urllib.parse.urlencode(params)
            body = sql.encode()
        else:
            url = f"http://127.0.0.1:{self.http}/?" + urllib.parse.urlencode(dict(params, query=sql))
            body = data
        req = urllib.request.Request(url, data=body, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read().decode()

    @property
    def address(self):
        return f"127.0.0.1:{self.http}"


class Cluster:
    def __init__(self, root: Path, n=2):
        self.servers = [Server(root, i) for i in range(n)]
        shards = "".join(f"<shard><replica><host>127.0.0.1</host><port>{s.tcp}</port>"
                         f"</replica></shard>" for s in self.servers)
        for s in self.servers:
            s.write_config(shards)

    def start(self):
        for s in self.servers:
            s.start()
        return self

    def stop(self):
        for s in self.servers:
            s.stop()

    def query(self, sql, timeout=30, **params):
        return self.servers[0].query(sql, database="sinkd", timeout=timeout, **params)

    def config(self):
        return "".join(f"shard = {s.address}\n" for s in self.servers)
