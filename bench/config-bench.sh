#!/bin/sh
# config-bench.sh ITM_ENV - time and peak memory of `itm-env config` on a
# generated 1,000-service stack, against `docker-compose config` on the same
# file in the same run.  Figures, not a test.  Goal: < 50 ms, < 20 MB,
# >= 20x faster than docker-compose.
set -eu
itm=${1:?usage: config-bench.sh path/to/itm-env}
here=$(cd "$(dirname "$0")" && pwd)
runs=${BENCH_RUNS:-9}
dcruns=${BENCH_DC_RUNS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
sh "$here/config-gen.sh" "${BENCH_SERVICES:-1000}" > "$tmp/compose.yaml"
echo "stack: $(grep -c '^  svc' "$tmp/compose.yaml") services, $(wc -c < "$tmp/compose.yaml") bytes"

# median wall time (ms, from date +%s%N around the bare command) over N runs,
# and the peak RSS (MB) of one more run under /usr/bin/time
median_ms () {
  n=$1; shift
  : > "$tmp/ms"
  /usr/bin/time -f '%M' -o "$tmp/rss" "$@" > /dev/null 2> "$tmp/err" || {
    echo "failed: $*" >&2; head -5 "$tmp/err" >&2; return 1; }
  i=0
  while [ $i -lt "$n" ]; do
    t0=$(date +%s%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) >> "$tmp/ms"
    i=$((i + 1))
  done
  sort -n "$tmp/ms" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
  printf ' '
  awk '{ printf "%.1f\n", $1 / 1024 }' "$tmp/rss"
}

cd "$tmp"
set -- $(median_ms "$runs" "$itm" -f compose.yaml config)
itm_ms=$1 itm_mb=$2
printf 'itm-env config:        %8s ms (median of %d)  %6s MB peak RSS\n' "$itm_ms" "$runs" "$itm_mb"
set -- $(median_ms "$runs" "$itm" -f compose.yaml config --format json)
printf 'itm-env config --json: %8s ms (median of %d)  %6s MB peak RSS\n' "$1" "$runs" "$2"
if command -v docker-compose > /dev/null 2>&1; then
  set -- $(median_ms "$dcruns" docker-compose -p bench -f compose.yaml config)
  printf 'docker-compose config: %8s ms (median of %d)  %6s MB peak RSS\n' "$1" "$dcruns" "$2"
  awk -v a="$1" -v b="$itm_ms" 'BEGIN { printf "ratio: itm-env is %.1fx faster than docker-compose\n", a / b }'
else
  echo "docker-compose: not installed (apt-get install docker-compose), no ratio"
fi
awk -v t="$itm_ms" -v m="$itm_mb" 'BEGIN {
  printf "goals: < 50 ms: %s; < 20 MB: %s\n", (t < 50 ? "met" : "MISSED"), (m < 20 ? "met" : "MISSED") }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (figures are wall times; a busy machine inflates them)"
