#!/usr/bin/env python3
"""proxy-bench.py - the client side of bench/proxy-bench.sh (stdlib only).

  proxy-bench.py lat PORT N        N one-byte round trips on one connection:
                                   "p50 p99" in microseconds
  proxy-bench.py drain PORT        read what the server sends until it ends:
                                   "bytes seconds"
  proxy-bench.py hold PORT N PIDFILE
                                   open N connections, check each echoes,
                                   print "held N", wait for SIGTERM
  proxy-bench.py serve PORTFILE    echo server (any number of connections);
                                   a connection whose first byte is 'B' gets
                                   BENCH_BYTES (1 GiB) of zeros instead
"""
import os
import signal
import socket
import sys
import threading
import time


def serve(portfile):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    total = int(os.environ.get("BENCH_BYTES", 1 << 30))
    chunk = memoryview(bytes(1 << 20))

    def handle(c):
        try:
            d = c.recv(65536)
            if d[:1] == b"B":
                left = total
                while left > 0:
                    n = c.send(chunk[: min(left, len(chunk))])
                    left -= n
                c.shutdown(socket.SHUT_WR)
            while d:
                c.sendall(d)
                d = c.recv(65536)
        except OSError:
            pass
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def lat(port, n):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = []
    for _ in range(200):
        s.sendall(b"x")
        s.recv(1)
    for _ in range(int(n)):
        a = time.perf_counter_ns()
        s.sendall(b"x")
        s.recv(1)
        t.append(time.perf_counter_ns() - a)
    t.sort()
    print("%.0f %.0f" % (t[len(t) // 2] / 1000, t[int(len(t) * 0.99)] / 1000))


def drain(port):
    s = socket.create_connection(("127.0.0.1", int(port)))
    buf = bytearray(1 << 20)
    got = 0
    a = time.perf_counter()
    s.sendall(b"B")
    while True:
        n = s.recv_into(buf)
        if n == 0:
            break
        got += n
    print("%d %.3f" % (got, time.perf_counter() - a))


def hold(port, n, pidfile):
    conns = []
    for _ in range(int(n)):
        conns.append(socket.create_connection(("127.0.0.1", int(port))))
    for c in conns:
        c.sendall(b"x")
    ok = sum(1 for c in conns if c.recv(1) == b"x")
    print("held %d" % ok, flush=True)
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    signal.sigwait([signal.SIGTERM])


if __name__ == "__main__":
    {"serve": serve, "lat": lat, "drain": drain, "hold": hold}[sys.argv[1]](*sys.argv[2:])
