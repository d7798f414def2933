#!/bin/sh
# demo-test.sh - a stand-in for a project's integration tests against
# compose/demo.yml, run with the variables of `itm-env env` (itm-env run
# gives them): the api answers, the database takes a query.  The CI
# recipe of itm-env(1), EXAMPLES, runs it.
set -eu
curl -fsS "http://$API_HOST:$API_PORT/"
export PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=demo PGPASSWORD=demo
test "$(psql -Atc 'select 6 * 7' demo)" = 42
echo "integration tests passed"
