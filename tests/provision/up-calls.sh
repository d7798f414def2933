#!/bin/sh
# up-calls.sh - up of many services keeps at most 16 create or start
# calls in flight at once (more only make each take longer on an engine
# busy with them, up to the request timeout: issue 18, scale), and still
# more than one; once one service failed, the services still waiting for
# a slot are not created at all (not created only to be removed again).
# Observed through a proxy on a unix socket in front of the engine that
# holds each create and start for $HOLD s (so that the calls overlap; not
# those of a container named *-a0-*), and keeps the highest count in
# flight and the count of creates.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq python3
need_fixtures busybox
n=24
cat >"$tmp/proxy.py" <<'EOF2'
import os, re, socket, sys, threading, time
listen, upstream, report = sys.argv[1:4]
lock = threading.Lock()
now = top = creates = 0
hold = float(os.environ.get('HOLD', '0.3'))
counted = re.compile(rb'^POST /v[0-9.]+/containers/(create\?|[^/ ]+/start )')

def note(d, create):
    global now, top, creates
    with lock:
        now += d
        top = max(top, now)
        creates += create
        with open(report + '.new', 'w') as f:
            f.write('%d %d\n' % (top, creates))
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
                    note(-1, 0)
                c.sendall(b)
        except OSError:
            pass
        try:
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    threading.Thread(target=back, daemon=True).start()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            # libcurl sends a request (line, headers, body) and waits for
            # its answer: bytes while none is awaited begin a new request
            if not waiting[0] and counted.match(b):
                waiting[0] = True
                note(1, b'/create?' in b.split(b'\n', 1)[0])
                if not re.match(rb'^\S+ \S*-a0-', b):
                    time.sleep(hold)
            u.sendall(b)
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
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
proxy () { # HOLD: a fresh proxy at $tmp/engine.sock, its counts in $tmp/top
  [ -z "${proxy:-}" ] || { kill "$proxy"; wait "$proxy" 2>/dev/null || true; }
  rm -f "$tmp/engine.sock"; echo 0 0 >"$tmp/top"
  HOLD=$1 python3 "$tmp/proxy.py" "$tmp/engine.sock" "$ITM_SOCK" "$tmp/top" 2>"$tmp/proxy.err" &
  proxy=$!
  wait_for 10 test -S "$tmp/engine.sock" || bail "the proxy did not come up: $(cat "$tmp/proxy.err")"
}
at_exit 'kill $proxy 2>/dev/null'
proxy 0.3

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
read -r top creates <"$tmp/top"
diag "create/start calls in flight at most: $top"
ok "at most 16 create or start calls in flight ($top)" [ "$top" -le 16 ]
ok "but more than one ($top)" [ "$top" -ge 2 ]
run "$ITM_ENV" down
is "$rc" 0 "down"

# a0 fails at once (its container name is taken), the others' creates are
# held 1 s: those still waiting for a slot then are never created
n=40
engine_req POST "/containers/create?name=$ITM_NS-a0-clash" -H 'Content-Type: application/json' \
  -d '{"Image":"itm-fixture/busybox:latest","Cmd":["true"]}' >/dev/null
at_exit "curl -s --unix-socket '$ITM_SOCK' -X DELETE 'http://engine/containers/$ITM_NS-a0-clash?force=1' >/dev/null"
{
  echo "services:"
  printf '  a0:\n    image: itm-fixture/busybox:latest\n    container_name: %s-a0-clash\n' "$ITM_NS"
  i=1
  while [ $i -lt $n ]; do
    printf '  s%d:\n    image: itm-fixture/busybox:latest\n' $i
    printf '    command: ["sh", "-c", "trap exit TERM; while :; do sleep 1; done"]\n'
    i=$((i + 1))
  done
} >"$tmp/clash.yml"
proxy 1
DOCKER_HOST=unix://$tmp/engine.sock run "$ITM_ENV" -f "$tmp/clash.yml" up
ok "up fails: a0's name is taken (rc $rc)" [ "$rc" -ne 0 ]
like "$err" "a0" "a0's failure is told"
read -r top creates <"$tmp/top"
diag "creates: $creates of $n"
ok "at most two rounds of 16 creates ($creates of $n)" [ "$creates" -le 32 ]
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 \
  "what was created is removed again"
done_testing
