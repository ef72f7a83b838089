"""`sinkd serve` under valgrind memcheck, one short smoke run (make valgrind).

Starts the binary under the valgrind command line in $VALGRIND_ARGS with the
integration harness's config (every listener on a free loopback port),
asks one DNS question (dig), makes one HTTP and one TLS check-in (curl),
sends SIGTERM and expects a clean exit: exit status 0 from valgrind, which
--error-exitcode turns into 1 on any memory error or definite/indirect leak.
Checks that the events were stored, so the run went through the pipeline
and the store, not only the listeners."""
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "integration"))
import conftest  # noqa: E402  (the Sinkd harness: config and ports)

ZONE = "bestchristmascard.com"


def main():
    sinkd_bin = os.environ.get("SINKD_BIN", conftest.SINKD)
    vg = shlex.split(os.environ["VALGRIND_ARGS"])
    with tempfile.TemporaryDirectory(prefix="sinkd-vg-") as d:
        s = conftest.Sinkd(Path(d))
        logf = open(s.log, "w")
        proc = subprocess.Popen(vg + [sinkd_bin, "serve", "-c", str(s.conf)], cwd=d,
                                stdout=logf, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 120
            while "serving" not in s.log.read_text():
                if proc.poll() is not None or time.time() > deadline:
                    print(s.log.read_text())
                    print("sinkd did not start under valgrind")
                    return 1
                time.sleep(0.2)
            dig = subprocess.run(["dig", "@127.0.0.1", "-p", str(s.port), "+time=10", "+tries=2",
                                  f"www.{ZONE}", "A"], capture_output=True, text=True,
                                 timeout=60).stdout
            assert "status: NOERROR" in dig and "ANSWER: 1" in dig, dig
            http = subprocess.run(["curl", "-s", "--max-time", "30", "-o", "/dev/null", "-w",
                                   "%{http_code}", "-H", f"Host: www.{ZONE}",
                                   f"http://127.0.0.1:{s.http_port}/vg-http"],
                                  capture_output=True, text=True, timeout=60).stdout
            assert http == "200", http
            tls = subprocess.run(["curl", "-sk", "--max-time", "30", "-o", "/dev/null", "-w",
                                  "%{http_code}", "--resolve",
                                  f"www.{ZONE}:{s.tls_port}:127.0.0.1",
                                  f"https://www.{ZONE}:{s.tls_port}/vg-tls"],
                                 capture_output=True, text=True, timeout=60).stdout
            assert tls == "200", tls
            time.sleep(1)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            logf.close()
        log = s.log.read_text()
        print(log[-1500:])
        if rc != 0:
            print(f"sinkd under valgrind exited {rc}")
            return 1
        rows = conftest.run("events", "--db", str(s.db), "--format", "json").stdout
        for target in ("/vg-http", "/vg-tls"):
            if target not in rows:
                print(f"{target} was not stored:\n{rows}")
                return 1
        print("serve under valgrind: clean exit, events stored")
        return 0


if __name__ == "__main__":
    sys.exit(main())
