#!/bin/sh
# seed-fail.sh - a failing SQL file, a missing seed file and a step that
# exits non-zero each fail up with exit 8, name the step, show its output,
# and leave nothing; a data check that does not match shows expected and
# actual (exit 8); a malformed x-itm.seed is a stack error before anything
# is created.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox postgres

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
mkdir -p "$tmp/p"
printf 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nINSERT INTO nosuchtable VALUES (2);\nINSERT INTO t VALUES (3);\n' >"$tmp/p/bad.sql"
printf 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\n' >"$tmp/p/good.sql"
stack () { # SEED-STEPS-YAML [VERIFY-YAML]: a db with these seed steps, a dependent
  cat >"$tmp/p/stack.yml" <<YML
services:
  db:
    image: itm-fixture/postgres:15
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: app}
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U app -d app"]
      interval: 10s
    x-itm:
      seed:
$1
      verify:
${2:-        - sql: SELECT 1}
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    depends_on: {db: {condition: service_healthy}}
YML
}
left () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length; }
nets () { engine_get "/networks?filters=$(ns_filter)" | jq length; }

stack '        - sql: bad.sql'
run "$ITM_ENV" -f "$tmp/p/stack.yml" up --timeout 120
is "$rc" 8 "a failing SQL file fails up with exit 8"
like "$err" 'seeding db: step 1 \(sql bad.sql\) exited with code 3' "the error names the service and the step"
like "$err" 'relation "nosuchtable" does not exist' "... and shows psql's output"
is "$(left) $(nets)" "0 0" "nothing is left (containers, networks)"

stack '        - sql: good.sql
        - copy: [missing/*.csv]
          to: /seed'
run "$ITM_ENV" -f "$tmp/p/stack.yml" up --timeout 120
is "$rc" 8 "a missing seed file fails up with exit 8"
like "$err" 'step 2 \(copy missing/\*\.csv to /seed\).*no such file' "the error names the step and the missing file"
is "$(left) $(nets)" "0 0" "nothing is left"

stack '        - exec: "sh -c '"'"'echo partial work; echo broken >&2; exit 4'"'"'"'
run "$ITM_ENV" -f "$tmp/p/stack.yml" up --timeout 120
is "$rc" 8 "a step that exits non-zero fails up with exit 8"
like "$err" 'step 1 \(exec sh -c .*exited with code 4' "the error gives the exit code"
like "$err" 'partial work' "... and the step's stdout"
like "$err" 'broken' "... and its stderr"
is "$(left) $(nets)" "0 0" "nothing is left"

stack '        - exec: ["true"]
          bogus: 1'
run "$ITM_ENV" -f "$tmp/p/stack.yml" up --timeout 120
is "$rc" 3 "an unknown key in a step is a stack error (exit 3)"
like "$err" "unknown key 'bogus'" "... naming the key"
is "$(left)" 0 "... before anything is created"

stack '        - sql: good.sql' '        - sql: SELECT count(*) FROM t
          expect: "5"
        - sql: SELECT 41 + 1
          expect: "regex:^4[0-9]$"'
run "$ITM_ENV" -f "$tmp/p/stack.yml" up --timeout 120 --verify-data
is "$rc" 8 "up --verify-data with a mismatch: exit 8"
like "$out" 'FAILED db: sql "SELECT count\(\*\) FROM t"' "the failed check is named"
like "$out" 'expected: 5' "... with the expected output"
like "$out" 'actual: +2' "... and the actual one"
like "$out" 'ok +db: sql "SELECT 41 \+ 1"' "a regex check passes"
like "$err" '1 of 2 data checks failed' "the summary says how many failed"
run "$ITM_ENV" -f "$tmp/p/stack.yml" verify --data
is "$rc" 8 "verify --data on the namespace: exit 8 too"
like "$out" 'expected: 5' "... with expected and actual"
run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
