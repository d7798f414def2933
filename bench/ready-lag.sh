#!/bin/sh
# ready-lag.sh ITM_ENV [ITM_ENV_OLD] - readiness lag: how long after a
# service's own check first passes `itm-env up` reports it ready, and how
# many exec probes it spent, for services ready 0.1 s to 60 s after start
# (BENCH_READY_AT lists the seconds), of kinds that each show readiness
# through one trigger (ready.h) and as little else as busybox allows
# (BENCH_READY_KINDS, default all; the old set was "port early none
# silent", the old "silent" is now "files"):
#   port    an exposed port opens (httpd starts listening on it):
#           the port trigger and the listen table
#   early   the port is open (and listening) from the start; a process
#           ends (a child `sleep`): the process table (pids)
#   none    no port; a process ends (a child `sleep`): the process table
#           (pids)
#   files   the service writes /tmp/up: the files trigger (upperdir)
#   listen  httpd starts listening on 127.0.0.1:8080 (not exposed): the
#           listen table only (the port trigger has no port)
#   log     the service prints a line: the log only
#   exec    the service execs into `sleep`: the process table (the
#           comm of PID 1 changes from busybox to sleep, its pid stays)
#   silent  nothing at all changes: no trigger (the blind 1 s schedule)
# How each stays to its one trigger: the service is /bin/busybox (comm
# "busybox"), so `exec busybox httpd` keeps PID 1's pid and comm (port,
# listen); the wait until the truth is the builtin `read -t` on the
# service's own stderr pipe, opened for reading through /proc/self/fd/2
# (no process, no file, no fifo: nothing writes to stderr), so no child
# comes and goes (except the `sleep` of early and none, which is the
# point); nothing writes a file (except files' /tmp/up); nothing prints
# (except log's line).  At its start (before any trigger looks) the
# service computes its deadline D = now + AT (microseconds since the
# epoch, from ash's $EPOCHREALTIME) and re-execs itself (busybox again:
# same pid, same comm) with D in its environment, then waits until D and
# makes its change.
# The truth: the check is "now >= D" (it reads D from /proc/1/environ
# and the clock from $EPOCHREALTIME, with builtins only: no fork), so the
# moment the check can first pass is D, exactly, for every kind.  The
# service's change comes a little after D (its `read -t`/`sleep` wakes
# up, then it writes, prints, execs or listens: 0.2-0.7 ms from D to
# the end of `read -t` (it waits in turns of at most 0.5 s: the kernel
# lets a poll() run late by 0.1% of its timeout, 60 ms for 60 s), 1-5 ms
# to the shell after `sleep` ended (a nanosleep: 50 us of slack), at a
# load of 5 on the 2-core test machine), so the lag counts that too: it
# errs on the pessimistic side, by the service's own latency, never on
# the optimistic one.  (The old truth, the mtime of /tmp/up that the
# service wrote when ready, would now be a files signal for every kind.)
# The check also writes the time it first passed into /tmp/first (after
# the pass: that write cannot trigger the probe that made it); one that
# passed before D is reported as an error.
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
# previous release) both run each batch, one after the other.
# "after pass" = the lag less the moment the check first passed (its
# /tmp/first): how long after the service's own check first passed, in the
# passing probe, up reported it (the probe exec's way back and up's own
# part).
# "by" counts what ran the passing probe (the report's ready_by: blind,
# port, processes, listen, log, files, engine; "-" for a binary without
# it).  BENCH_READY_ROWS=1 prints every service's row too ("label kind at
# lag_ms probes plain sched_ms pass_ms by", pass = when the check first
# passed, from the truth).  Run it under nice on a shared machine.  Figures, not
# a test (make bench).
set -eu
at=${BENCH_READY_AT:-0.1 0.3 0.6 1 1.5 2.5 4 7 12 20 30 45 60}
kinds=${BENCH_READY_KINDS:-port early none files listen log exec silent}
rounds=${BENCH_READY_ROUNDS:-2}
batch=${BENCH_READY_BATCH:-8}
for k in $kinds; do
  case $k in port|early|none|files|listen|log|exec|silent) ;;
    *) echo "ready-lag.sh: unknown kind $k" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-readylag.XXXXXX")
