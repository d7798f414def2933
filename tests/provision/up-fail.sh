#!/bin/sh
# up-fail.sh - failed gates end up with their own exit code, name the
# service and the reason, show its logs and probe outputs, and leave
# nothing of the namespace: a healthcheck that never passes (timeout), a
# service that exits 1 while awaited, a one-shot that exits 1 (its
# dependents never start), a host-port collision, a missing image (nothing
# created), SIGINT mid-up and during an image build; --keep-on-failure
# keeps it for down.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

left () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r '.[].Names[0] | ltrimstr("/")';
          engine_get "/networks?filters=$(ns_filter)" | jq -r '.[].Name'; }
bb=itm-fixture/busybox:latest

cat >"$tmp/never.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD-SHELL", "echo probe-says-no; exit 1"]
      interval: 1h
    x-itm:
      timeout: 2s
  after:
    image: $bb
    command: ["sleep", "3600"]
    depends_on:
      web: {condition: service_healthy}
EOF2
run "$ITM_ENV" -f "$tmp/never.yml" up
is "$rc" 7 "a healthcheck that never passes: readiness exit code"
like "$err" 'web.*not healthy within its timeout' "names the service and the timeout"
like "$err" 'exit 1: probe-says-no' "shows the last probe outputs"
unlike "$err" 'after started' "its dependent never started"
is "$(left)" "" "nothing left"

run "$ITM_ENV" -f "$tmp/never.yml" up --timeout 1.5s
is "$rc" 7 "--timeout: readiness exit code"
like "$err" 'not ready within --timeout' "says the overall timeout passed"
is "$(left)" "" "nothing left"

cat >"$tmp/dies.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sh", "-c", "echo web-going-down; sleep 0.5; exit 1"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1h
EOF2
run "$ITM_ENV" -f "$tmp/dies.yml" up
is "$rc" 7 "a service that exits 1 while awaited fails its gate"
like "$err" 'web.*exited with code 1' "names the service and the exit code"
like "$err" 'web \| web-going-down' "shows its last log lines"
is "$(left)" "" "nothing left"

cat >"$tmp/oneshot.yml" <<EOF2
services:
  job:
    image: $bb
    command: ["sh", "-c", "echo job-failing; exit 3"]
  app:
    image: $bb
    command: ["sleep", "3600"]
    depends_on:
      job: {condition: service_completed_successfully}
EOF2
run "$ITM_ENV" -f "$tmp/oneshot.yml" up --json
is "$rc" 7 "a one-shot that exits 3: readiness exit code"
like "$err" 'job.*exited with code 3' "names the one-shot and its exit code"
is "$(printf '%s\n' "$out" | jq -r 'select(.service == "app" and .event == "started") | .service')" "" \
  "its dependent never started"
is "$(left)" "" "nothing left"

run "$ITM_ENV" -f "$tmp/oneshot.yml" up --keep-on-failure
is "$rc" 7 "--keep-on-failure: still a failure"
is "$(left | sort | tr '\n' ' ')" "$ITM_NS-app-1 $ITM_NS-job-1 ${ITM_NS}_default " "--keep-on-failure keeps what was created"
is "$(engine_get "/containers/$ITM_NS-app-1/json" | jq -r .State.Status)" created "the dependent was created, never started"
run "$ITM_ENV" down
is "$rc" 0 "down removes it"
is "$(left)" "" "nothing left"

port=$(free_port)
cat >"$tmp/ports.yml" <<EOF2
services:
  a:
    image: $bb
    command: ["sleep", "3600"]
    ports: ["127.0.0.1:$port:80"]
  b:
    image: $bb
    command: ["sleep", "3600"]
    ports: ["127.0.0.1:$port:80"]
EOF2
run "$ITM_ENV" -f "$tmp/ports.yml" up
is "$rc" 5 "a host-port collision: the engine's refusal"
like "$err" "$port.*already allocated" "says which port"
is "$(left)" "" "nothing left"

cat >"$tmp/noimage.yml" <<EOF2
services:
  ok:
    image: $bb
  gone:
    image: itm-fixture/no-such-image:1
