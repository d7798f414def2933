#!/bin/sh
# up-concurrent.sh - two `up` on one namespace at the same time (parallel
# test workers sharing an environment): the second waits for the first
# (saying so, with its pid), then finds everything up and ready; both exit
# 0, one container per service, no name conflict.  SIGINT ends the wait.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<EOF2
services:
  slow:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "sleep 2; touch /tmp/ok; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 1s
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    depends_on:
      slow:
        condition: service_healthy
EOF2
"$ITM_ENV" -f "$tmp/stack.yml" up >"$tmp/a.out" 2>&1 &
a=$!
wait_for 20 grep -q 'slow' "$tmp/a.out" || true
"$ITM_ENV" -f "$tmp/stack.yml" up >"$tmp/b.out" 2>&1 &
b=$!
set +e; wait "$a"; ra=$?; wait "$b"; rb=$?; set -e
diag "first:" "$(cat "$tmp/a.out")" "second:" "$(cat "$tmp/b.out")"
is "$ra" 0 "the first up succeeds"
is "$rb" 0 "the second up succeeds"
like "$(cat "$tmp/b.out")" "another itm-env up \\(pid $a\\) is at work on it: waiting" \
  "the second says it waits for the first, naming its pid"
unlike "$(cat "$tmp/a.out" "$tmp/b.out")" "Conflict|already in use" "no name conflict"
n=$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)
is "$n" 2 "one container per service"
is "$(engine_get "/containers/$ITM_NS-slow-1/json" | jq -r .State.Health.Status)" healthy \
  "the gate held for both: slow is healthy"

# a waiting up ends on SIGINT
exec 8>"$ITM_ENV_STATE_DIR/$ITM_NS/up.lock"
flock 8
"$ITM_ENV" -f "$tmp/stack.yml" up >"$tmp/c.out" 2>&1 &
c=$!
wait_for 20 grep -q 'waiting for it' "$tmp/c.out" || true
kill -INT "$c"
set +e; wait "$c"; rc=$?; set -e
exec 8>&-
is "$rc" 130 "SIGINT while waiting for the lock: exit 130"
like "$(cat "$tmp/c.out")" "interrupted while waiting for the other up on namespace $ITM_NS" "and says so"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
