"""DNS over TCP (RFC 7766): several queries per connection, pipelining,
answers in order, idle timeout."""
import socket
import time

import dnswire

ZONE = "bestchristmascard.com"


def test_pipelined_queries_one_connection(sinkd):
    c = socket.create_connection(("127.0.0.1", sinkd.port), timeout=3)
    ids = list(range(100, 150))
    c.sendall(b"".join(dnswire.tcp_frame(dnswire.query(f"q{i}." + ZONE, qid=i)) for i in ids))
    got = [dnswire.header(dnswire.tcp_read_msg(c)) for _ in ids]
    assert [h["id"] for h in got] == ids
    assert all(h["an"] == 1 and h["rcode"] == 0 for h in got)
    # The connection stays usable for more.
    c.sendall(dnswire.tcp_frame(dnswire.query("again." + ZONE, qid=7)))
    assert dnswire.header(dnswire.tcp_read_msg(c))["id"] == 7
    c.close()


def test_query_split_across_segments(sinkd):
    c = socket.create_connection(("127.0.0.1", sinkd.port), timeout=3)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    frame = dnswire.tcp_frame(dnswire.query("split." + ZONE, qid=9))
    for b in frame:
        c.sendall(bytes([b]))
        time.sleep(0.002)
    assert dnswire.header(dnswire.tcp_read_msg(c))["id"] == 9
    c.close()


def test_idle_timeout(sinkd_factory):
    s = sinkd_factory(extra="[dns]\ntcp_idle_timeout_ms = 300\n").start()
    try:
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        t0 = time.time()
        assert c.recv(10) == b""  # server closes the idle connection
        assert 0.2 < time.time() - t0 < 3
        c.close()
    finally:
        s.stop()


def test_pool_full_evicts_oldest(sinkd_factory):
    s = sinkd_factory(extra="[dns]\ntcp_max_clients = 4\n").start()
    try:
        idle = [socket.create_connection(("127.0.0.1", s.port), timeout=3) for _ in range(4)]
        time.sleep(0.1)
        c = socket.create_connection(("127.0.0.1", s.port), timeout=3)
        c.sendall(dnswire.tcp_frame(dnswire.query("new." + ZONE, qid=5)))
        assert dnswire.header(dnswire.tcp_read_msg(c))["id"] == 5
        assert idle[0].recv(10) == b""  # the oldest idle one made room
        for x in idle + [c]:
            x.close()
    finally:
        s.stop()
