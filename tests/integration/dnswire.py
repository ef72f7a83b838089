"""Just enough DNS wire format for tests that must send what no real client
sends (malformed queries) or look at raw bytes. Real clients (dig, kdig)
do everything else."""
import random
import socket
import struct


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(name: str, qtype: int = 1, qid: int = None, flags: int = 0x0100, qdcount: int = 1,
          edns: bytes = None, opcode: int = 0) -> bytes:
    qid = random.randrange(65536) if qid is None else qid
    flags |= opcode << 11
    hdr = struct.pack("!HHHHHH", qid, flags, qdcount, 0, 0, 1 if edns is not None else 0)
    body = encode_name(name) + struct.pack("!HH", qtype, 1)
    return hdr + body + (edns or b"")


def opt_rr(payload=1232, version=0, do=False, options=b"") -> bytes:
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack("!HHIH", 41, payload, ttl, len(options)) + options


def header(resp: bytes) -> dict:
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", resp[:12])
    return {"id": qid, "qr": flags >> 15, "opcode": (flags >> 11) & 0xF, "aa": (flags >> 10) & 1,
            "tc": (flags >> 9) & 1, "rd": (flags >> 8) & 1, "ra": (flags >> 7) & 1,
            "rcode": flags & 0xF, "qd": qd, "an": an, "ns": ns, "ar": ar}


def udp_exchange(port: int, data: bytes, timeout: float = 1.0):
    """Send one datagram, return the reply or None when none came."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, ("127.0.0.1", port))
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def tcp_frame(msg: bytes) -> bytes:
    return struct.pack("!H", len(msg)) + msg


def tcp_read_msg(sock) -> bytes:
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf
    (n,) = struct.unpack("!H", exact(2))
    return exact(n)
