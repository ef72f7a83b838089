#!/usr/bin/env python3
"""Regenerate the ClientHello test vectors in this directory.

Listens on 127.0.0.1, runs a real TLS client against it, and saves the first
bytes the client sends (its ClientHello records) to <name>.bin. The server
never answers, so each client gives up after a short timeout.

    python3 capture.py            # all clients below
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def capture(name, client):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    port = srv.getsockname()[1]
    t = threading.Thread(target=client, args=(port,), daemon=True)
    t.start()
    conn, _ = srv.accept()
    conn.settimeout(1.0)
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    conn.close()
    srv.close()
    t.join(10)
    with open(os.path.join(HERE, name + ".bin"), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


def run(*argv):
    def client(port):
        argv2 = [a.replace("PORT", str(port)) for a in argv]
        try:
            subprocess.run(argv2, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=5)
        except subprocess.TimeoutExpired:
            pass
    return client


def python_ssl(port):
    ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(["http/1.1"])
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(3)
    try:
        ctx.wrap_socket(s, server_hostname="py.example")
    except Exception:
        pass


# A 196-byte host name (3 labels of 60 letters) pushes the hello past 512 bytes.
LONG_NAME = ".".join(c * 60 for c in "abc") + ".split.example"

CLIENTS = {
    "openssl_s_client": run("openssl", "s_client", "-connect", "127.0.0.1:PORT",
                            "-servername", "x.example"),
    "openssl_tls12_alpn": run("openssl", "s_client", "-connect", "127.0.0.1:PORT",
                              "-servername", "tls12.example", "-tls1_2",
                              "-alpn", "h2,http/1.1"),
    "openssl_split": run("openssl", "s_client", "-connect", "127.0.0.1:PORT",
                         "-servername", LONG_NAME, "-max_send_frag", "512",
                         "-cipher", "ALL:@SECLEVEL=0", "-alpn", "h2,http/1.1"),
    "openssl_no_sni": run("openssl", "s_client", "-connect", "127.0.0.1:PORT",
                          "-noservername"),
    "curl": run("curl", "-s", "-k", "--max-time", "3", "--resolve",
                "curl.example:PORT:127.0.0.1", "https://curl.example:PORT/"),
    "python_ssl": python_ssl,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(CLIENTS)
    for n in names:
        capture(n, CLIENTS[n])
