#!/bin/sh
# toxics.sh - `itm-env proxy` on the host, driven with curl through
# Toxiproxy's API, in front of an echo server: every toxic's effect on a
# real TCP client (tests/proxy/tcp.py), enabled:false and reset.  Timing
# checks are lower bounds (a toxic's delay is at least what it says) with
# generous upper ones, never tight.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd curl jq python3
tcp="python3 $ITM_SRCDIR/tests/proxy/tcp.py"

$tcp serve "$tmp/echo.port" & echo_pid=$!
at_exit "kill $echo_pid 2>/dev/null || :"
"$ITM_ENV" proxy --listen 127.0.0.1:0 >"$tmp/proxy.out" 2>"$tmp/proxy.err" & px_pid=$!
at_exit "kill $px_pid 2>/dev/null || :"
wait_for 10 test -s "$tmp/echo.port" || bail "echo server did not start"
wait_for 10 grep -q "API on" "$tmp/proxy.out" || bail "proxy did not start: $(cat "$tmp/proxy.err")"
api=http://$(sed -n 's/^itm-env proxy: API on //p' "$tmp/proxy.out")
echo_port=$(cat "$tmp/echo.port")

# req METHOD PATH [BODY]: $code and $body
req () {
  _r=$(curl -sS --max-time 10 -X "$1" ${3:+-d "$3"} -w '\n%{http_code}' "$api$2")
  code=${_r##*
}
  body=${_r%
*}
}
toxic () { req POST /proxies/e/toxics "$1"; is "$code" 200 "toxic $1"; }
untoxic () { req DELETE "/proxies/e/toxics/$1"; is "$code" 204 "toxic $1 removed"; }
ge () { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

req POST /proxies "{\"name\":\"e\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$echo_port\"}"
is "$code" 201 "proxy created"
port=$(printf '%s' "$body" | jq -r .listen | sed 's/.*://')
run $tcp probe "$port" 5
is "$out" ok "no toxic: the echo comes back"

toxic '{"type":"latency","attributes":{"latency":300}}'
run $tcp rtt "$port" 5
ok "latency 300 downstream: a round trip takes >= 300 ms ($out)" ge "$out" 300
ok "... and < 1500 ms" ge 1500 "$out"
untoxic latency_downstream
toxic '{"type":"latency","stream":"upstream","attributes":{"latency":300}}'
run $tcp rtt "$port" 3
ok "latency 300 upstream: >= 300 ms ($out)" ge "$out" 300
untoxic latency_upstream
toxic '{"type":"latency","toxicity":0,"attributes":{"latency":5000}}'
run $tcp rtt "$port" 3
ok "toxicity 0: the latency does not act ($out ms)" ge 4000 "$out"
untoxic latency_downstream

toxic '{"type":"bandwidth","attributes":{"rate":500}}'
run $tcp bulk "$port" 1000000
ok "bandwidth 500 KB/s: 1 MB echoed in >= 1.7 s ($out)" ge "$out" 1.7
untoxic bandwidth_downstream

toxic '{"type":"slicer","attributes":{"average_size":100,"size_variation":50,"delay":10}}'
run $tcp bulk "$port" 200000
unlike "$out" short "slicer: every byte arrives, in order of size"
untoxic slicer_downstream

toxic '{"type":"limit_data","attributes":{"bytes":1000}}'
run $tcp limit "$port" 5000
is "$out" 1000 "limit_data 1000: the connection ends after 1000 bytes"
untoxic limit_data_downstream

toxic '{"type":"timeout","attributes":{"timeout":300}}'
run $tcp probe "$port" 5
is "$out" closed "timeout 300: no data, then the connection is closed"
untoxic timeout_downstream
toxic '{"type":"timeout","attributes":{"timeout":0}}'
run $tcp probe "$port" 1
is "$out" timeout "timeout 0: held (the client's 1 s timeout fires)"
untoxic timeout_downstream

toxic '{"type":"reset_peer","attributes":{"timeout":0}}'
run $tcp probe "$port" 5
is "$out" reset "reset_peer: connection reset by peer"
untoxic reset_peer_downstream

toxic '{"type":"slow_close","attributes":{"delay":200}}'
run $tcp limit "$port" 10
is "$out" 10 "slow_close: the data passes"
untoxic slow_close_downstream

toxic '{"type":"fail_first","attributes":{"connections":2}}'
r=
for i in 1 2 3; do run $tcp probe "$port" 5; r="$r $out"; done
is "$r" " reset reset ok" "fail_first 2: the first two connections fail, the third works"
untoxic fail_first_downstream
toxic '{"type":"hang"}'
run $tcp probe "$port" 1
is "$out" timeout "hang: accepted, never answered"
untoxic hang_downstream
run $tcp probe "$port" 5
is "$out" ok "hang removed: answered again"

req POST /proxies/e '{"enabled":false}'
is "$code:$(printf '%s' "$body" | jq -r .enabled)" 200:false "enabled false"
run $tcp probe "$port" 5
is "$out" refused "a disabled proxy refuses connections"
toxic '{"type":"latency","attributes":{"latency":1000}}'
req POST /reset
is "$code" 204 "reset"
req GET /proxies/e
is "$(printf '%s' "$body" | jq -c '[.enabled, .toxics]')" '[true,[]]' "reset: enabled, no toxics"
run $tcp rtt "$port" 3
ok "reset: no latency left ($out ms)" ge 900 "$out"

req POST /proxies/e/toxics '{"type":"latency","attributes":{"latency":"1s"}}'
is "$code:$(printf '%s' "$body" | jq -r .status)" 400:400 "a bad attribute type: 400"
req POST /proxies/e/toxics '{"type":"netem"}'
is "$code:$(printf '%s' "$body" | jq -r .error)" "400:invalid toxic type" "an unknown toxic: 400 invalid toxic type"
req GET /proxies/e/toxics
is "$body" "[]" "nothing half-applied"
req GET /proxies/nope
is "$code:$(printf '%s' "$body" | jq -c .)" '404:{"error":"proxy not found","status":404}' "unknown proxy: 404 in Toxiproxy's words"

kill "$px_pid"
wait "$px_pid" && rc=0 || rc=$?
is "$rc" 0 "SIGTERM: the proxy exits 0"
done_testing
