#!/bin/sh
# A fault drill as a test writes one: kill a dependency mid-test, start it
# again and wait until it is ready (start gates as up does); a restart whose
# healthcheck no longer passes fails the gate (exit 7) within
# --wait-timeout.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  db:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "rm -f /ready; sleep 1; touch /ready; exec sleep 600"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /ready && test ! -f /broken"]
      interval: 1s
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
YAML
run "$ITM_ENV" up -q
is "$rc" 0 "up"
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"

run "$ITM_ENV" kill db
is "$rc" 0 "kill the dependency"
is "$(rs_inspect db-1 .State.Status)" exited "db is down"
run "$ITM_ENV" start db
is "$rc" 0 "start db: back and ready"
like "$err" "db +ready|db.*ready" "start: db's ready event"
# (itm-env's own probe: the engine's HEALTH may still read "starting")
run "$ITM_ENV" exec db sh -c 'test -f /ready && test ! -f /broken'
is "$rc" 0 "once start returns, db's healthcheck passes"
is "$(rs_inspect app-1 .State.Status)" running "app kept running"

# a restart: the old run's die (replayed by the gate's event stream, which
# starts a second back) is not taken for the new run's, while its
# healthcheck still fails for a second
run "$ITM_ENV" restart -t 0 db
is "$rc" 0 "restart -t 0 db: ready again"
run "$ITM_ENV" exec db test -f /ready
is "$rc" 0 "once restart returns, db's healthcheck passes"

run "$ITM_ENV" exec db touch /broken
is "$rc" 0 "break db's healthcheck"
run "$ITM_ENV" restart -t 0 --wait-timeout 3s db
is "$rc" 7 "restart: the gate fails (exit 7)"
like "$err" "db" "names the service"
like "$err" "within --wait-timeout 3s" "names the option restart was given (it has no --timeout for the gates)"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
