#!/bin/sh
# ready-lag.sh ITM_ENV [ITM_ENV_OLD] - readiness lag: how long after a
# service's own check first passes `itm-env up` reports it ready, and how
# many exec probes it spent, for services ready 0.1 s to 60 s after start
# (BENCH_READY_AT lists the seconds), of three kinds:
#   port   the port opens when the service is ready (httpd starts then)
#   early  the port is open from the start, the service is ready later
#   none   no port at all (only the blind probe schedule)
# The truth is the moment the check could first pass: the service makes
# /tmp/up then (its mtime, read with stat inside the container); the check
# also writes /tmp/first when it first passes (never after the report).
# The report is up's own timestamped "ready" line; lag = report - truth.
# Docker's own health interval is 30 s, so the probes that count are
# itm-env's.  With a second binary (e.g. the previous release) both run on
# the same stack, one after the other.  Figures, not a test (make bench).
set -eu
at=${BENCH_READY_AT:-0.1 0.3 0.6 1 1.5 2.5 4 7 12 20 30 45 60}
kinds=${BENCH_READY_KINDS:-port early none}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-readylag.XXXXXX")
ns=itmrl-$$
cur=
trap '[ -z "$cur" ] || "$cur" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
bb=itm-fixture/busybox:latest
hc='healthcheck: {test: ["CMD-SHELL", "[ -e /tmp/up ] \&\& { [ -e /tmp/first ] || touch /tmp/first; }"], interval: 30s, timeout: 5s, retries: 3}'

{
  echo "services:"
  for k in $kinds; do
    for x in $at; do
      n=$k-$(echo "$x" | tr . _)
      case $k in
        port) cmd="sleep $x; touch /tmp/up; exec httpd -f -p 8080"; ex='expose: ["8080"]' ;;
        early) cmd="httpd -p 8080; sleep $x; touch /tmp/up; exec sleep 3600"; ex='expose: ["8080"]' ;;
        none) cmd="sleep $x; touch /tmp/up; exec sleep 3600"; ex='' ;;
      esac
      printf '  %s:\n    image: %s\n    command: ["sh", "-c", "%s"]\n' "$n" "$bb" "$cmd"
      [ -z "$ex" ] || printf '    %s\n' "$ex"
      printf '    %s\n' "$hc" | sed 's/\\&/\&/g'
    done
  done
} >"$tmp/s.yml"

sod () { awk -F: '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }   # HH:MM:SS.fff -> s of day

one () { # ITM LABEL
  cur=$1
  t0=$(date +%s)
  "$1" -f "$tmp/s.yml" -p "$ns" up >"$tmp/up.out" 2>&1 || { cat "$tmp/up.out" >&2; return 1; }
  t1=$(( $(date +%s) + 1 ))
  docker events --since "$t0" --until "$t1" --filter type=container --filter event=exec_create \
    --filter "label=io.itm-env.namespace=$ns" --format '{{.Actor.Attributes.name}}' >"$tmp/ev" || true
  : >"$tmp/rows"
  for k in $kinds; do
    for x in $at; do
      n=$k-$(echo "$x" | tr . _)
      rep=$(grep -E "[0-9:.]+ $n ready" "$tmp/up.out" | awk '{print $1}' | sod)
      truth=$(docker exec "$ns-$n-1" stat -c %y /tmp/up | awk '{print $2}' | sod)
      probes=$(grep -c "^$ns-$n-1\$" "$tmp/ev" || true)
      echo "$k $x $rep $truth $probes" >>"$tmp/rows"
    done
  done
  "$1" down -p "$ns" -q >/dev/null 2>&1 || true
  cur=
  awk -v label="$2" '
    { lag = ($3 - $4) * 1000; k = $1; n[k]++; l[k, n[k]] = lag; p[k] += $5; all[++na] = lag
      printf "%-8s %-6s %6s s  lag %7.0f ms  probes %3d\n", label, $1, $2, lag, $5 }
    function pct(arr, cnt, q,   i, j, t, s) {
      for (i = 1; i <= cnt; i++) s[i] = arr[i]
      for (i = 2; i <= cnt; i++) { t = s[i]; for (j = i - 1; j >= 1 && s[j] > t; j--) s[j + 1] = s[j]; s[j + 1] = t }
      i = int(q * cnt + 0.999999); if (i < 1) i = 1; return s[i] }
    END {
      for (k in n) { delete a; for (i = 1; i <= n[k]; i++) a[i] = l[k, i]
        printf "%-8s %-6s p50 %6.0f ms  p95 %6.0f ms  max %6.0f ms  probes %d\n", label, k,
          pct(a, n[k], 0.5), pct(a, n[k], 0.95), pct(a, n[k], 1.0), p[k] } }' "$tmp/rows"
}

one "$1" new
[ -z "${2:-}" ] || one "$2" old
