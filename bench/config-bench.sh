#!/bin/sh
# config-bench.sh ITM_ENV - time and peak memory of `itm-env config` on a
# generated 1,000-service stack, against `docker-compose config` on the same
# file in the same run (and Docker Compose v2's, when tests/fixtures/compose-v2.sh
# has it).  Figures, not a test.  Goal: < 50 ms, < 20 MB,
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
# the CPU time (user + system, ms) per run over the same N runs (one
# /usr/bin/time around the loop: its 10 ms resolution divided by N; the
# wall time is inflated by other load on the machine, CPU time much less),
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
  /usr/bin/time -f '%U %S' -o "$tmp/cpu" sh -c '
    n=$1; shift; i=0
    while [ $i -lt "$n" ]; do "$@" > /dev/null 2>&1; i=$((i + 1)); done' sh "$n" "$@"
  sort -n "$tmp/ms" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
  printf ' '
  awk -v n="$n" '{ printf "%.1f", ($1 + $2) * 1000 / n }' "$tmp/cpu"
  printf ' '
  awk '{ printf "%.1f\n", $1 / 1024 }' "$tmp/rss"
}

cd "$tmp"
fmt='%-22s %8s ms wall (median of %d)  %7s ms CPU  %6s MB peak RSS\n'
set -- $(median_ms "$runs" "$itm" -f compose.yaml config)
itm_ms=$1 itm_cpu=$2 itm_mb=$3
printf "$fmt" 'itm-env config:' "$itm_ms" "$runs" "$itm_cpu" "$itm_mb"
set -- $(median_ms "$runs" "$itm" -f compose.yaml config --format json)
printf "$fmt" 'itm-env config --json:' "$1" "$runs" "$2" "$3"
set -- $(median_ms "$runs" "$itm" --version)
printf "$fmt" 'itm-env --version:' "$1" "$runs" "$2" "$3"
if command -v docker-compose > /dev/null 2>&1; then
  set -- $(median_ms "$dcruns" docker-compose -p bench -f compose.yaml config)
  printf "$fmt" 'docker-compose config:' "$1" "$dcruns" "$2" "$3"
  awk -v a="$1" -v b="$itm_ms" 'BEGIN { printf "ratio: itm-env is %.1fx faster than docker-compose\n", a / b }'
else
  echo "docker-compose: not installed (apt-get install docker-compose), no ratio"
fi
# Docker Compose v2 (tests/fixtures/compose-v2.sh), capped as the tests cap it
if dc2=$(sh "$here/../tests/fixtures/compose-v2.sh" 2> /dev/null); then
  set -- $(median_ms "$dcruns" prlimit --as=4000000000 timeout 120 "$dc2" -p bench -f compose.yaml config)
  printf "$fmt" 'compose v2 config:' "$1" "$dcruns" "$2" "$3"
  awk -v a="$1" -v b="$itm_ms" 'BEGIN { printf "ratio: itm-env is %.1fx faster than Compose v2\n", a / b }'
else
  echo "Compose v2: not available (tests/fixtures/compose-v2.sh), no ratio"
fi
awk -v t="$itm_ms" -v c="$itm_cpu" -v m="$itm_mb" 'BEGIN {
  printf "goals: < 50 ms: %s (wall), %s (CPU); < 20 MB: %s\n", (t < 50 ? "met" : "MISSED"),
    (c < 50 ? "met" : "MISSED"), (m < 20 ? "met" : "MISSED") }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (a busy machine inflates wall times much more than CPU times)"
