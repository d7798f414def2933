#!/bin/sh
# seed-ns.sh - seeds (sql, redis, copy, exec) run after readiness and before
# dependents start; 10,000 rows counted from the host; the data checks;
# `seed` again; eight data namespaces created at once, each a full and
# isolated copy; drop; down drops every data namespace.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq psql redis-cli
need_fixtures busybox postgres redis

cp -R "$ITM_SRCDIR/tests/data/." "$tmp/p/" 2>/dev/null || { mkdir -p "$tmp/p"; cp -R "$ITM_SRCDIR/tests/data/." "$tmp/p/"; }
chmod -R u+w "$tmp/p"
sh "$tmp/p/seed/gen-rows.sh" 10000 >"$tmp/p/seed/rows.sql"
S="$tmp/p/stack.yml"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

run "$ITM_ENV" -f "$S" up --json --timeout 150 --verify-data
is "$rc" 0 "up with seeds and --verify-data succeeds"
printf '%s\n' "$out" >"$tmp/events"
is "$(printf '%s\n' "$out" | grep -vc '^{')" 0 "up --json: stdout holds only JSON event lines"
ev () { jq -r --arg s "$1" --arg e "$2" 'select(.service == $s and .event == $e) | .time' "$tmp/events" | head -1; }
like "$(ev db seeded)" '^[0-9]' "db reports seeded"
like "$(ev cache seeded)" '^[0-9]' "cache reports seeded"
inspect () { engine_get "/containers/$ITM_NS-$1-1/json"; }
client_started=$(date -d "$(inspect client | jq -r .State.StartedAt)" +%s%N)
db_seeded=$(date -d "$(ev db seeded)" +%s%N)
ok "the db's seed finished before its dependent started" test "$db_seeded" -lt "$client_started"
like "$err" 'ok +db: sql' "--verify-data prints the sql check (on stderr with --json)"
like "$err" 'ok +cache: redis' "--verify-data prints the redis check"

