#!/bin/sh
# ps-ready.sh - ps shows the readiness itm-env established beside the
# engine's health: right after up, a service whose healthcheck interval is
# long (the engine's first probe an interval away) is READY "ready N.Ns"
# while HEALTH is still "starting"; --json has both (.health, .ready); the
# record (ready.json in the namespace's state directory, 0600) is keyed by
# container id (a recreated container inherits nothing), kept by an up
# that keeps the container, "failed" after a failed gate kept with
# --keep-on-failure, and gone with down.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_engine
need_cmd jq docker
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
bb=itm-fixture/busybox:latest
cd "$tmp"
cat >stack.yml <<EOF2
services:
  api:
    image: $bb
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1h
  worker:
    image: $bb
    command: ["sleep", "3600"]
EOF2
rec=$ITM_ENV_STATE_DIR/$ITM_NS/ready.json
# API 1.44+ (the second engine): up gives the engine StartInterval and waits
# for its own healthy (tests/engine2/start-interval.sh): HEALTH says healthy.
h0=starting
engine_api_at_least 1.44 && h0=healthy
row () { printf '%s\n' "$out" | grep "^$1 "; }
cid () { engine_get "/containers/$ITM_NS-$1-1/json" | jq -r .Id; }

run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up"
like "$err" 'api ready' "up says api is ready"
run "$ITM_ENV" -p "$ITM_NS" ps
is "$rc" 0 "ps right after up"
like "$(printf '%s\n' "$out" | head -1)" '^SERVICE +CONTAINER +STATE +HEALTH +READY +PORTS +EXIT$' \
  "header: a READY column after HEALTH"
like "$(row api)" "^api +$ITM_NS-api-1 +running +$h0 +ready [0-9]+\\.[0-9]s +- +-$" \
  "api: the engine says $h0, itm-env's gate said ready"
like "$(row worker)" "^worker +$ITM_NS-worker-1 +running +- +ready [0-9]+\\.[0-9]s +- +-$" \
  "worker (no healthcheck): ready"
run "$ITM_ENV" -p "$ITM_NS" ps --json
is "$rc" 0 "ps --json"
jq_ok "--json api: health $h0, ready {state ready, gate healthcheck, time, at}" \
  '.[] | select(.service == "api") | .health == "'$h0'" and .ready.state == "ready" and .ready.gate == "healthcheck" and (.ready.time_to_ready_s | type == "number" and . >= 0) and (.ready.at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and .ready.detail == null'
jq_ok "--json worker: gate running" '.[] | select(.service == "worker") | .health == null and .ready.gate == "running"'

ok "the record is in the state directory" test -f "$rec"
is "$(stat -c %a "$rec")" 600 "... mode 0600"
api1=$(cid api)
is "$(jq -r --arg id "$api1" '.containers[$id].service' "$rec")" api "... keyed by container id"

# an up that keeps the containers keeps what their start established
run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up again (containers kept)"
run "$ITM_ENV" -p "$ITM_NS" ps
like "$(row api)" "$h0 +ready [0-9]+\\.[0-9]s " "api: still ready with its time"
run "$ITM_ENV" -p "$ITM_NS" wait
is "$rc" 0 "wait"
run "$ITM_ENV" -p "$ITM_NS" ps
like "$(row api)" "$h0 +ready [0-9]+\\.[0-9]s " "after wait: still ready with its time"

# a container stopped since, or started again by someone else, no longer
# has what the gate established
run docker stop -t 1 "$ITM_NS-worker-1"
run "$ITM_ENV" -p "$ITM_NS" ps
like "$(row worker)" "^worker +$ITM_NS-worker-1 +exited +- +- " "worker stopped with docker stop: READY -"
sleep 1.1   # the record's time has whole seconds
run docker start "$ITM_NS-worker-1"
run "$ITM_ENV" -p "$ITM_NS" ps
like "$(row worker)" "^worker +$ITM_NS-worker-1 +running +- +- " "... started again by docker, not gated: READY -"
run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up again"
run "$ITM_ENV" -p "$ITM_NS" ps
like "$(row worker)" "^worker +$ITM_NS-worker-1 +running +- +ready " "... until a gate establishes it again"

# a recreated container inherits nothing: the record is the new one's
run "$ITM_ENV" -f stack.yml up --force-recreate --timeout 60
is "$rc" 0 "up --force-recreate"
api2=$(cid api)
ok "a new container" test "$api2" != "$api1"
is "$(jq -r --arg id "$api1" '.containers[$id]' "$rec")" null "the old container's record is gone"
is "$(jq -r --arg id "$api2" '.containers[$id].state' "$rec")" ready "the new one's is there"

run "$ITM_ENV" -f stack.yml down
is "$rc" 0 "down"
ok "down removes the record with the state directory" test ! -e "$rec"

# a failed gate, kept with --keep-on-failure
cat >bad.yml <<EOF2
services:
  bad:
    image: $bb
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1h
    x-itm:
      timeout: 2s
EOF2
run "$ITM_ENV" -f bad.yml -p "$ITM_NS" up --keep-on-failure --timeout 60
is "$rc" 7 "up with a gate that fails: exit 7"
run "$ITM_ENV" -p "$ITM_NS" ps
like "$(row bad)" "^bad +$ITM_NS-bad-1 +running +starting +failed +- +-$" "ps: READY failed"
run "$ITM_ENV" -p "$ITM_NS" ps --json
jq_ok "--json: ready.state failed with why" '.[0].ready | .state == "failed" and .time_to_ready_s == null and (.detail | length > 0)'
run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down"
ok "no record left" test ! -e "$rec"
done_testing
