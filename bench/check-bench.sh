#!/bin/sh
# check-bench.sh ITM_ENV - `itm-env check --repeat N` (default 10000) on
# one http check against a local busybox httpd, against curl in a loop and
# wrk on the same endpoint: itm-env's own overhead per request, and
# whether the latency figures itm-env reports agree with wrk's (goal:
# within 10% at p50).  One connection at a time everywhere (busybox httpd
# closes each connection: every request is a new TCP connection for all
# three).  Figures, not a test.  wrk is installed with apt when missing.
#   BENCH_N       requests of itm-env and wrk (default 10000)
#   BENCH_CURL_N  curl processes in the loop (default 1000)
set -eu
itm=${1:?usage: check-bench.sh path/to/itm-env}
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_N:-10000}
cn=${BENCH_CURL_N:-1000}
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (apt)" >&2
  { apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; } >/dev/null 2>&1 || true
fi
command -v curl >/dev/null || { echo "check-bench: needs curl" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-bench.XXXXXX")
ns=bench-check-$$
export ITM_ENV_STATE_DIR=$tmp/state
trap '"$itm" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
ITM_BUILDDIR=${ITM_BUILDDIR:-$(dirname "$itm")} sh "$here/../tests/fixtures/build.sh" busybox >&2

mkdir -p "$tmp/www"
printf '%s\n' '.json:application/json' >"$tmp/www/httpd.conf"
printf '%s\n' '{"id": "u-1", "email": "ann@example.com", "createdAt": "2024-01-02T03:04:05Z"}' \
  >"$tmp/www/user.json"
chmod -R a+rX "$tmp/www"
cat >"$tmp/stack.yml" <<EOF2
services:
  api:
    image: itm-fixture/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/www", "-c", "/www/httpd.conf"]
    stop_signal: SIGKILL
    volumes: ["$tmp/www:/www:ro"]
    ports: ["127.0.0.1::8080"]
    x-itm:
      checks:
        - name: user contract
          http: {path: /user.json, port: 8080}
          expect: {status: 200, shape: {id: string, email: email, createdAt: date-time}}
EOF2
"$itm" -p "$ns" -f "$tmp/stack.yml" up -q
addr=$("$itm" -p "$ns" -f "$tmp/stack.yml" port api 8080)
url=http://$addr/user.json
echo "endpoint: $url"
# warm up
"$itm" -p "$ns" -f "$tmp/stack.yml" check --repeat 200 >/dev/null

printf '%-22s %9s %10s %10s %10s %10s\n' tool requests "p50 ms" "p99 ms" "max ms" "req/s"
"$itm" -p "$ns" -f "$tmp/stack.yml" check --repeat "$n" --json >"$tmp/itm.json"
itm_p50=$(jq -r '.checks[0].latency.p50_ms' "$tmp/itm.json")
jq -r '.checks[0].latency | [.count, .p50_ms, .p99_ms, .max_ms, .throughput_rps] | @tsv' "$tmp/itm.json" |
  awk -F '\t' '{ printf "%-22s %9d %10.3f %10.3f %10.3f %10.1f\n", "itm-env check", $1, $2, $3, $4, $5 }'

# curl: one process per request (what a shell test loop does); its own
# time_total, and the wall time per request (process start included)
t0=$(date +%s%N)
i=0
while [ $i -lt "$cn" ]; do
  curl -s -o /dev/null -w '%{time_total}\n' "$url"
  i=$((i + 1))
done >"$tmp/curl"
t1=$(date +%s%N)
sort -n "$tmp/curl" | awk -v wall=$(( (t1 - t0) / 1000 )) -v n="$cn" '
  { a[NR] = $1 * 1000 }
  END { printf "%-22s %9d %10.3f %10.3f %10.3f %10.1f\n", "curl loop", NR,
        a[int((NR * 50 + 99) / 100)], a[int((NR * 99 + 99) / 100)], a[NR], n / (wall / 1e6) }'

wrk_p50=
if command -v wrk >/dev/null 2>&1; then
  # wrk runs for a time, not a count: about the time itm-env's N took
  secs=$(jq -r '.checks[0].latency.wall_ms / 1000 | ceil | if . < 3 then 3 else . end' "$tmp/itm.json")
  wrk -t1 -c1 -d"${secs}s" --latency "$url" >"$tmp/wrk" 2>&1 || true
  # "50%  1.23ms" lines: in us, ms or s
  ms () { awk -v p="$1" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
          f = u == "us" ? 0.001 : u == "s" ? 1000 : 1; printf "%.3f", v * f }' "$tmp/wrk"; }
  wrk_p50=$(ms 50%)
  wrk_p99=$(ms 99%)
  reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk")
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$tmp/wrk")
  errs=$(awk '/Non-2xx|Socket errors/ { print }' "$tmp/wrk")
  printf '%-22s %9s %10s %10s %10s %10s\n' "wrk -t1 -c1" "${reqs:-?}" "${wrk_p50:-?}" \
    "${wrk_p99:-?}" - "${rps:-?}"
  [ -z "$errs" ] || echo "wrk: $errs"
else
  echo "wrk: not installed (apt-get install wrk): skipped"
fi
if [ -n "$wrk_p50" ]; then
  awk -v a="$itm_p50" -v b="$wrk_p50" 'BEGIN {
    d = (a - b) / b * 100; if (d < 0) d = -d
    printf "p50: itm-env %.3f ms, wrk %.3f ms: %.1f%% apart (goal: within 10%%) %s\n", a, b, d,
      d <= 10 ? "OK" : "MISSED" }'
fi
