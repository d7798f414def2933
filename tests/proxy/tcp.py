#!/usr/bin/env python3
"""tcp.py - the TCP ends of the proxy tests (standard library only).

  tcp.py serve PORTFILE          an echo server on 127.0.0.1 (port written to
                                 PORTFILE), until killed
  tcp.py rtt PORT N              N round trips of one byte on one connection:
                                 the median in ms
  tcp.py bulk PORT BYTES         BYTES sent and echoed back: seconds taken
  tcp.py probe PORT SECS         connect, send, wait SECS for the echo: prints
                                 ok, refused, reset, closed or timeout
  tcp.py limit PORT BYTES        send BYTES and end, read until the end: bytes read
  tcp.py switch PORT API BYTES   BYTES of seeded random data sent and echoed
                                 back while toxics are added and removed
                                 through API (http://HOST:PORT) mid-stream
                                 (proxy "e"): "intact" or what went wrong
"""
import socket
import statistics
import sys
import threading
import time


def serve(portfile):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)

    def echo(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def conn(port, timeout=30):
    return socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)


def rtt(port, n):
    s = conn(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(int(n)):
        t = time.monotonic()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise SystemExit("rtt: no echo")
        times.append((time.monotonic() - t) * 1000)
    print("%.1f" % statistics.median(times))


def bulk(port, nbytes):
    nbytes = int(nbytes)
    s = conn(port, 120)
    t = time.monotonic()
    threading.Thread(target=lambda: s.sendall(b"x" * nbytes), daemon=True).start()
    got = 0
    while got < nbytes:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    print("%.3f" % (time.monotonic() - t) if got == nbytes else "short %d" % got)


def probe(port, secs):
    try:
        s = conn(port, float(secs))
        s.sendall(b"ping")
        d = s.recv(4)
        print("ok" if d else "closed")
    except ConnectionRefusedError:
        print("refused")
    except (ConnectionResetError, BrokenPipeError):
        print("reset")
    except socket.timeout:
        print("timeout")


def limit(port, nbytes):
    s = conn(port)
    got = 0
    try:
        s.sendall(b"x" * int(nbytes))
        s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
    except OSError:
        pass
    print(got)


def switch(port, api, nbytes):
    import hashlib
    import json
    import random
    import urllib.request

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(api + path, data=data, method=method)
        urllib.request.urlopen(r, timeout=10).read()

    nbytes = int(nbytes)
    s = conn(port, 120)
    sent = hashlib.sha256()

    def send():
        rnd = random.Random(14)
        left = nbytes
        while left:
            d = rnd.randbytes(min(left, 65536))
            sent.update(d)
            s.sendall(d)
            left -= len(d)
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    # at each share of the bytes received: a toxic added or removed
    steps = [(0.15, "POST", "/proxies/e/toxics", {"name": "lu", "type": "latency",
              "stream": "upstream", "attributes": {"latency": 20, "jitter": 10}}),
             (0.2, "POST", "/proxies/e/toxics", {"name": "ld", "type": "latency",
              "attributes": {"latency": 30}}),
             (0.35, "DELETE", "/proxies/e/toxics/lu", None),
             (0.4, "DELETE", "/proxies/e/toxics/ld", None),
             (0.55, "POST", "/proxies/e/toxics", {"name": "sl", "type": "slicer",
              "attributes": {"average_size": 3000, "size_variation": 1000, "delay": 0}}),
             (0.7, "DELETE", "/proxies/e/toxics/sl", None),
             (0.8, "POST", "/proxies/e/toxics", {"name": "bw", "type": "bandwidth",
              "attributes": {"rate": 20000}}),
             (0.85, "DELETE", "/proxies/e/toxics/bw", None)]
    got = hashlib.sha256()
    n = 0
    while True:
        d = s.recv(65536)
        if not d:
            break
        got.update(d)
        n += len(d)
        while steps and n >= steps[0][0] * nbytes:
            _, method, path, body = steps.pop(0)
            call(method, path, body)
    sender.join()
    if n != nbytes:
        print("short: %d of %d bytes" % (n, nbytes))
    elif got.digest() != sent.digest():
        print("corrupt: the bytes differ (sha256)")
    elif steps:
        print("steps left: %d" % len(steps))
    else:
        print("intact")


if __name__ == "__main__":
    {"serve": serve, "rtt": rtt, "bulk": bulk, "probe": probe, "limit": limit,
     "switch": switch}[sys.argv[1]](*sys.argv[2:])