ns=itmrl-$$
cur=
evpid=
trap '[ -z "$evpid" ] || kill "$evpid" 2>/dev/null || true
      [ -z "$cur" ] || "$cur" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
bb=itm-fixture/busybox:latest

# The scripts, as sh sees them (esc makes them compose strings).
# D from PID 1's environment, with builtins only (the check must not fork:
# a probe's own processes are the process table's too)
getd='while IFS= read -r -d "" v; do case $v in D=*) D=${v#D=} ;; esac; done </proc/1/environ'
check="$getd; n=\${EPOCHREALTIME/./}; [ -n \"\$D\" ] && [ \"\$n\" -ge \"\$D\" ] && { [ -e /tmp/first ] || echo \$n >/tmp/first; }"
# the service's start: D, then itself again with D in its environment
pre='export D=$((${EPOCHREALTIME/./} + $1)); exec busybox sh -c "$2"'
# fd 3: the read end of its own stderr pipe (nothing writes there)
fd3='exec 3<>/proc/self/fd/2'
# the time left until D, as seconds with 6 decimals, in $s
left='r=$((D - ${EPOCHREALTIME/./})); [ $r -gt 0 ] || r=0; f=$((r % 1000000 + 1000000)); s=$((r / 1000000)).${f#1}'
# wait until D, no process, in turns of at most 0.5 s: the kernel lets a
# poll() timeout run late by 0.1% of it (timer slack: 60 ms for 60 s)
wait="$fd3; while $left; [ \$r -gt 0 ]; do [ \$r -le 500000 ] || s=0.5; read -t \$s x <&3; done"
forever='while read x <&3; do :; done'          # wait for ever, no process

esc () { sed 's/\\/\\\\/g; s/"/\\"/g; s/\$/$$/g'; }   # sh -> a compose "string"

svc () { # KIND AT: one service of the stack
  n=$1-$(echo "$2" | tr . _)
  ex=
  case $1 in
    port) body="$wait; exec 3<&-; exec busybox httpd -f -p 8080"; ex='expose: ["8080"]' ;;
    early) body="$fd3; busybox httpd -p 8080; $left; sleep \$s; $forever"; ex='expose: ["8080"]' ;;
    none) body="$fd3; $left; sleep \$s; $forever" ;;
    files) body="$wait; : >/tmp/up; $forever" ;;
    listen) body="$wait; exec 3<&-; exec busybox httpd -f -p 127.0.0.1:8080" ;;
    log) body="$wait; echo ready; $forever" ;;
    exec) body="$wait; exec 3<&-; exec sleep 2000000" ;;
    silent) body="$fd3; $forever" ;;
  esac
  us=$(awk -v a="$2" 'BEGIN { printf "%d", a * 1000000 + 0.5 }')
  printf '  %s:\n    image: %s\n' "$n" "$bb"
  printf '    command: ["/bin/busybox", "sh", "-c", "%s", "sh", "%s", "%s"]\n' \
    "$(printf '%s' "$pre" | esc)" "$us" "$(printf '%s' "$body" | esc)"
  [ -z "$ex" ] || printf '    %s\n' "$ex"
  printf '    healthcheck: {test: ["CMD-SHELL", "%s"], interval: 1h, timeout: 5s, retries: 3}\n' \
    "$(printf '%s' "$check" | esc)"
}

# the batches: "kind at" pairs sorted by time, $batch to a file
for x in $at; do for k in $kinds; do echo "$k $x"; done; done |
  awk -v b="$batch" -v d="$tmp" '{ f = sprintf("%s/batch-%03d", d, int((NR - 1) / b)); print > f }'

