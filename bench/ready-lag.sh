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
# The report is up's own timestamped "ready" line; lag = report - truth;
# "sched" = the lag less the passing probe's own run (its exec's round
# trip through the engine, from up's --report), 0 when that probe was
# started before the truth: how late the schedule started it, the part
# the triggers decide (the exec's is the engine's, and grows with load).
# The probes are the stack's exec_create events (Docker's own health
# interval is 1 h: every probe counted is itm-env's); "plain" is what the
# schedule without trigger (probes at 0, 50, 150, 350, 750, 1550 ms, then
# every second, from the container's start) runs until its first probe
# after the truth.  The services (kinds x times) are sorted by time and
# brought up BENCH_READY_BATCH at a time (default 8: the probes of many
# services at once load the engine and so the figures); BENCH_READY_ROUNDS
# rounds (default 2) of every batch; with a second binary (e.g. the
# previous release) both run each batch, one after the other.  Run it
# under nice on a shared machine.  Figures, not a test (make bench).
set -eu
at=${BENCH_READY_AT:-0.1 0.3 0.6 1 1.5 2.5 4 7 12 20 30 45 60}
kinds=${BENCH_READY_KINDS:-port early none silent}
rounds=${BENCH_READY_ROUNDS:-2}
batch=${BENCH_READY_BATCH:-8}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-readylag.XXXXXX")
ns=itmrl-$$
cur=
evpid=
trap '[ -z "$evpid" ] || kill "$evpid" 2>/dev/null || true
      [ -z "$cur" ] || "$cur" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
bb=itm-fixture/busybox:latest
hc='healthcheck: {test: ["CMD-SHELL", "[ -e /tmp/up ] && { [ -e /tmp/first ] || touch /tmp/first; }"], interval: 1h, timeout: 5s, retries: 3}'

svc () { # KIND AT: one service of the stack
  n=$1-$(echo "$2" | tr . _)
  case $1 in
    port) cmd="sleep $2; touch /tmp/up; exec httpd -f -p 8080"; ex='expose: ["8080"]' ;;
    early) cmd="httpd -p 8080; sleep $2; touch /tmp/up; exec sleep 3600"; ex='expose: ["8080"]' ;;
    none) cmd="sleep $2; touch /tmp/up; exec sleep 3600"; ex='' ;;
    silent) cmd="mkfifo /tmp/f; exec 3<>/tmp/f; read -t $2 x <&3; : >/tmp/up; read x <&3"; ex='' ;;
  esac
  printf '  %s:\n    image: %s\n    command: ["sh", "-c", "%s"]\n' "$n" "$bb" "$cmd"
  [ -z "$ex" ] || printf '    %s\n' "$ex"
  printf '    %s\n' "$hc"
}

# the batches: "kind at" pairs sorted by time, $batch to a file
for x in $at; do for k in $kinds; do echo "$k $x"; done; done |
  awk -v b="$batch" -v d="$tmp" '{ f = sprintf("%s/batch-%03d", d, int((NR - 1) / b)); print > f }'

sod () { awk -F: '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }   # HH:MM:SS.fff -> s of day

one () { # ITM LABEL BATCH: one batch, rows "label kind at lag_ms probes plain sched_ms"
  # appended to $tmp/all
  { echo "services:"; while read -r k x; do svc "$k" "$x"; done <"$3"; } >"$tmp/s.yml"
  # the probes, as they come (the engine keeps only the last 256 events for --since)
  docker events --filter type=container --filter event=exec_create \
    --format '{{.Actor.Attributes.name}}' >"$tmp/ev" 2>/dev/null &
  evpid=$!
  sleep 0.5
  cur=$1
  "$1" -f "$tmp/s.yml" -p "$ns" up --report "$tmp/r.json" >"$tmp/up.out" 2>&1 || { cat "$tmp/up.out" >&2; return 1; }
  sleep 0.5
  kill "$evpid" 2>/dev/null || true
  wait "$evpid" 2>/dev/null || true
  evpid=
  while read -r k x; do
    n=$k-$(echo "$x" | tr . _)
    rep=$(grep -E "[0-9:.]+ $n ready" "$tmp/up.out" | awk '{print $1}' | sod)
    truth=$(docker exec "$ns-$n-1" stat -c %y /tmp/up | awk '{print $2}' | sod)
    start=$(docker inspect -f '{{.State.StartedAt}}' "$ns-$n-1" | sed 's/.*T//; s/Z$//' | sod)
    probes=$(grep -c "^$ns-$n-1\$" "$tmp/ev" || true)
    pr=$(jq -r --arg n "$n" '.services[] | select(.name == $n) | .probe_response_s // 0' "$tmp/r.json")
    echo "$2 $k $x $rep $truth $start $probes ${pr:-0}" |
      awk '{ t = $5 - $6; if (t < -43200) t += 86400; c = 1
             for (k = 0; ; k++) { p = k <= 5 ? 0.05 * (2 ^ k - 1) : 1.55 + (k - 5); if (p >= t) break; c++ }
             printf "%s %s %s %.0f %d %d %.0f\n", $1, $2, $3, ($4 - $5) * 1000, $7, c, ($4 - $5 - $8 > 0 ? $4 - $5 - $8 : 0) * 1000 }' >>"$tmp/all"
  done <"$3"
  "$1" down -p "$ns" -q >/dev/null 2>&1 || true
  cur=
}

: >"$tmp/all"
r=1
while [ "$r" -le "$rounds" ]; do
  for b in "$tmp"/batch-*; do
    one "$1" new "$b"
    [ -z "${2:-}" ] || one "$2" old "$b"
  done
  r=$((r + 1))
done
[ -z "${BENCH_READY_ROWS:-}" ] || cat "$tmp/all"
# per binary and kind: lag p50/p95/max and sched p50/p95 over every round, probes against
# the plain schedule's (sum over the services)
sort -k1,1 -k2,2 "$tmp/all" | awk '
  function srt(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
  function q(a, n, f) { return a[int(f * n + 0.999999)] }
  function flush() {
    if (cnt == 0) return
    srt(s, cnt); srt(d, cnt)
    printf "%-4s %-7s n %3d  lag p50 %5.0f p95 %5.0f max %5.0f ms  sched p50 %5.0f p95 %5.0f ms  probes %4d plain %4d (%.2fx)\n",
      lab, kind, cnt, q(s, cnt, 0.5), q(s, cnt, 0.95), s[cnt], q(d, cnt, 0.5), q(d, cnt, 0.95), pr, pl,
      pl ? pr / pl : 0
    cnt = 0; pr = 0; pl = 0; delete s; delete d }
  $1 != lab || $2 != kind { flush(); lab = $1; kind = $2 }
  { s[++cnt] = $4; d[cnt] = $7; pr += $5; pl += $6 }
  END { flush() }'
