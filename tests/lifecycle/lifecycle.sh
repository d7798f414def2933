#!/bin/sh
# stop, start, restart, pause, unpause, kill and rm on a namespace made by
# up: Compose's meaning (what each acts on), dependency order (stop:
# dependents first; start: dependencies first, each gated), --json events,
# SERVICE selection, the exit codes of an unknown service or namespace.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  db:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
YAML
run "$ITM_ENV" up -q
is "$rc" 0 "up"
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"
st () { rs_inspect "$1-1" .State.Status; }

run "$ITM_ENV" stop --json -t 1
is "$rc" 0 "stop"
is "$(st db) $(st web)" "exited exited" "stop: both exited"
is "$(printf '%s\n' "$out" | jq -r 'select(.event == "stopped" and .service != null) | .service' | tr '\n' ' ')" \
  "web db " "stop: dependents first (web, then db), an event each"
run "$ITM_ENV" stop
is "$rc.$out" "0." "stop again: nothing to do, exit 0"

run "$ITM_ENV" start --json
is "$rc" 0 "start"
is "$(st db) $(st web)" "running running" "start: both running"
is "$(printf '%s\n' "$out" | jq -r 'select(.service != null and (.event == "started" or .event == "ready")) | .service + ":" + .event' | tr '\n' ' ')" \
  "db:started db:ready web:started web:ready " "start: db started and ready before web starts"
ok "start: db becomes healthy (the engine's own probe)" wait_for 30 rs_healthy db-1

old=$(rs_inspect db-1 .State.StartedAt)
run "$ITM_ENV" restart -t 0 --json db
is "$rc" 0 "restart db"
isnt_same () { [ "$1" != "$2" ]; }
ok "restart: db started again" isnt_same "$old" "$(rs_inspect db-1 .State.StartedAt)"
like "$out" '"service":"db","event":"ready"' "restart: db gated again"
unlike "$out" '"service":"web"' "restart db: web untouched"

# right after a restart the gate's event stream replays the last second:
# the die of the run before must not fail the new one (three times: the
# replayed die is there nearly every time with -t 0)
for i in 1 2 3; do
  run "$ITM_ENV" restart -q -t 0 db
  is "$rc" 0 "restart -t 0 db, round $i: the old run's die is not this one's"
done

run "$ITM_ENV" pause web
is "$rc.$(st web).$(st db)" "0.paused.running" "pause web: only web"
run "$ITM_ENV" ps --json
jq_ok "ps shows paused" '.[] | select(.service == "web") | .state == "paused"'
run "$ITM_ENV" unpause
is "$rc.$(st web)" "0.running" "unpause"

run "$ITM_ENV" kill -s SIGKILL web
is "$rc.$(st web)" "0.exited" "kill -s SIGKILL web"
is "$(rs_inspect web-1 .State.ExitCode)" 137 "killed by SIGKILL: 137"
run "$ITM_ENV" kill -s NOSUCHSIG db
is "$rc" 5 "kill with an unknown signal: the engine refuses (5)"
is "$(st db)" running "db still runs"

run "$ITM_ENV" rm
is "$rc" 0 "rm: removes the stopped"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r 'map(.Labels["io.itm-env.service"]) | sort | join(" ")')" \
  "db" "rm: web (stopped) went, db (running) stays"
run "$ITM_ENV" rm -f -s -v db --json
is "$rc" 0 "rm -f -s -v db"
like "$out" '"service":"db","event":"removed"' "rm -s: a removed event"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "rm -s: db stopped and removed"

run "$ITM_ENV" start
is "$rc" 10 "start on a namespace without containers: 10"
like "$err" "has no containers" "says so"
run "$ITM_ENV" up -q
is "$rc" 0 "up again"
for c in stop start restart pause unpause kill rm; do
  run "$ITM_ENV" "$c" nosuch
  is "$rc" 10 "$c: unknown service: 10"
  like "$err" "no service 'nosuch' in namespace '$ITM_NS'" "$c: names it"
done
run "$ITM_ENV" kill -s
is "$rc" 2 "kill -s without a signal: usage"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