port () { inspect "$1" | jq -r --arg p "$2/tcp" '.NetworkSettings.Ports[$p][0].HostPort'; }
PGP=$(port db 5432); RP=$(port cache 6379)
URL="postgresql://app:app@127.0.0.1:$PGP"
run psql "$URL/app" -Atc 'select count(*), sum(id) from items'
is "$out" "10000|50005000" "10,000 rows from the SQL files, counted through the published port"
run redis-cli -h 127.0.0.1 -p "$RP" lrange queue 0 -1
is "$(printf '%s\n' "$out" | tr '\n' ' ')" "a b c " "the redis seed file ran"
mode=$(curl -sS --unix-socket "$ITM_SOCK" -I "http://engine/containers/$ITM_NS-db-1/archive?path=/seed/extra/mark.sh" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-docker-container-path-stat" { print $2 }' | base64 -d | jq -r '.mode')
is "$(( ${mode:-0} & 511 ))" 493 "copy: the directory is in the container, modes kept (0755)"
run "$ITM_ENV" -f "$S" exec db cat /tmp/mark
is "$out" seeded "the exec step ran with its env"

run "$ITM_ENV" -f "$S" verify --data
is "$rc" 0 "verify --data passes on the seeded namespace"
is "$(printf '%s\n' "$out" | grep -c '^ok ')" 3 "... three checks"

run "$ITM_ENV" -f "$S" env --format json cache
is "$(printf '%s' "$out" | jq -r '.CACHE_DB + " " + .CACHE_URL')" "0 redis://127.0.0.1:$RP/0" \
  "env: a redis data service's database 0 and URL, as ns create gives them"

# seed again (redis: idempotent commands)
redis-cli -h 127.0.0.1 -p "$RP" set greeting changed >/dev/null
run "$ITM_ENV" -f "$S" seed cache
is "$rc" 0 "seed cache reruns the cache's seed"
is "$(redis-cli -h 127.0.0.1 -p "$RP" get greeting)" hello "the seed ran again"
run "$ITM_ENV" -f "$S" seed client
is "$rc" 2 "seed of a service without x-itm.seed is a usage error"

# eight at once
for i in 1 2 3 4 5 6 7 8; do
  ( "$ITM_ENV" -f "$S" ns create "w$i" --format dotenv >"$tmp/w$i.env" 2>"$tmp/w$i.err"; echo $? >"$tmp/w$i.rc" ) &
done
wait
okc=0; for i in 1 2 3 4 5 6 7 8; do [ "$(cat "$tmp/w$i.rc")" = 0 ] && okc=$((okc + 1)); cat "$tmp/w$i.err" >&2; done
is "$okc" 8 "eight ns create at once all succeed"
dbs=$(for i in 1 2 3 4 5 6 7 8; do grep '^DB_DB=' "$tmp/w$i.env"; done | sort -u | wc -l)
idx=$(for i in 1 2 3 4 5 6 7 8; do grep '^CACHE_DB=' "$tmp/w$i.env"; done | sort -u | wc -l)
is "$dbs $idx" "8 8" "eight distinct databases and Redis indexes"
full=0
for i in 1 2 3 4 5 6 7 8; do
  u=$(sed -n 's/^DB_URL=//p' "$tmp/w$i.env")
  [ "$(psql "$u" -Atc 'select count(*) from items')" = 10000 ] && full=$((full + 1))
done
is "$full" 8 "each data namespace has the 10,000 rows"
u1=$(sed -n 's/^DB_URL=//p' "$tmp/w1.env"); u2=$(sed -n 's/^DB_URL=//p' "$tmp/w2.env")
psql "$u1" -qc 'delete from items where id <= 500' >&2
is "$(psql "$u1" -Atc 'select count(*) from items') $(psql "$u2" -Atc 'select count(*) from items') $(psql "$URL/app" -Atc 'select count(*) from items')" \
  "9500 10000 10000" "a write in one is seen neither in another nor in the seeded database"
r1=$(sed -n 's/^CACHE_URL=//p' "$tmp/w1.env"); r2=$(sed -n 's/^CACHE_URL=//p' "$tmp/w2.env")
redis-cli -u "$r1" set greeting w1 >/dev/null
is "$(redis-cli -u "$r1" get greeting) $(redis-cli -u "$r2" get greeting)" "w1 hello" "Redis writes are isolated too"

# a session open on the seeded database (the template): ended, clone made
psql "$URL/app" -Atc 'select pg_sleep(60)' >/dev/null 2>&1 &
held=$!
sleep 1
t0=$(date +%s)
run "$ITM_ENV" -f "$S" ns create held --json
is "$rc" 0 "ns create with a session open on the template succeeds"
ok "... without PostgreSQL's 5 s wait" test $(( $(date +%s) - t0 )) -lt 5
is "$(psql "$(printf '%s' "$out" | jq -r .DB_URL)" -Atc 'select count(*) from items')" 10000 "... with the full data"
is "$(psql "$URL/app" -Atc "select datallowconn from pg_database where datname = 'app'")" t "... and connections to the template allowed again"
kill "$held" 2>/dev/null || true
wait "$held" 2>/dev/null || true
run "$ITM_ENV" ns drop held
is "$rc" 0 "drop it"

run "$ITM_ENV" -f "$S" ns create w1
is "$rc" 8 "creating an existing one is refused (exit 8)"
like "$err" "exists" "... saying it exists"
run "$ITM_ENV" -f "$S" ns create 'W-1'
is "$rc" 2 "a name that is not identifier-safe is refused"
run "$ITM_ENV" ns list --json
is "$(printf '%s' "$out" | jq -r '[.[].name] | join(" ")')" "w1 w2 w3 w4 w5 w6 w7 w8" "ns list --json lists the eight"

w3db=$(sed -n 's/^DB_DB=//p' "$tmp/w3.env"); w3ix=$(sed -n 's/^CACHE_DB=//p' "$tmp/w3.env")
run "$ITM_ENV" ns drop w3
is "$rc" 0 "ns drop succeeds"
is "$(psql "$URL/app" -Atc "select count(*) from pg_database where datname = '$w3db'")" 0 "the dropped database is gone from the server"
is "$(redis-cli -h 127.0.0.1 -p "$RP" -n "$w3ix" dbsize)" 0 "the dropped Redis index is empty"
run "$ITM_ENV" ns drop w3
is "$rc" 10 "dropping it again: not found (exit 10)"
run "$ITM_ENV" -f "$S" ns create w3
is "$rc" 0 "the name can be used again"

# Redis refuses clearly when no index is free (16 databases: 15 for data namespaces)
for i in 9 10 11 12 13 14 15 16; do "$ITM_ENV" -f "$S" ns create "x$i" >/dev/null 2>&1 || echo "x$i failed" >&2; done
run "$ITM_ENV" -f "$S" ns create x17
is "$rc" 8 "no free Redis index: exit 8"
like "$err" "no free Redis database index" "... with a clear message"
is "$(psql "$URL/app" -Atc "select count(*) from pg_database where datname = 'itm_x17'")" 0 "... and the PostgreSQL half was undone"

run "$ITM_ENV" down
is "$rc" 0 "down succeeds"
run "$ITM_ENV" ns list
is "$out" "" "down dropped every data namespace"
done_testing
