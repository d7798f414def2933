#!/bin/sh
# reap.sh - up, run and ps-like commands remove, in passing, namespaces
# whose owner died with its watchdog (SIGKILL to both), and one whose down
# was killed midway; a namespace a successful up released stays.  The cost
# for ps when there is nothing to reap is printed (not asserted).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq setsid
need_fixtures busybox
bb=itm-fixture/busybox:latest
sd=$ITM_ENV_STATE_DIR
cat >"$tmp/slow.yml" <<EOF2
services:
  db:
    image: $bb
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      start_period: 600s
volumes:
  data:
EOF2
cat >"$tmp/ok.yml" <<EOF2
services:
  app:
    image: $bb
    command: ["sleep", "3600"]
EOF2
labelled () {
  _n=0
  for _q in "/containers/json?all=1&filters=$(ns_filter "$1")" "/networks?filters=$(ns_filter "$1")"; do
    _n=$((_n + $(engine_get "$_q" | jq length)))
  done
  echo $((_n + $(engine_get "/volumes?filters=$(ns_filter "$1")" | jq '.Volumes // [] | length')))
}
watchdog_of () {
  for _p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$_p/cmdline" | grep -q -- "--watchdog $1 "; then
      echo "${_p#/proc/}"
    fi
  done
}
# kill9 NS: up of NS in its own process group, killed with its watchdog
# once its container exists
kill9 () {
  setsid "$ITM_ENV" -f "$tmp/slow.yml" -p "$1" up --timeout 120 >"$tmp/$1.out" 2>&1 &
  _pid=$!
  wait_for 60 sh -c "curl -s --unix-socket '$ITM_SOCK' 'http://e/containers/json?all=1&filters=$(ns_filter "$1")' | jq -e 'length == 1'" || true
  _wd=$(watchdog_of "$1")
  /bin/kill -s KILL -- "-$_pid" 2>/dev/null || true
  [ -z "$_wd" ] || kill -KILL $_wd 2>/dev/null || true
  set +e; wait "$_pid"; set -e
  diag "$1: up $_pid and watchdog ${_wd:-none} killed; $(labelled "$1") labelled"
}
other=$ITM_NS
at_exit "'$ITM_ENV' down -p '$other' >/dev/null 2>&1"

# 1. killed with its watchdog; ps on another namespace reaps it
n1=$ITM_NS-k1; at_exit "'$ITM_ENV' down -p '$n1' >/dev/null 2>&1"
kill9 "$n1"
ok "$n1 is left by the kill" test "$(labelled "$n1")" != 0
run "$ITM_ENV" ps -p "$other"
is "$rc" 0 "ps of another namespace"
like "$err" "removed namespace $n1 .* in passing: owner process [0-9]+ on .* is gone" "says what it reaped and why"
is "$(labelled "$n1")" 0 "$n1 is gone"
ok "and its state directory" test ! -e "$sd/$n1"

# 2. the same, reaped by the next up of another namespace
n2=$ITM_NS-k2; at_exit "'$ITM_ENV' down -p '$n2' >/dev/null 2>&1"
kill9 "$n2"
run "$ITM_ENV" -f "$tmp/ok.yml" -p "$other" up
is "$rc" 0 "up of another namespace"
like "$err" "removed namespace $n2 " "up reaped it"
is "$(labelled "$n2")" 0 "$n2 is gone"

# 3. a released namespace (its up succeeded and exited) stays
run "$ITM_ENV" -p "$other" ps
like "$out" "$other-app-1" "the namespace up released is still there after a ps"
n=20; t0=$(date +%s%N)
for i in $(seq $n); do "$ITM_ENV" -p "$other" ps >/dev/null 2>&1; done
t1=$(date +%s%N)
for i in $(seq $n); do ITM_ENV_NO_REAP=1 "$ITM_ENV" -p "$other" ps >/dev/null 2>&1; done
t2=$(date +%s%N)
diag "ps, $n runs: $(( (t1 - t0) / n / 1000 )) us each with reaping, $(( (t2 - t1) / n / 1000 )) us without"

# 4. a down killed midway: the next command's reaping finishes it
n4=$ITM_NS-k4; at_exit "'$ITM_ENV' down -p '$n4' >/dev/null 2>&1"
cat >"$tmp/four.yml" <<EOF2
services:
  a: {image: $bb, command: ["sleep", "3600"]}
  b: {image: $bb, command: ["sleep", "3600"]}
  c: {image: $bb, command: ["sleep", "3600"]}
EOF2
run "$ITM_ENV" -f "$tmp/four.yml" -p "$n4" up
is "$rc" 0 "up $n4"
"$ITM_ENV" -p "$n4" down >"$tmp/down.out" 2>&1 &
d=$!
wait_for 30 sh -c "test \$(curl -s --unix-socket '$ITM_SOCK' 'http://e/containers/json?all=1&filters=$(ns_filter "$n4")' | jq length) -lt 3" || true
kill -KILL "$d" 2>/dev/null || true
set +e; wait "$d"; set -e
diag "down killed; $(labelled "$n4") labelled"
run "$ITM_ENV" ps -p "$other"
is "$rc" 0 "ps of another namespace"
is "$(labelled "$n4")" 0 "whatever the killed down left of $n4 is gone"
ok "and its state directory" test ! -e "$sd/$n4"

run "$ITM_ENV" -p "$other" down
is "$rc" 0 "down"
done_testing
