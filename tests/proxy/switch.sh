#!/bin/sh
# switch.sh - `itm-env proxy` moves a direction's bytes by splice(2) while
# no toxic shapes them and through timed chunks while one does: a bulk
# transfer through an echo server (tests/proxy/tcp.py switch), with
# latency, slicer and bandwidth toxics added and removed mid-stream, comes
# back whole and in order (sha256), and the proxy works on after it.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd curl python3
tcp="python3 $ITM_SRCDIR/tests/proxy/tcp.py"

$tcp serve "$tmp/echo.port" & echo_pid=$!
at_exit "kill $echo_pid 2>/dev/null || :"
"$ITM_ENV" proxy --listen 127.0.0.1:0 >"$tmp/proxy.out" 2>"$tmp/proxy.err" & px_pid=$!
at_exit "kill $px_pid 2>/dev/null || :"
wait_for 10 test -s "$tmp/echo.port" || bail "echo server did not start"
wait_for 10 grep -q "API on" "$tmp/proxy.out" || bail "proxy did not start: $(cat "$tmp/proxy.err")"
api=http://$(sed -n 's/^itm-env proxy: API on //p' "$tmp/proxy.out")
echo_port=$(cat "$tmp/echo.port")
r=$(curl -sS --max-time 10 -X POST -d "{\"name\":\"e\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$echo_port\"}" "$api/proxies")
port=$(printf '%s' "$r" | sed 's/.*"listen":"[^"]*:\([0-9]*\)".*/\1/')

run timeout 120 $tcp switch "$port" "$api" 8000000
is "$out" intact "8 MB echoed with toxics added and removed mid-stream: intact, in order"
run timeout 120 $tcp switch "$port" "$api" 300000
is "$out" intact "again, smaller (the switches land on other boundaries)"
run timeout 20 $tcp bulk "$port" 1000000
unlike "$out" short "no toxic left: a bulk transfer passes"
run curl -sS --max-time 10 "$api/proxies/e/toxics"
is "$out" "[]" "no toxic left"

kill "$px_pid"
wait "$px_pid" && rc=0 || rc=$?
is "$rc" 0 "SIGTERM: the proxy exits 0"
done_testing
