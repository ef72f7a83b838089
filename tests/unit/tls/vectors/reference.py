#!/usr/bin/env python3
"""Independent reference for the C tests: parse a captured ClientHello with
plain Python (record reassembly, extensions) and print its fields, JA3 and
JA4 as computed by hand from the specs. The expected values hard-coded in
test_clienthello.c / test_ja.c were produced by this script and checked
against the published examples (see docs/tls-fingerprints.md).

    python3 reference.py openssl_s_client.bin ...
"""
import hashlib
import struct
import sys

GREASE = {0x0a0a + 0x1010 * i for i in range(16)}


def handshake_bytes(data):
    out = b""
    i = 0
    while i + 5 <= len(data) and data[i] == 22:
        n = struct.unpack(">H", data[i + 3:i + 5])[0]
        out += data[i + 5:i + 5 + n]
        i += 5 + n
        if len(out) >= 4 and len(out) >= 4 + int.from_bytes(out[1:4], "big"):
            break
    return out


def u16s(b):
    return [struct.unpack(">H", b[i:i + 2])[0] for i in range(0, len(b), 2)]


def parse(data):
    hs = handshake_bytes(data)
    assert hs[0] == 1
    body = hs[4:4 + int.from_bytes(hs[1:4], "big")]
    ch = {"record_version": struct.unpack(">H", data[1:3])[0]}
    ch["version"] = struct.unpack(">H", body[0:2])[0]
    p = 34
    sid = body[p]
    ch["session_id_len"] = sid
    p += 1 + sid
    n = struct.unpack(">H", body[p:p + 2])[0]
    ch["ciphers"] = u16s(body[p + 2:p + 2 + n])
    p += 2 + n
    n = body[p]
    ch["compression"] = list(body[p + 1:p + 1 + n])
    p += 1 + n
    ch["ext"] = []
    ch.update(sni=None, groups=[], pf=[], sigalgs=[], alpn=[], versions=[], key_shares=[],
              psk=[])
    if p < len(body):
        end = p + 2 + struct.unpack(">H", body[p:p + 2])[0]
        p += 2
        while p < end:
            t, n = struct.unpack(">HH", body[p:p + 4])
            e = body[p + 4:p + 4 + n]
            p += 4 + n
            ch["ext"].append((t, n))
            if t == 0:
                ch["sni"] = e[5:5 + struct.unpack(">H", e[3:5])[0]].decode() if e else ""
            elif t == 10:
                ch["groups"] = u16s(e[2:])
            elif t == 11:
                ch["pf"] = list(e[1:])
            elif t == 13:
                ch["sigalgs"] = u16s(e[2:])
            elif t == 16:
                q = 2
                while q < len(e):
                    ch["alpn"].append(e[q + 1:q + 1 + e[q]])
                    q += 1 + e[q]
            elif t == 43:
                ch["versions"] = u16s(e[1:])
            elif t == 45:
                ch["psk"] = list(e[1:])
            elif t == 51:
                q = 2
                while q < len(e):
                    g, kl = struct.unpack(">HH", e[q:q + 4])
                    ch["key_shares"].append(g)
                    q += 4 + kl
    return ch


def ja3(ch):
    def j(v):
        return "-".join(str(x) for x in v if x not in GREASE)
    s = ",".join([str(ch["version"]), j(ch["ciphers"]), j(t for t, _ in ch["ext"]),
                  j(ch["groups"]), "-".join(str(x) for x in ch["pf"])])
    return s, hashlib.md5(s.encode()).hexdigest()


def ja4(ch):
    vers = [v for v in ch["versions"] if v not in GREASE]
    v = max(vers) if vers else ch["version"]
    ver = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
           0x0002: "s2"}.get(v, "00")
    ciphers = sorted(c for c in ch["ciphers"] if c not in GREASE)
    exts = [t for t, _ in ch["ext"] if t not in GREASE]
    alpn = "00"
    if ch["alpn"] and ch["alpn"][0]:
        a = ch["alpn"][0]
        if chr(a[0]).isalnum() and chr(a[-1]).isalnum() and a[0] < 128 and a[-1] < 128:
            alpn = chr(a[0]) + chr(a[-1])
        else:
            alpn = a.hex()[0] + a.hex()[-1]
    head = "t%s%s%02d%02d%s" % (ver, "d" if ch["sni"] is not None else "i",
                                min(len(ciphers), 99), min(len(exts), 99), alpn)
    braw = ",".join("%04x" % c for c in ciphers)
    craw = ",".join("%04x" % t for t in sorted(e for e in exts if e not in (0, 16)))
    sig = [s for s in ch["sigalgs"] if s not in GREASE]
    if sig:
        craw += "_" + ",".join("%04x" % s for s in sig)

    def h(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12] if s else "000000000000"
    return "%s_%s_%s" % (head, h(braw), h(craw)), "%s_%s_%s" % (head, braw, craw)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        ch = parse(open(path, "rb").read())
        print(path)
        for k, v in ch.items():
            if k in ("ciphers", "groups", "sigalgs", "versions", "key_shares"):
                v = ",".join("%04x" % x for x in v)
            print("  %s: %s" % (k, v))
        print("  JA3: %s\n  JA3 md5: %s" % ja3(ch))
        print("  JA4: %s\n  JA4_r: %s" % ja4(ch))
