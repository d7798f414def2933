#!/bin/sh
# secrets.sh - x-itm.secrets: a PostgreSQL password generated per namespace
# (OpenSSL, alphanumeric, the length asked), used through interpolation by
# the db and by a client that connects with it; kept 0600 in the
# namespace's private state directory, the same for every later command;
# masked in seed output; another namespace gets another value.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq psql
need_fixtures busybox postgres

S="$ITM_SRCDIR/tests/data/secrets.yml"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

run "$ITM_ENV" -f "$S" up --timeout 150
is "$rc" 0 "up succeeds: the client connected with the generated password"
f="$ITM_ENV_STATE_DIR/$ITM_NS/secrets"
is "$(stat -c %a "$f" 2>/dev/null)" 600 "the secrets file is 0600"
is "$(stat -c %a "$ITM_ENV_STATE_DIR/$ITM_NS")" 700 "in a 0700 directory"
pw=$(sed -n 's/^PGPASS=//p' "$f")
like "$pw" '^[A-Za-z0-9]{20}$' "the secret is 20 alphanumeric characters"
unlike "$err" "$pw" "up's output does not show it"
inspect () { engine_get "/containers/$ITM_NS-$1-1/json"; }
PGP=$(inspect db | jq -r '.NetworkSettings.Ports["5432/tcp"][0].HostPort')
run psql "postgresql://app:$pw@127.0.0.1:$PGP/app" -Atc 'select 1'
is "$out" 1 "the db's password is the secret"
run psql "postgresql://app:wrong@127.0.0.1:$PGP/app" -Atc 'select 1'
ok "... and not something else" test "$rc" -ne 0
is "$(inspect client | jq -r '.Config.Env[] | select(startswith("DB_PASSWORD=")) | ltrimstr("DB_PASSWORD=")')" "$pw" \
  "the client service got the same value through interpolation"

run "$ITM_ENV" -f "$S" up --timeout 60
is "$rc" 0 "a second up on the namespace"
unlike "$err" 'created|started' "... changes nothing (the same secret: the same config hash)"
is "$(sed -n 's/^PGPASS=//p' "$f")" "$pw" "the secret is unchanged"

run "$ITM_ENV" -f "$S" config
is "$rc" 0 "config loads the stack with its secrets"
unlike "$out$err" "$pw" "... and never prints them"
like "$out" '\*\*\*\*\*\*\*\*' "... they are masked"
run "$ITM_ENV" -f "$S" config --hash db
is "$out" "db $(inspect db | jq -r '.Config.Labels["io.itm-env.config-hash"]')" \
  "config --hash matches the hash up stored (the same secret)"

SEED_EXIT=5 run "$ITM_ENV" -f "$S" seed db
is "$rc" 8 "a failing seed step: exit 8"
like "$err" 'password is \*\*\*\*\*\*\*\*' "its output is shown with the secret masked"
unlike "$err" "$pw" "the secret itself is not printed"

run "$ITM_ENV" -f "$S" ns create t1 --json
is "$rc" 0 "ns create with a generated password"
u=$(printf '%s' "$out" | jq -r .DB_URL)
run psql "$u" -Atc 'select current_database()'
is "$out" itm_t1 "its URL carries the password (connection variables are the exception to masking)"

# env: a data service's credentials and URL, as ns create gives them, for
# the seeded database, without x-itm.exports
run "$ITM_ENV" -f "$S" env --format json db
is "$rc" 0 "env db"
is "$(printf '%s' "$out" | jq -r '[.DB_HOST, .DB_PORT, .DB_DB, .DB_USER, .DB_PASSWORD] | join(" ")')" \
  "127.0.0.1 $PGP app app $pw" "env: DB_HOST, DB_PORT, DB_DB, DB_USER, DB_PASSWORD of the seeded database"
is "$(printf '%s' "$out" | jq -r .DB_URL)" "postgresql://app:$pw@127.0.0.1:$PGP/app" "env: DB_URL"
run psql "$(printf '%s' "$out" | jq -r .DB_URL)" -Atc 'select current_database()'
is "$out" app "... which connects to it"
run "$ITM_ENV" env -p "$ITM_NS"
( eval "$out"; is "$DB_USER:$DB_PASSWORD" "app:$pw" "env -p NS (the stack by its labels): the shell format too" ) >"$tmp/eval.tap"
cat "$tmp/eval.tap"
_tap_n=$((_tap_n + $(grep -c '^ok\|^not ok' "$tmp/eval.tap")))
_tap_failed=$((_tap_failed + $(grep -c '^not ok' "$tmp/eval.tap" || true)))

ITM_ENV_NAMESPACE=$ITM_NS-b "$ITM_ENV" -f "$S" seed >/dev/null 2>&1 || true  # loads the stack: makes its secrets
other=$(sed -n 's/^PGPASS=//p' "$ITM_ENV_STATE_DIR/$ITM_NS-b/secrets")
like "$other" '^[A-Za-z0-9]{20}$' "another namespace gets a secret too"
ok "... another one" test "$other" != "$pw"
rm -rf "$ITM_ENV_STATE_DIR/$ITM_NS-b"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
