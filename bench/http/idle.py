#!/usr/bin/env python3
"""Hold N idle TCP connections to HOST:PORT for bench/http/run.sh.

usage: idle.py HOST PORT N MODE READY_FILE DONE_FILE MAX_SECONDS

MODE connect: open the connections and send nothing (a bot that connects
and stalls). MODE request: send one keep-alive GET on each and read the
reply head, then leave the connection idle (a bot between check-ins).

Once every connection is open, writes "opened N" to READY_FILE and waits
until DONE_FILE exists (or MAX_SECONDS in all have passed), then prints
how many connections the server had closed meanwhile and closes them all.
Exit status 0, or 1 when not every connection could be opened.
"""
import os
import resource
import socket
import sys
import time


def main():
    if len(sys.argv) != 8:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    host, port, n, mode, ready, done, max_s = sys.argv[1:]
    port, n, max_s = int(port), int(n), float(max_s)
    deadline = time.monotonic() + max_s
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    req = ("GET /gate.php?idle=1 HTTP/1.1\r\nHost: %s\r\nUser-Agent: idle-bench\r\n\r\n"
           % host).encode()
    socks = []
    err = ""
    try:
        for _ in range(n):
            if time.monotonic() > deadline:
                err = "time limit reached while connecting"
                break
            s = socket.create_connection((host, port), timeout=5)
            if mode == "request":
                s.sendall(req)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionError("server closed before replying")
                    head += chunk
            socks.append(s)
    except OSError as e:
        err = "after %d connections: %s" % (len(socks), e)
    with open(ready + ".tmp", "w") as f:
        f.write("opened %d%s\n" % (len(socks), " error " + err if err else ""))
    os.rename(ready + ".tmp", ready)
    while not os.path.exists(done) and time.monotonic() < deadline:
        time.sleep(0.05)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    for s in socks:
        s.close()
    print("opened %d closed_by_server %d%s" % (len(socks), closed, " error " + err if err else ""))
    return 0 if len(socks) == n else 1


if __name__ == "__main__":
    sys.exit(main())
