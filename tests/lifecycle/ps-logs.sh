#!/bin/sh
# Compose's options of ps (-q, -a, --services, --status, --filter) and of
# logs (--since, --until, --no-log-prefix).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo one; echo two; exec sleep 600"]
  job:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo done"]
YAML
run "$ITM_ENV" up -q
is "$rc" 0 "up"
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"
ok "job exits" wait_for 30 rs_status job-1 exited
app_id=$(rs_inspect app-1 .Id)
job_id=$(rs_inspect job-1 .Id)

run "$ITM_ENV" ps -q
is "$rc.$out" "0.$app_id
$job_id" "ps -q: the container ids"
run "$ITM_ENV" ps --services
is "$out" "app
job" "ps --services"
run "$ITM_ENV" ps --status running -q
is "$out" "$app_id" "ps --status running"
run "$ITM_ENV" ps --filter status=exited --services
is "$out" "job" "ps --filter status=exited --services"
run "$ITM_ENV" ps --status running --status exited --json
jq_ok "--status twice: either" 'map(.service) == ["app", "job"]'
run "$ITM_ENV" ps --status paused --json
is "$out" "[]" "--status paused: none"
run "$ITM_ENV" ps -a
is "$(lines "$out")" 3 "ps -a: header and both (ps lists stopped ones anyway)"
run "$ITM_ENV" ps --status bogus
is "$rc" 2 "--status bogus: usage"
run "$ITM_ENV" ps --filter name=x
is "$rc" 2 "--filter other than status=: usage"

ok "app printed" wait_for 30 sh -c "'$ITM_ENV' logs app | grep -q two"
run "$ITM_ENV" logs --no-log-prefix app
is "$out" "one
two" "logs --no-log-prefix"
run "$ITM_ENV" logs --since 1h app
is "$out" "app | one
app | two" "logs --since 1h: every line"
run "$ITM_ENV" logs --since 0 --until 1 app
is "$rc.$out" "0." "logs --until in 1970: no line"
run "$ITM_ENV" logs --since "$(($(date +%s) + 3600))"
is "$rc.$out" "0." "logs --since an hour ahead: no line"
run "$ITM_ENV" logs --until 2000-01-01T00:00:00Z job
is "$rc.$out" "0." "logs --until an RFC 3339 time"
run "$ITM_ENV" logs --since "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" job
is "$out" "job | done" "logs --since an RFC 3339 time"
run "$ITM_ENV" logs --since yesterday
is "$rc" 2 "logs --since yesterday: usage"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
