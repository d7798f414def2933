#!/bin/sh
# data-bench.sh ITM_ENV - `itm-env ns create` on a PostgreSQL database
# seeded with a schema and 10,000 rows (x-itm.data: postgres, a clone with
# CREATE DATABASE ... TEMPLATE) against seeding a new database from scratch
# with the same SQL files (psql through the published port), in the same
# run.  Prints the medians; asserts nothing (goal: < 300 ms, >= 5x).
set -eu
ITM_ENV=${1:-./itm-env}
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_N:-11}
NS=itmb-data-$$
tmp=$(mktemp -d)
ITM_ENV_STATE_DIR=$tmp/state; export ITM_ENV_STATE_DIR
trap '"$ITM_ENV" down -p "$NS" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
"$SRC/tests/fixtures/build.sh" postgres >/dev/null 2>&1 || true
mkdir -p "$tmp/p/seed"
cp "$SRC/tests/data/seed/schema.sql" "$tmp/p/seed/"
sh "$SRC/tests/data/seed/gen-rows.sh" 10000 >"$tmp/p/seed/rows.sql"
cat >"$tmp/p/stack.yml" <<'YML'
services:
  db:
    image: itm-fixture/postgres:15
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: app}
    ports: ["5432"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U app -d app"]
      interval: 10s
    x-itm:
      data: postgres
      seed:
        - sql: seed/schema.sql
        - sql: seed/rows.sql
YML
S=$tmp/p/stack.yml
"$ITM_ENV" -f "$S" -p "$NS" up --quiet --timeout 180
port=$("$ITM_ENV" -f "$S" -p "$NS" port db 5432 | sed 's/.*://')
URL="postgresql://app:app@127.0.0.1:$port"
ms () { date +%s%N; }
median () { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$tmp/clone"; : >"$tmp/seed"
i=0
while [ "$i" -lt "$N" ]; do
  i=$((i + 1))
  t0=$(ms); "$ITM_ENV" -f "$S" -p "$NS" ns create "b$i" >/dev/null; t1=$(ms)
  echo $(( (t1 - t0) / 1000000 )) >>"$tmp/clone"
  [ "$(psql "$URL/itm_b$i" -Atc 'select count(*) from items')" = 10000 ] || echo "b$i: wrong row count" >&2
  "$ITM_ENV" -p "$NS" ns drop "b$i"
  t0=$(ms)
  psql -q "$URL/postgres" -c "CREATE DATABASE r$i"
  psql -q -v ON_ERROR_STOP=1 "$URL/r$i" -f "$tmp/p/seed/schema.sql" -f "$tmp/p/seed/rows.sql" >/dev/null
  t1=$(ms)
  echo $(( (t1 - t0) / 1000000 )) >>"$tmp/seed"
  psql -q "$URL/postgres" -c "DROP DATABASE r$i"
done
c=$(median <"$tmp/clone"); s=$(median <"$tmp/seed")
echo "data-bench: $N runs, 10,000 rows"
echo "  ns create (clone, whole command):   median ${c} ms   [$(sort -n "$tmp/clone" | tr '\n' ' ')]"
echo "  reseed a new database from scratch: median ${s} ms   [$(sort -n "$tmp/seed" | tr '\n' ' ')]"
awk -v c="$c" -v s="$s" 'BEGIN { printf "  ratio: %.1fx faster (goal: >= 5x; ns create goal: < 300 ms)\n", s / c }'
