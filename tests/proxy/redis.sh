#!/bin/sh
# redis.sh - a real Redis behind `itm-env proxy` (on the host, in front of
# the published port), redis-cli through it: a latency toxic of 200 ms
# makes each PING of a session take at least 200 ms (the figure against
# the direct connection is reported, not asserted: no timed assertion
# beyond the toxic's floor), a timeout toxic makes a client with a 1 s
# timeout fail (before the toxic it gets its PONG), reset restores.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq redis-cli curl python3
need_fixtures redis

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  cache:
    image: itm-fixture/redis:7
    ports: ["6379"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 120
YML
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 120
is "$rc" 0 "up: a redis"
direct=$("$ITM_ENV" port cache 6379)

"$ITM_ENV" proxy --listen 127.0.0.1:0 >"$tmp/proxy.out" 2>"$tmp/proxy.err" & px_pid=$!
at_exit "kill $px_pid 2>/dev/null || :"
wait_for 10 grep -q "API on" "$tmp/proxy.out" || bail "proxy did not start: $(cat "$tmp/proxy.err")"
api=http://$(sed -n 's/^itm-env proxy: API on //p' "$tmp/proxy.out")
req () { code=$(curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' -X "$1" ${3:+-d "$3"} "$api$2"); }
req POST /proxies "{\"name\":\"cache\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$direct\"}"
is "$code" 201 "proxy cache in front of $direct"
pport=$(jq -r .listen "$tmp/body" | sed 's/.*://')
dport=${direct##*:}

run timeout 20 redis-cli -h 127.0.0.1 -p "$pport" SET k 42
is "$rc:$out" 0:OK "redis-cli SET through the proxy"
run timeout 20 redis-cli -h 127.0.0.1 -p "$pport" GET k
is "$rc:$out" 0:42 "redis-cli GET through the proxy"

# milliseconds per PING: 10 PINGs on one session, one after the other
per_ping () {
  t0=$(date +%s%N)
  timeout 60 redis-cli -h 127.0.0.1 -p "$1" -r 10 PING >/dev/null || { echo none; return; }
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 10000000 ))
}
base=$(per_ping "$dport")
req POST /proxies/cache/toxics '{"type":"latency","attributes":{"latency":200}}'
is "$code" 200 "latency 200 ms"
slow=$(per_ping "$pport")
diag "PING: $slow ms per request through the proxy with latency 200, $base ms direct" \
  "(+$((slow - base)) ms)"
ok "latency 200: each PING takes at least 200 ms ($slow ms)" test "$slow" -ge 200
req DELETE /proxies/cache/toxics/latency_downstream
is "$code" 204 "latency removed"

# a client with a 1 s timeout (redis-cli 7.0 has none): PING in RESP over
# a socket whose connect and read time out after 1 s
ping1='import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"PING\r\n")
print(s.recv(64).decode().strip())'
run python3 -c "$ping1" "$pport"
is "$rc:$out" 0:+PONG "the 1 s client through the proxy"
req POST /proxies/cache/toxics '{"type":"timeout","attributes":{"timeout":0}}'
is "$code" 200 "timeout 0 (hold)"
run python3 -c "$ping1" "$pport"
ok "timeout: a client with a 1 s timeout fails (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$err" 'timed out' "... on its timeout"
req POST /reset
is "$code" 204 "reset"
run python3 -c "$ping1" "$pport"
is "$rc:$out" 0:+PONG "after reset the 1 s client gets its PONG"
run timeout 20 redis-cli -h 127.0.0.1 -p "$pport" GET k
is "$rc:$out" 0:42 "... and redis-cli its value"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
