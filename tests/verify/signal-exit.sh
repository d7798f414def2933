#!/bin/sh
# signal-exit.sh - the exit status when a signal stops up, wait, run or
# down agrees with the shell's convention (128 + the signal): SIGINT 130,
# SIGTERM 143, whichever command it stops (itm-env(1), EXIT STATUS).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
# a namespace per case: an interrupted up's watchdog may still be at work
# on its namespace when the next case starts
for _n in u1 u2 r1 r2 r3 w d; do
  at_exit "'$ITM_ENV' down -p '$ITM_NS-$_n' >/dev/null 2>&1"
done
ITM_TEST_TIMEOUT=240

left () { engine_get "/containers/json?all=1&filters=$(ns_filter "$ITM_NS-$1")" | jq -r '.[].Names[0] | ltrimstr("/")';
          engine_get "/networks?filters=$(ns_filter "$ITM_NS-$1")" | jq -r '.[].Name'; }
bb=itm-fixture/busybox:latest
# web's gate never passes within the test: up, wait and run's up wait on it
cat >"$tmp/never.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD-SHELL", "exit 1"]
      interval: 1h
    x-itm:
      timeout: 100s
EOF2
cd "$tmp"

# COMMAND... in the background until its output says it waits; then
# signal SIG; its exit status in $rc.
stop_with () { # SIG PATTERN COMMAND...
  _sig=$1 _pat=$2
  shift 2
  # not under timeout(1): it would pass the signal on twice (to the
  # command and to its process group), and a second SIGINT stops up at once
  "$@" >"$tmp/bg.out" 2>&1 &
  _pid=$!
  if ! wait_for 60 grep -q "$_pat" "$tmp/bg.out"; then
    diag "no '$_pat' in:" "$(cat "$tmp/bg.out")"
  fi
  kill -"$_sig" "$_pid"
  set +e; wait "$_pid"; rc=$?; set -e
}

stop_with TERM 'web waiting' "$ITM_ENV" -f never.yml -p "$ITM_NS-u1" up
is "$rc" 143 "SIGTERM during up: 143"
like "$(cat "$tmp/bg.out")" 'removed what this up created' "up removed what it created"
is "$(left u1)" "" "nothing left after up"

stop_with INT 'web waiting' "$ITM_ENV" -f never.yml -p "$ITM_NS-u2" up
is "$rc" 130 "SIGINT during up: 130"
is "$(left u2)" "" "nothing left after up"

stop_with TERM 'web waiting' "$ITM_ENV" -f never.yml -p "$ITM_NS-r1" run -- true
is "$rc" 143 "SIGTERM during run's up: 143"
is "$(left r1)" "" "nothing left after run"

stop_with INT 'web waiting' "$ITM_ENV" -f never.yml -p "$ITM_NS-r2" run -- true
is "$rc" 130 "SIGINT during run's up: 130"
is "$(left r2)" "" "nothing left after run"

# during run's command: the command is stopped by the signal run forwards
cat >"$tmp/quick.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sh", "-c", "trap '' TERM; sleep 3600 & wait"]
EOF2
stop_with TERM 'command-started' "$ITM_ENV" -f quick.yml -p "$ITM_NS-r3" run -- sh -c 'echo command-started; exec sleep 300'
is "$rc" 143 "SIGTERM during run's command: 143"
is "$(left r3)" "" "nothing left after run"

# wait on a namespace that is up but not ready
run "$ITM_ENV" -f never.yml -p "$ITM_NS-w" up --timeout 2s --keep-on-failure
is "$rc" 7 "up --keep-on-failure with a gate that fails: 7, kept"
stop_with TERM 'web waiting' "$ITM_ENV" -f never.yml -p "$ITM_NS-w" wait --timeout 100s
is "$rc" 143 "SIGTERM during wait: 143"
stop_with INT 'web waiting' "$ITM_ENV" -f never.yml -p "$ITM_NS-w" wait --timeout 100s
is "$rc" 130 "SIGINT during wait: 130"
run "$ITM_ENV" -p "$ITM_NS-w" down
is "$rc.$(left w)" "0." "down after wait: nothing left"

# down waiting on a container's stop grace (its shell ignores SIGTERM),
# once the engine has sent it SIGTERM: the signal ends down like the others
run "$ITM_ENV" -f quick.yml -p "$ITM_NS-d" up
is "$rc" 0 "up"
t0=$(date +%s)
stop_sent () {
  engine_get "/events?since=$t0&until=$(($(date +%s) + 1))&filters=$(printf '{"label":["io.itm-env.namespace=%s"],"event":["kill"]}' "$ITM_NS-d" | jq -sRr @uri)" \
    | grep -q '"kill"'
}
"$ITM_ENV" -p "$ITM_NS-d" down -k -t 100s >"$tmp/bg.out" 2>&1 &
pid=$!
wait_for 60 stop_sent || diag "the engine sent no SIGTERM to the container"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
is "$rc" 143 "SIGTERM during down: 143"
run "$ITM_ENV" -p "$ITM_NS-d" down
is "$rc" 0 "a second down removes the rest"
is "$(left d)" "" "nothing left"
done_testing
