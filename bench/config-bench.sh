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

# median wall time (ms, from date +%s%N) and the largest peak RSS (MB, from
# /usr/bin/time) of a command over N runs
median_ms () {
  n=$1; shift
  : > "$tmp/ms"; : > "$tmp/rss"
  i=0
  while [ $i -lt "$n" ]; do
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$tmp/one" "$@" > /dev/null 2> "$tmp/err" || {
      echo "failed: $*" >&2; head -5 "$tmp/err" >&2; return 1; }
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) >> "$tmp/ms"
    cat "$tmp/one" >> "$tmp/rss"
    i=$((i + 1))
  done
  sort -n "$tmp/ms" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
  printf ' '
  sort -n "$tmp/rss" | tail -1 | awk '{ printf "%.1f\n", $1 / 1024 }'
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
