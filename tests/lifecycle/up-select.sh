#!/bin/sh
# up SERVICE... brings up those services and what they depend on; --no-deps
# only those; Compose's -d/--detach, --wait and --wait-timeout are accepted.
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
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
    depends_on: [db]
  other:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
  tool:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
    depends_on: [db]
    profiles: [tools]
YAML
services () {
  engine_get "/containers/json?all=1&filters=$(ns_filter)" \
    | jq -r 'map(.Labels["io.itm-env.service"] + ":" + .State) | sort | join(" ")'
}
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"

run "$ITM_ENV" up -q web
is "$rc" 0 "up web"
is "$(services)" "db:running web:running" "up web: web and its dependency db, not other"
id_db=$(rs_inspect db-1 .Id)
run "$ITM_ENV" up -q --no-deps other
is "$rc" 0 "up --no-deps other"
is "$(services)" "db:running other:running web:running" "up --no-deps other: other only"
run "$ITM_ENV" stop -q -t 0 db
run "$ITM_ENV" up -q --no-deps tool
is "$rc" 0 "up --no-deps tool: a service of a profile, named"
is "$(services)" "db:exited other:running tool:running web:running" "--no-deps: db left stopped"
run "$ITM_ENV" up -d --wait --wait-timeout 1m
is "$rc" 0 "up -d --wait --wait-timeout 1m"
is "$(services)" "db:running other:running tool:running web:running" \
  "all again (tool, of a profile not active, is kept as it is: not an orphan)"
run "$ITM_ENV" up -q nosuch
isnt0 () { [ "$1" != 0 ]; }
ok "up nosuch fails" isnt0 "$rc"
like "$err" "nosuch" "names the service"
run "$ITM_ENV" up --no-deps
is "$rc" 2 "--no-deps without services: usage"
run "$ITM_ENV" up --wait-timeout bogus
is "$rc" 2 "--wait-timeout bogus: usage"

run "$ITM_ENV" down --remove-orphans
is "$rc" 0 "down"
done_testing
