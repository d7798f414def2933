#!/bin/sh
# ready-lag.sh ITM_ENV [ITM_ENV_OLD] - readiness lag: how long after a
# service's own check first passes `itm-env up` reports it ready, and how
# many exec probes it spent, for services ready 0.1 s to 60 s after start
# (BENCH_READY_AT lists the seconds), of four kinds:
#   port    the port opens when the service is ready (httpd starts then)
#   early   the port is open from the start; a process exits when the
#           service is ready (sh's `sleep` ends)
#   none    no port; a process exits when the service is ready
#   silent  no port, no process change, no output: one shell that waits
#           (a builtin read with a timeout) then writes the file
# The truth is the moment the check could first pass: the service makes
# /tmp/up then (its mtime, read with stat inside the container); the check
# also writes /tmp/first when it first passes (never after the report).
# The report is up's own timestamped "ready" line; lag = report - truth.
# The probes are the stack's exec_create events (Docker's own health
# interval is 1 h: every probe counted is itm-env's); "plain" is what the
# schedule without trigger (probes at 0, 50, 150, 350, 750, 1550 ms, then
# every second, from the container's start) runs until its first probe
# after the truth.  BENCH_READY_ROUNDS rounds (default 3) of one stack
# each; with a second binary (e.g. the previous release) both run each
# round, one after the other.  Run it under nice on a shared machine.
# Figures, not a test (make bench).
set -eu
at=${BENCH_READY_AT:-0.1 0.3 0.6 1 1.5 2.5 4 7 12 20 30 45 60}
kinds=${BENCH_READY_KINDS:-port early none silent}
rounds=${BENCH_READY_ROUNDS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-readylag.XXXXXX")
ns=itmrl-$$
cur=
trap '[ -z "$cur" ] || "$cur" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
bb=itm-fixture/busybox:latest
hc='healthcheck: {test: ["CMD-SHELL", "[ -e /tmp/up ] \&\& { [ -e /tmp/first ] || touch /tmp/first; }"], interval: 1h, timeout: 5s, retries: 3}'

{
  echo "services:"
  for k in $kinds; do
    for x in $at; do
      n=$k-$(echo "$x" | tr . _)
      case $k in
        port) cmd="sleep $x; touch /tmp/up; exec httpd -f -p 8080"; ex='expose: ["8080"]' ;;
        early) cmd="httpd -p 8080; sleep $x; touch /tmp/up; exec sleep 3600"; ex='expose: ["8080"]' ;;
        none) cmd="sleep $x; touch /tmp/up; exec sleep 3600"; ex='' ;;
        silent) cmd="mkfifo /tmp/f; exec 3<>/tmp/f; read -t $x x <\&3; : >/tmp/up; read x <\&3"; ex='' ;;
      esac
      printf '  %s:\n    image: %s\n    command: ["sh", "-c", "%s"]\n' "$n" "$bb" "$cmd"
      [ -z "$ex" ] || printf '    %s\n' "$ex"
      printf '    %s\n' "$hc"
    done
  done
} | sed 's/\\&/\&/g' >"$tmp/s.yml"

sod () { awk -F: '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }   # HH:MM:SS.fff -> s of day

one () { # ITM LABEL: one round, rows "label kind at lag_ms probes plain" appended to $tmp/all
  cur=$1
  t0=$(date +%s)
  "$1" -f "$tmp/s.yml" -p "$ns" up >"$tmp/up.out" 2>&1 || { cat "$tmp/up.out" >&2; return 1; }
  t1=$(( $(date +%s) + 1 ))
  docker events --since "$t0" --until "$t1" --filter type=container --filter event=exec_create \
    --format '{{.Actor.Attributes.name}}' >"$tmp/ev" || true
  for k in $kinds; do
    for x in $at; do
      n=$k-$(echo "$x" | tr . _)
      rep=$(grep -E "[0-9:.]+ $n ready" "$tmp/up.out" | awk '{print $1}' | sod)
      truth=$(docker exec "$ns-$n-1" stat -c %y /tmp/up | awk '{print $2}' | sod)
      start=$(docker inspect -f '{{.State.StartedAt}}' "$ns-$n-1" | sed 's/.*T//; s/Z$//' | sod)
      probes=$(grep -c "^$ns-$n-1\$" "$tmp/ev" || true)
      echo "$2 $k $x $rep $truth $start $probes" |
        awk '{ t = $5 - $6; if (t < -43200) t += 86400; c = 1
               for (k = 0; ; k++) { p = k <= 5 ? 0.05 * (2 ^ k - 1) : 1.55 + (k - 5); if (p >= t) break; c++ }
               printf "%s %s %s %.0f %d %d\n", $1, $2, $3, ($4 - $5) * 1000, $7, c }' >>"$tmp/all"
    done
  done
  "$1" down -p "$ns" -q >/dev/null 2>&1 || true
  cur=
}

: >"$tmp/all"
r=1
while [ "$r" -le "$rounds" ]; do
  one "$1" new
  [ -z "${2:-}" ] || one "$2" old
  r=$((r + 1))
done
[ -z "${BENCH_READY_ROWS:-}" ] || cat "$tmp/all"
# per binary and kind: lag p50/p95/max over every round, probes against
# the plain schedule's (sum over the services)
sort -k1,1 -k2,2 "$tmp/all" | awk '
  function flush(   i, j, t) {
    if (cnt == 0) return
    for (i = 2; i <= cnt; i++) { t = s[i]; for (j = i - 1; j >= 1 && s[j] > t; j--) s[j + 1] = s[j]; s[j + 1] = t }
    printf "%-4s %-7s n %3d  lag p50 %5.0f  p95 %5.0f  max %5.0f ms  probes %4d  plain %4d  (%.2fx)\n",
      lab, kind, cnt, s[int(0.5 * cnt + 0.999999)], s[int(0.95 * cnt + 0.999999)], s[cnt], pr, pl,
      pl ? pr / pl : 0
    cnt = 0; pr = 0; pl = 0; delete s }
  $1 != lab || $2 != kind { flush(); lab = $1; kind = $2 }
  { s[++cnt] = $4; pr += $5; pl += $6 }
  END { flush() }'
