#!/bin/sh
# proxy-bench.sh ITM_ENV - `itm-env proxy` without toxics on loopback, side
# by side with the direct connection to the same echo server: added latency
# per request (p50, p99 of 5,000 one-byte round trips), bulk throughput
# (1 GiB from the server), memory per open connection and 1,000 concurrent
# connections held (the proxy's RSS before and after), the proxy's CPU time
# per GB of the bulk transfer.  Figures, not a test.
# Goals: p50 added < 100 us (Toxiproxy's claim), >= 1 GB/s or 80% of direct.
set -eu
itm=${1:?usage: proxy-bench.sh path/to/itm-env}
here=$(cd "$(dirname "$0")" && pwd)
py="python3 $here/proxy-bench.py"
n=${BENCH_ROUNDS:-5000}
conns=${BENCH_CONNS:-1000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-bench.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null || :; done; rm -rf "$tmp"' EXIT INT TERM
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || :

$py serve "$tmp/port" & pids="$pids $!"
"$itm" proxy --listen 127.0.0.1:0 >"$tmp/proxy.out" & px=$!; pids="$pids $px"
i=0
while ! { [ -s "$tmp/port" ] && grep -q "API on" "$tmp/proxy.out"; }; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "servers did not start" >&2; exit 1; }; sleep 0.1
done
api=http://$(sed -n 's/^itm-env proxy: API on //p' "$tmp/proxy.out")
direct=$(cat "$tmp/port")
proxied=$(curl -sS -X POST "$api/proxies" \
  -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$direct\"}" |
  sed 's/.*"listen":"[^"]*:\([0-9]*\)".*/\1/')

set -- $($py lat "$direct" "$n"); d50=$1 d99=$2
set -- $($py lat "$proxied" "$n"); p50=$1 p99=$2
echo "latency ($n round trips): direct p50 ${d50} us p99 ${d99} us; proxied p50 ${p50} us p99 ${p99} us"
echo "added: p50 $((p50 - d50)) us, p99 $((p99 - d99)) us (goal: p50 < 100 us)"

rss () { awk '/^VmRSS/ { print $2 }' "/proc/$px/status"; }
before=$(rss)
$py hold "$proxied" "$conns" "$tmp/hold.pid" >"$tmp/hold.out" & hp=$!; pids="$pids $hp"
i=0
while ! grep -q held "$tmp/hold.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "hold did not finish" >&2; exit 1; }; sleep 0.1
done
after=$(rss)
echo "connections: $(cat "$tmp/hold.out") of $conns concurrent through the proxy;" \
  "RSS ${before} kB -> ${after} kB: $(( (after - before) * 1024 / conns )) bytes per connection"
kill "$hp" 2>/dev/null || :

# after the connections: the bulk transfer's buffers would grow the heap first
set -- $($py drain "$direct"); dbytes=$1 dsec=$2
cpu () { awk '{ print $14 + $15 }' "/proc/$px/stat"; }
c0=$(cpu)
set -- $($py drain "$proxied"); pbytes=$1 psec=$2
c1=$(cpu)
awk -v db="$dbytes" -v ds="$dsec" -v pb="$pbytes" -v ps="$psec" 'BEGIN {
  d = db / ds / 1e6; p = pb / ps / 1e6
  printf "throughput (%d MB): direct %.0f MB/s, proxied %.0f MB/s (%.0f%% of direct; goal >= 1000 MB/s or 80%%)\n",
    pb / 1e6, d, p, 100 * p / d }'
# the proxy's own CPU time for the bulk transfer (user + system): a figure
# a loaded machine moves less than the wall-clock throughput
awk -v c="$(( c1 - c0 ))" -v hz="$(getconf CLK_TCK)" -v pb="$pbytes" 'BEGIN {
  printf "proxy CPU for the bulk transfer: %.2f s per GB\n", c / hz / (pb / 1e9) }'
