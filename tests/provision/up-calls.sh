#!/bin/sh
# up-calls.sh - up of many services keeps at most 16 create or start
# calls in flight at once (more only make each take longer on an engine
# busy with them, up to the request timeout: issue 18, scale), and still
# more than one.  Observed through a proxy on a unix socket in front of
# the engine that holds each create and start for 0.3 s (so that the
# calls overlap) and keeps the highest count in flight.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq python3
need_fixtures busybox
n=24
cat >"$tmp/proxy.py" <<'EOF2'
import os, re, socket, sys, threading, time
listen, upstream, report = sys.argv[1:4]
lock = threading.Lock()
now = top = 0
counted = re.compile(rb'^POST /v[0-9.]+/containers/(create\?|[^/ ]+/start )')

def note(d):
    global now, top
    with lock:
        now += d
        if now > top:
            top = now
            with open(report + '.new', 'w') as f:
                f.write('%d\n' % top)
            os.rename(report + '.new', report)

def serve(c):
    u = socket.socket(socket.AF_UNIX)
    u.connect(upstream)
    waiting = [False]      # a counted request awaits its answer
    def back():
        try:
            while True:
                b = u.recv(65536)
                if not b:
                    break
                if waiting[0]:
                    waiting[0] = False
                    note(-1)
                c.sendall(b)
        except OSError:
            pass
        try:
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    threading.Thread(target=back, daemon=True).start()
    fresh = True           # the next bytes begin a request
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            if fresh and counted.match(b):
                waiting[0] = True
                note(1)
                time.sleep(0.3)
            fresh = False
            u.sendall(b)
            # libcurl sends a request (line, headers, body) and waits for
            # its answer: the next recv after an answer began is a new one
            if not waiting[0]:
                fresh = True
    except OSError:
        pass
    try:
        u.shutdown(socket.SHUT_WR)
    except OSError:
        pass

s = socket.socket(socket.AF_UNIX)
s.bind(listen)
s.listen(256)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF2
echo 0 >"$tmp/top"
python3 "$tmp/proxy.py" "$tmp/engine.sock" "$ITM_SOCK" "$tmp/top" 2>"$tmp/proxy.err" &
proxy=$!
at_exit "kill $proxy 2>/dev/null"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
wait_for 10 test -S "$tmp/engine.sock" || bail "the proxy did not come up: $(cat "$tmp/proxy.err")"

{
  echo "services:"
  i=1
  while [ $i -le $n ]; do
    printf '  s%d:\n    image: itm-fixture/busybox:latest\n' $i
    printf '    command: ["sh", "-c", "trap exit TERM; while :; do sleep 1; done"]\n'
    i=$((i + 1))
  done
} >"$tmp/stack.yml"

DOCKER_HOST=unix://$tmp/engine.sock run "$ITM_ENV" -f "$tmp/stack.yml" up -q
is "$rc" 0 "up of $n services through the proxy"
c=$(engine_get "/containers/json?filters=$(ns_filter)" | jq length)
is "$c" $n "all $n running"
top=$(cat "$tmp/top")
diag "create/start calls in flight at most: $top"
ok "at most 16 create or start calls in flight ($top)" [ "$top" -le 16 ]
ok "but more than one ($top)" [ "$top" -ge 2 ]
run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
