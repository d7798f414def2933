#!/bin/sh
# postgres.sh - a real PostgreSQL behind `itm-env proxy` (on the host, in
# front of the published port), psql through it: latency 200 ms adds
# 200 ms within 20% (median of 20 queries on one session, against the
# direct connection), bandwidth limits a 5 MB result to within 20% of the
# rate, timeout makes a client with a connect timeout fail, reset_peer gives
# a reset, enabled:false refuses, reset restores.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq psql curl
need_fixtures postgres

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  db:
    image: itm-fixture/postgres:15
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: app}
    ports: ["5432"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U app -d app"]
      interval: 1s
      retries: 120
YML
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 120
is "$rc" 0 "up: a postgres"
direct=$("$ITM_ENV" port db 5432)

"$ITM_ENV" proxy --listen 127.0.0.1:0 >"$tmp/proxy.out" 2>"$tmp/proxy.err" & px_pid=$!
at_exit "kill $px_pid 2>/dev/null || :"
wait_for 10 grep -q "API on" "$tmp/proxy.out" || bail "proxy did not start: $(cat "$tmp/proxy.err")"
api=http://$(sed -n 's/^itm-env proxy: API on //p' "$tmp/proxy.out")
req () { code=$(curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' -X "$1" ${3:+-d "$3"} "$api$2"); }
req POST /proxies "{\"name\":\"db\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$direct\"}"
is "$code" 201 "proxy db in front of $direct"
pport=$(jq -r .listen "$tmp/body" | sed 's/.*://')
dport=${direct##*:}
export PGPASSWORD=app PGCONNECT_TIMEOUT=3
# the median of the "Time: X ms" of 20 SELECT 1 on one session
median20 () {
  { printf '%s\n' '\timing on'; i=0; while [ $i -lt 20 ]; do echo 'SELECT 1;'; i=$((i + 1)); done; } |
    psql -X -At -h 127.0.0.1 -p "$1" -U app -d app 2>&1 |
    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 20) print (v[10] + v[11]) / 2; else print "none" }'
}
within () { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

run sh -c 'psql -X -h 127.0.0.1 -p "$0" -U app -d app "$@"' "$pport" -Atc 'SELECT 41 + 1'
is "$rc:$out" 0:42 "psql through the proxy"

base=$(median20 "$dport")
req POST /proxies/db/toxics '{"type":"latency","attributes":{"latency":200}}'
is "$code" 200 "latency 200 ms"
slow=$(median20 "$pport")
added=$(awk -v a="$slow" -v b="$base" 'BEGIN { print a - b }')
ok "latency 200: the added latency is 200 ms within 20% (median $slow ms vs $base ms direct: +$added)" \
  within "$added" 160 240
req DELETE /proxies/db/toxics/latency_downstream

# the "Time: X ms" of a 5 MB result (SELECT repeat('x', 5000000))
bulk_ms () {
  { printf '%s\n' '\timing on'; echo "SELECT repeat('x', 5000000);"; } |
    psql -X -At -h 127.0.0.1 -p "$1" -U app -d app 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
dms=$(bulk_ms "$dport")
req POST /proxies/db/toxics '{"type":"bandwidth","attributes":{"rate":2000}}'
is "$code" 200 "bandwidth 2000 KB/s"
pms=$(bulk_ms "$pport")
# the rate the proxy let through: 5 MB over the time it added to the direct one
rate=$(awk -v p="$pms" -v d="$dms" 'BEGIN { if (p > d) printf "%d", 5000000 / (p - d); else print 0 }')
secs="$pms ms, $dms ms direct"
ok "bandwidth: 5 MB at 2000 KB/s within 20% ($rate KB/s: $secs)" within "$rate" 1600 2400
req DELETE /proxies/db/toxics/bandwidth_downstream

req POST /proxies/db/toxics '{"type":"timeout","stream":"upstream","attributes":{"timeout":0}}'
run sh -c 'psql -X -h 127.0.0.1 -p "$0" -U app -d app "$@"' "$pport" -Atc 'SELECT 1'
ok "timeout: psql with a 3 s connect timeout fails (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$err" 'timeout expired|timed out' "... on its timeout"
req DELETE /proxies/db/toxics/timeout_upstream

req POST /proxies/db/toxics '{"type":"reset_peer","attributes":{"timeout":0}}'
run sh -c 'psql -X -h 127.0.0.1 -p "$0" -U app -d app "$@"' "$pport" -Atc 'SELECT 1'
ok "reset_peer: psql fails (rc $rc)" test "$rc" -ne 0
like "$err" 'reset by peer|closed the connection unexpectedly' "... the connection was reset"
req DELETE /proxies/db/toxics/reset_peer_downstream

req POST /proxies/db '{"enabled":false}'
run sh -c 'psql -X -h 127.0.0.1 -p "$0" -U app -d app "$@"' "$pport" -Atc 'SELECT 1'
ok "enabled:false: psql fails" test "$rc" -ne 0
like "$err" 'Connection refused' "... connection refused"
req POST /proxies/db/toxics '{"type":"latency","attributes":{"latency":5000}}'
req POST /reset
is "$code" 204 "reset"
run sh -c 'psql -X -h 127.0.0.1 -p "$0" -U app -d app "$@"' "$pport" -Atc 'SELECT 41 + 1'
is "$rc:$out" 0:42 "after reset psql works again"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
