#!/bin/sh
# parity.sh - environment parity with x-itm.checks against the real
# PostgreSQL and Redis fixtures: server version, a setting, extensions,
# rows, a Redis setting, an exec, the image digest; passing with `up
# --check`, then failing (a wrong expected version, setting and digest)
# with `check` on the same namespace: exit 11, expected and actual shown.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures postgres redis
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

pg_id=$(engine_get /images/itm-fixture/postgres:15/json | jq -r .Id)
like "$pg_id" '^sha256:[0-9a-f]{64}$' "the postgres fixture's image id"

# stack FILE VERSION-REGEX MAXCONN POLICY DIGEST
stack () {
  cat >"$1" <<EOF2
services:
  db:
    image: itm-fixture/postgres:15
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: app}
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U app -d app"]
      interval: 1s
      retries: 300
    x-itm:
      checks:
        - name: pg version
          sql: "show server_version"
          expect: {match: "$2"}
        - name: max_connections
          sql: show max_connections
          expect: {equals: "$3"}
        - name: extensions present
          sql: "select extname from pg_extension order by extname"
          expect: {rows: [[plpgsql]]}
        - name: two rows
          sql: "select 1, 'a' union all select 2, 'b'"
          expect: {rows: [[1, a], [2, b]]}
        - name: image digest
          image: {digest: "$5"}
        - name: psql present
          exec: [sh, -c, "command -v psql"]
          expect: {exit_code: 0, match: "psql$"}
  cache:
    image: itm-fixture/redis:7
    command: ["redis-server", "--maxmemory-policy", "allkeys-lru"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 300
    x-itm:
      checks:
        - name: eviction policy
          redis: CONFIG GET maxmemory-policy
          expect: {equals: "$4"}
        - name: redis answers
          redis: PING
          expect: {equals: PONG}
EOF2
}
stack "$tmp/good.yml" '^15\\.' 100 allkeys-lru "$pg_id"
stack "$tmp/bad.yml" '^16\\.' 200 noeviction "sha256:0000000000000000000000000000000000000000000000000000000000000000"

run "$ITM_ENV" -f "$tmp/good.yml" up -q --check
is "$rc" 0 "up --check: every parity check passes"
like "$out" '^ok +db: pg version \(sql' "pg version passes"
like "$out" '^ok +cache: eviction policy \(redis' "redis CONFIG GET passes"
like "$out" '^ok +db: image digest \(image' "image digest passes"
like "$out" '8 checks, 8 passed, 0 failed' "8 passed"

run "$ITM_ENV" -f "$tmp/bad.yml" check
is "$rc" 11 "check with wrong expectations: exit 11"
like "$out" '^FAILED db: pg version' "a wrong version fails"
like "$out" "output: expected to match '\\^16\\\\\\.', got 15\\." "version: expected and actual"
like "$out" 'output: expected 200, got 100' "max_connections: expected and actual"
like "$out" 'output: expected noeviction, got allkeys-lru' "redis setting: expected and actual"
like "$out" "image digest: expected sha256:0+, got $pg_id" "digest: expected and actual"
like "$out" '^ok +db: two rows' "rows still pass"
like "$out" '8 checks, 4 passed, 4 failed' "4 failed"

run "$ITM_ENV" -f "$tmp/bad.yml" check cache --json
is "$rc" 11 "check SERVICE: only its checks"
is "$(printf '%s' "$out" | jq -r '[.checks[].service] | unique | join(",")')" cache "only cache's"

run "$ITM_ENV" -f "$tmp/good.yml" down -q
is "$rc" 0 "down"
done_testing
