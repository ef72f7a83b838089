"""Decoders end to end: Waledac check-ins built here from the public facts
(Python's cryptography, zlib and bz2, not sinkd's own builder), POSTed with
curl through the real HTTP listener, come out of `sinkd events` decoded, or
with the precise status of the step that failed; keys tried in order, the
configured IV used."""
import base64
import bz2
import json
import subprocess
import time
import zlib

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ZONE = "bestchristmascard.com"
K1 = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
K2 = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f")
IV = bytes.fromhex("0f0e0d0c0b0a09080706050403020100")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def envelope(plain, key, iv=bytes(16), typ=0x02, length=None):
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ct = enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()
    n = len(plain) if length is None else length
    return bytes([typ]) + n.to_bytes(4, "big") + ct


def xml(bot, cmd="notify", ver="47"):
    return f"<lm><t>{cmd}</t><v>{ver}</v><i>{bot}</i><r>0</r></lm>".encode()


def path(n):
    return "/abcxyz" + "q" * n + ".png"  # lowercase letters only: the rule's path


def post(s, body, n):
    p = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-o", "/dev/null",
                        f"http://127.0.0.1:{s.http_port}{path(n)}",
                        "-H", f"Host: www.{ZONE}", "-A", "Mozilla", "-e", "Mozilla",
                        "-H", "X-Case: " + str(n), "--data-binary", body],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr


def test_waledac_steps_through_the_listener(sinkd_factory):
    s = sinkd_factory(extra=f"[decode]\nwaledac_key = {K2.hex()}, {K1.hex()}\n"
                            f"waledac_iv = {IV.hex()}\n").start()
    bot = "%032x" % 0xfeedface
    cases = [  # body, expected (msg_type, proto_version, bot_id, decode_status)
        (f"a={b64(envelope(xml(bot), K1, IV))}&b=AAEC", ("notify", "47", bot, "ok")),
        (f"a={b64(envelope(zlib.compress(xml(bot, 'first')), K1, IV, typ=0xff))}",
         ("first", "47", bot, "ok")),
        (f"a={b64(envelope(bz2.compress(xml(bot, 'taskreq')), K2, IV, typ=3))}",
         ("taskreq", "47", bot, "ok")),
        (f"a={b64(envelope(xml(bot), K1))}", ("notify", None, None, "wrong-key")),  # zero IV
        (f"a={b64(envelope(xml(bot), bytes(16), IV, typ=7))}",
         ("type 0x07", None, None, "wrong-key")),
        (f"a={b64(envelope(xml(bot), K1, IV, length=3))}",
         ("notify", None, None, "length-mismatch")),
        (f"a={b64(envelope(zlib.compress(xml(bot))[:-5], K1, IV))}",
         ("notify", None, None, "bad-compression")),
        (f"a={b64(envelope(b'<lm><t>x</t><i>' + bot.encode() + b'</i>', K1, IV))}",
         ("notify", None, None, "bad-xml")),
        (f"a={b64(envelope(b'<lm><t>hello</t><v>1</v></lm>', K1, IV))}",
         ("hello", "1", None, "no-bot-id")),
        ("a=***&b=x", (None, None, None, "bad-base64")),
        ("a=AgAAAA", (None, None, None, "short-envelope")),
    ]
    for n, (body, _) in enumerate(cases):
        post(s, body, n + 1)
    deadline = time.time() + 10
    got = []
    while time.time() < deadline and len(got) < len(cases):
        out = s.events("--type", "http", "--format", "json", "--limit", "100").stdout
        got = [json.loads(l) for l in out.splitlines() if l.strip()]
        time.sleep(0.1)
    assert s.stop() == 0
    by_path = {r["target"]: r for r in got}
    for n, (_, want) in enumerate(cases):
        r = by_path[path(n + 1)]
        assert r["family"] == "waledac", r
        have = (r.get("msg_type"), r.get("proto_version"), r.get("bot_id"), r["decode_status"])
        assert have == want, (n, have, want)