EOF2
run "$ITM_ENV" -f "$tmp/noimage.yml" up
is "$rc" 6 "a missing image: image exit code"
like "$err" 'service gone: image itm-fixture/no-such-image:1 is not on the engine' "names service and image"
is "$(left)" "" "nothing was created"

# service_healthy on a service without a healthcheck can never be met:
# refused before anything is created, naming both services (as Compose).
cat >"$tmp/nohc.yml" <<EOF2
services:
  db:
    image: $bb
    command: ["sleep", "3600"]
  web:
    image: $bb
    command: ["sleep", "3600"]
    depends_on:
      db:
        condition: service_healthy
EOF2
run "$ITM_ENV" -f "$tmp/nohc.yml" up
is "$rc" 3 "service_healthy on a service without a healthcheck: exit 3 (stack)"
like "$err" "service web depends on db with condition service_healthy, but db has no healthcheck \(none in the stack or its image\)" \
  "names both services and why"
like "$err" "hint: give db a healthcheck, or depend on it with service_started" "says what to do"
is "$(left)" "" "nothing was created"

# SIGINT while waiting for a gate: what was created is removed.
sed 's/timeout: 2s/timeout: 100s/' "$tmp/never.yml" >"$tmp/slow.yml"
"$ITM_ENV" -f "$tmp/slow.yml" up >"$tmp/int.out" 2>&1 &
pid=$!
wait_for 30 grep -q 'web waiting' "$tmp/int.out" || true
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
is "$rc" 130 "SIGINT mid-up: interrupted exit code"
like "$(cat "$tmp/int.out")" 'removed what this up created' "says it removed what it created"
is "$(left)" "" "nothing left"

# A second SIGINT stops at once (rollback or not, depending on timing) and
# says what is left; down then removes whatever remains.
"$ITM_ENV" -f "$tmp/slow.yml" up >"$tmp/int2.out" 2>&1 &
pid=$!
wait_for 30 grep -q 'web waiting' "$tmp/int2.out" || true
kill -INT "$pid"; kill -INT "$pid" 2>/dev/null || true
set +e; wait "$pid"; rc=$?; set -e
is "$rc" 130 "two SIGINTs: interrupted exit code"
like "$(cat "$tmp/int2.out")" "interrupted again.*down -p $ITM_NS|removed what this up created" \
  "says what is left (or that it was removed)"
run "$ITM_ENV" down
is "$rc" 0 "down after it"
is "$(left)" "" "nothing left"

# SIGINT during an image build: the build stops (the engine cancels it when
# its client goes away), nothing is created, no build container stays.
mkdir -p "$tmp/slowbuild"
printf 'FROM %s\nRUN sleep 60 && echo %s-built\n' "$bb" "$ITM_NS" >"$tmp/slowbuild/Dockerfile"
cat >"$tmp/slowbuild.yml" <<EOF2
services:
  slow:
    build: ./slowbuild
EOF2
at_exit "engine_req DELETE '/images/$ITM_NS-slow?force=1' >/dev/null 2>&1"
"$ITM_ENV" -f "$tmp/slowbuild.yml" up >"$tmp/int3.out" 2>&1 &
pid=$!
wait_for 30 grep -qE 'Step 2/|RUN sleep' "$tmp/int3.out" || true
t0=$(date +%s%N)
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
t1=$(date +%s%N)
diag "SIGINT to exit during a build: $(( (t1 - t0) / 1000000 )) ms"
is "$rc" 130 "SIGINT during a build: interrupted exit code"
like "$(cat "$tmp/int3.out")" "building image $ITM_NS-slow: interrupted" "says the build was interrupted"
ok "it did not wait for the 60 s RUN step" test $(( (t1 - t0) / 1000000000 )) -lt 30
is "$(left)" "" "nothing of the namespace was created"
ok "no image $ITM_NS-slow" sh -c "! curl -sf --unix-socket '$ITM_SOCK' http://e/images/$ITM_NS-slow/json >/dev/null"
gone_build () {
  ! engine_get '/containers/json?all=1' | jq -r '.[].Command' | grep -q "$ITM_NS-built"
}
ok "the build's RUN container is gone" wait_for 15 gone_build
done_testing