sod () { awk -F: '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }   # HH:MM:SS.fff -> s of day

one () { # ITM LABEL BATCH: one batch, rows "label kind at lag_ms probes plain sched_ms
  # pass_ms by" appended to $tmp/all
  itm=$1 lab=$2 bf=$3
  { echo "services:"; while read -r k x; do svc "$k" "$x"; done <"$bf"; } >"$tmp/s.yml"
  # the probes, as they come (the engine keeps only the last 256 events for --since)
  docker events --filter type=container --filter event=exec_create \
    --format '{{.Actor.Attributes.name}}' >"$tmp/ev" 2>/dev/null &
  evpid=$!
  sleep 0.5
  cur=$itm
  "$itm" -f "$tmp/s.yml" -p "$ns" up --report "$tmp/r.json" >"$tmp/up.out" 2>&1 || { cat "$tmp/up.out" >&2; return 1; }
  sleep 0.5
  kill "$evpid" 2>/dev/null || true
  wait "$evpid" 2>/dev/null || true
  evpid=
  while read -r k x; do
    n=$k-$(echo "$x" | tr . _)
    rep=$(grep -E "[0-9:.]+ $n ready" "$tmp/up.out" | awk '{print $1}' | sod)
    # D and the first pass, in microseconds since the epoch
    set -- $(docker exec "$ns-$n-1" sh -c "$getd; echo \$D; cat /tmp/first 2>/dev/null || echo 0")
    truth=$(echo "$1" | awk '{ printf "%.6f", ($1 / 1e6) % 86400 }')
    pass=$(echo "$1 $2" | awk '{ printf "%.1f", ($2 - $1) / 1e3 }')
    case $pass in -*) echo "ready-lag.sh: $n: the check passed ${pass#-} ms before the truth" >&2 ;; esac
    start=$(docker inspect -f '{{.State.StartedAt}}' "$ns-$n-1" | sed 's/.*T//; s/Z$//' | sod)
    probes=$(grep -c "^$ns-$n-1\$" "$tmp/ev" || true)
    set -- $(jq -r --arg n "$n" '.services[] | select(.name == $n) | "\(.probe_response_s // 0) \(.ready_by // "-")"' "$tmp/r.json")
    echo "$lab $k $x $rep $truth $start $probes ${1:-0} $pass ${2:--}" |
      awk '{ t = $5 - $6; if (t < -43200) t += 86400; c = 1
             for (k = 0; ; k++) { p = k <= 5 ? 0.05 * (2 ^ k - 1) : 1.55 + (k - 5); if (p >= t) break; c++ }
             printf "%s %s %s %.0f %d %d %.0f %s %s\n", $1, $2, $3, ($4 - $5) * 1000, $7, c, ($4 - $5 - $8 > 0 ? $4 - $5 - $8 : 0) * 1000, $9, $10 }' >>"$tmp/all"
  done <"$bf"
  "$itm" down -p "$ns" -q >/dev/null 2>&1 || true
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
    srt(s, cnt); srt(d, cnt); srt(a, cnt)
    b = ""; for (c in by) b = b (b == "" ? "" : ",") c ":" by[c]
    printf "%-4s %-7s n %3d  lag p50 %5.0f p95 %5.0f max %5.0f ms  sched p50 %5.0f p95 %5.0f ms  after pass p50 %4.0f p95 %4.0f ms  probes %4d plain %4d (%.2fx)  by %s\n",
      lab, kind, cnt, q(s, cnt, 0.5), q(s, cnt, 0.95), s[cnt], q(d, cnt, 0.5), q(d, cnt, 0.95),
      q(a, cnt, 0.5), q(a, cnt, 0.95), pr, pl, pl ? pr / pl : 0, b
    cnt = 0; pr = 0; pl = 0; delete s; delete d; delete a; delete by }
  $1 != lab || $2 != kind { flush(); lab = $1; kind = $2 }
  { s[++cnt] = $4; d[cnt] = $7; a[cnt] = $4 - $8; pr += $5; pl += $6; by[$9]++ }
  END { flush() }'
