#!/bin/sh
# crash.sh - crash safety: itm-env killed with SIGKILL during up and during
# run, at several moments; its watchdog removes the namespace without human
# action.  The window (kill to nothing labelled) is measured and printed;
# the promise is 30 s.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
bb=itm-fixture/busybox:latest
# db becomes ready about 6 s after it starts, so that every kill below lands
# while up still waits (with readiness seen within tens of ms, and on an
# engine whose start interval makes it prompt, a 2 s service was ready
# before the 3 s kill)
cat >"$tmp/stack.yml" <<EOF2
services:
  db:
    image: $bb
    command: ["sh", "-c", "sleep 6; touch /tmp/ok; exec sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/ok"]
      interval: 1s
      start_period: 30s
  app:
    image: $bb
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
volumes:
  data:
EOF2
cd "$tmp"
labelled () {
  _n=0
  for _q in "/containers/json?all=1&filters=$(ns_filter "$1")" "/networks?filters=$(ns_filter "$1")"; do
    _n=$((_n + $(engine_get "$_q" | jq length)))
  done
  echo $((_n + $(engine_get "/volumes?filters=$(ns_filter "$1")" | jq '.Volumes // [] | length')))
}
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
# gone NS WHAT: after a SIGKILL, wait (at most 30 s) until nothing carries
# the label; a passing line with the measured window
gone () {
  _t0=$(now_ms)
  while [ "$(labelled "$1")" != 0 ]; do
    if [ $(( $(now_ms) - _t0 )) -gt 30000 ]; then
      fail "$2: nothing labelled within 30 s"; diag "left: $(labelled "$1")"; return 0
    fi
    sleep 0.2
  done
  _w=$(( $(now_ms) - _t0 ))
  pass "$2: nothing labelled $((_w / 1000)).$(printf %03d $((_w % 1000))) s after the kill"
  diag "window: $_w ms ($2)"
  sleep 2
  is "$(labelled "$1")" 0 "$2: still nothing 2 s later"
}
i=0
for d in 0.2 0.8 1.5 3; do
  i=$((i + 1))
  ns=$ITM_NS-u$i
  at_exit "'$ITM_ENV' down -p '$ns' >/dev/null 2>&1"
  "$ITM_ENV" -f stack.yml -p "$ns" up --timeout 60 >"$tmp/up$i.log" 2>&1 &
  pid=$!
  sleep "$d"
  kill -KILL "$pid" 2>/dev/null || true
  set +e; wait "$pid"; st=$?; set -e
  diag "up killed $d s in (status $st), $(labelled "$ns") resources labelled at the kill"
  gone "$ns" "SIGKILL $d s into up"
done

# run: during its up, and while the command runs (the command is sent
# SIGTERM by the watchdog)
i=0
for d in 0.8 cmd; do
  i=$((i + 1))
  ns=$ITM_NS-r$i
  at_exit "'$ITM_ENV' down -p '$ns' >/dev/null 2>&1"
  rm -f "$tmp/cmdpid"
  "$ITM_ENV" -f stack.yml -p "$ns" run -- sh -c 'echo $$ >"$0.tmp"; mv "$0.tmp" "$0"; exec sleep 300' \
    "$tmp/cmdpid" >"$tmp/run$i.log" 2>&1 &
  pid=$!
  if [ "$d" = cmd ]; then
    wait_for 60 test -s "$tmp/cmdpid" || true
    cmdpid=$(cat "$tmp/cmdpid" 2>/dev/null || echo 0)
    # never `kill 0`: that is this test's whole process group (make too)
    [ "$cmdpid" -gt 0 ] 2>/dev/null && at_exit "kill $cmdpid 2>/dev/null"
  else
    sleep "$d"
  fi
  kill -KILL "$pid" 2>/dev/null || true
  set +e; wait "$pid"; set -e
  what=$( [ "$d" = cmd ] && echo "while the command runs" || echo "$d s into its up" )
  gone "$ns" "run SIGKILLed $what"
  if [ "$d" = cmd ]; then
    if [ "$cmdpid" -gt 0 ] && wait_for 10 sh -c "! kill -0 $cmdpid"; then
      pass "the orphaned command was stopped (SIGTERM from the watchdog)"
    else fail "the orphaned command was stopped"; fi
  fi
done
done_testing
