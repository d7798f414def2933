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


if __name__ == "__main__":
    {"serve": serve, "rtt": rtt, "bulk": bulk, "probe": probe, "limit": limit}[sys.argv[1]](*sys.argv[2:])
