#!/bin/sh
# up-demo.sh - the demo stack (real PostgreSQL, real Redis, a one-shot
# migrate, a busybox api gated on all three) comes up in dependency order;
# psql, redis-cli and wget reach it through ports published on 127.0.0.1;
# a second up changes nothing; a changed service is recreated with its
# dependents; --force-recreate renews every container; down from another
# directory removes it all; down of a namespace that does not exist
# succeeds.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq psql redis-cli
need_fixtures busybox postgres redis

# The demo stack, with a knob on migrate to change its configuration.
sed 's/echo migrating;/echo migrating ${MIGRATION:-one};/' "$ITM_SRCDIR/compose/demo.yml" >"$tmp/demo.yml"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

run "$ITM_ENV" -f "$tmp/demo.yml" up --json --timeout 100
is "$rc" 0 "up of the demo stack succeeds"
printf '%s\n' "$out" >"$tmp/events"
ev_time () { # SERVICE EVENT: the event's time in ns since the epoch
  _t=$(jq -r --arg s "$1" --arg e "$2" 'select(.service == $s and .event == $e) | .time' "$tmp/events" | head -1)
  [ -n "$_t" ] && date -d "$_t" +%s%N
}
inspect () { engine_get "/containers/$ITM_NS-$1-1/json"; }
ns_time () { date -d "$1" +%s%N; }

api_started=$(ns_time "$(inspect api | jq -r .State.StartedAt)")
db_ready=$(ev_time db ready)
cache_ready=$(ev_time cache ready)
migrate_finished=$(ns_time "$(inspect migrate | jq -r .State.FinishedAt)")
is "$(inspect migrate | jq -r '.State.Status + " " + (.State.ExitCode|tostring)')" "exited 0" \
  "migrate ran once and exited 0"
ok "db was ready before the api started" test "$db_ready" -lt "$api_started"
ok "cache was ready before the api started" test "$cache_ready" -lt "$api_started"
ok "migrate had exited before the api started (engine times)" test "$migrate_finished" -lt "$api_started"
for s in db cache api; do
  is "$(inspect $s | jq -r .State.Status)" running "$s is running"
done
like "$(jq -r 'select(.event == "all ready") | .event' "$tmp/events")" '^all ready$' "--json ends with all ready"

host_port () { # SERVICE PORT: the host port, checking the address is 127.0.0.1
  inspect "$1" | jq -r --arg p "$2/tcp" '.NetworkSettings.Ports[$p][0] | .HostIp + " " + .HostPort'
}
set -- $(host_port db 5432)
is "$1" 127.0.0.1 "db's port is published on 127.0.0.1"
run psql "postgresql://demo:demo@127.0.0.1:$2/demo" -Atc 'select 40 + 2'
is "$out" 42 "psql reaches PostgreSQL through the published port"
set -- $(host_port cache 6379)
run redis-cli -h 127.0.0.1 -p "$2" ping
is "$out" PONG "redis-cli reaches Redis through the published port"
set -- $(host_port api 8080)
run wget -q -O - "http://127.0.0.1:$2/"
is "$out" "itm-env demo api" "the api serves its config file (configs: as a file in the container)"

ids () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r '.[] | (.Names[0]|ltrimstr("/")) + " " + .Id' | sort; }
before=$(ids)
run "$ITM_ENV" -f "$tmp/demo.yml" up
is "$rc" 0 "up again succeeds"
is "$(ids)" "$before" "up of an unchanged stack changes nothing"
unlike "$err" 'created|started' "up of an unchanged stack creates and starts nothing"

MIGRATION=two run "$ITM_ENV" -f "$tmp/demo.yml" up
is "$rc" 0 "up of a changed stack succeeds"
after=$(ids)
for s in db cache; do
  is "$(printf '%s\n' "$after" | grep " " | grep "^$ITM_NS-$s-1 ")" "$(printf '%s\n' "$before" | grep "^$ITM_NS-$s-1 ")" \
    "$s unchanged: kept"
done
for s in migrate api; do
  isnt=$(printf '%s\n' "$before" | grep "^$ITM_NS-$s-1 " || true)
  now=$(printf '%s\n' "$after" | grep "^$ITM_NS-$s-1 " || true)
  ok "$s recreated (changed, or depends on a changed one)" test -n "$now" -a "$now" != "$isnt"
done
like "$(engine_get "/containers/$ITM_NS-migrate-1/logs?stdout=1" | tr -d '\000-\010')" 'migrating two' \
  "the recreated migrate ran the new command"

# --force-recreate: every container new, all gates passed again
before=$(ids)
MIGRATION=two run "$ITM_ENV" -f "$tmp/demo.yml" up --force-recreate
is "$rc" 0 "up --force-recreate succeeds"
after=$(ids)
same=$(printf '%s\n' "$before" "$after" | sort | uniq -d | wc -l)
is "$same" 0 "up --force-recreate: no container kept"
is "$(printf '%s\n' "$after" | wc -l)" 4 "... and all four are there again"

cd /
run "$ITM_ENV" down -p "$ITM_NS"
is "$rc" 0 "down -p NS from another directory succeeds"
like "$err" 'removed.*4 containers, 1 network,' "down says what it removed"
is "$(ids)" "" "nothing of the namespace is left"
run "$ITM_ENV" down -p "$ITM_NS"
is "$rc" 0 "down of a namespace that does not exist succeeds"
like "$err" 'does not exist' "and says so"
done_testing
